"""The synthetic data generator: calibration to the DfE 2023/24 figures, determinism, valid
registers and pupils, timing of holidays, and file round trips (pure; no database).

Absence is measured here from the generated strings with ``casework.registers.codes``, not from
the generator's own counts."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.registers.codes import is_absence, is_possible, is_unauthorised
from casework.registers.csv_marks import load_mapping, parse_csv
from casework.registers.ctf import default_ctf_versions, lay_attendance_marks, parse_ctf
from casework.registers.marks import CHAR_TO_CODE, NO_MARK, MarkString, session_index
from casework.synthetic.absence import (
    MIXTURE_2023_24,
    NATIONAL_2023_24,
    absence_rates,
    absent_sessions,
    code_shares,
    fit_mixture,
    generate_marks,
    measure,
)
from casework.synthetic.files import (
    ctf_version,
    daily_marks,
    write_county,
    write_school_csv,
    write_school_ctf,
    year_totals,
)
from casework.synthetic.population import (
    NC_YEARS,
    SyntheticSchool,
    birth_range,
    la_term_calendar,
    make_pupils,
    nc_year_for,
    school_sizes,
    synthetic_schools,
)
from casework.upn import upn_problem

YEAR = 2024
CALENDAR = la_term_calendar("340", "Synthetic Test School")  # Knowsley's shipped calendar
INDEX = session_index(CALENDAR, YEAR)
T = NATIONAL_2023_24


def _school(phase: str, estab: str, urn: str) -> SyntheticSchool:
    return SyntheticSchool(urn, "340", estab, f"Synthetic {phase} {estab}", phase, CALENDAR)


SCHOOLS = (
    _school("primary", "2001", "980001"),
    _school("secondary", "4001", "980002"),
    _school("special", "7001", "980003"),
)
# 2,000 pupils: roughly the national mix of phases.
PUPILS = [
    p
    for school, n in zip(SCHOOLS, (1150, 810, 40), strict=True)
    for p in make_pupils(school, n, academic_year=YEAR, seed=11)
]
MARKS = generate_marks(INDEX, PUPILS, seed=7)

# How each stored character counts, from casework.registers.codes.
_KIND = {
    char: (
        "not possible"
        if not is_possible(code)
        else "unauthorised"
        if is_unauthorised(code)
        else "authorised"
        if is_absence(code)
        else "attended"
    )
    for char, code in CHAR_TO_CODE.items()
}


def _figures(marks: list[str]) -> dict[str, float]:
    totals: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    persistent = severe = 0
    for register in marks:
        counts = Counter(register)
        kinds: Counter[str] = Counter()
        for char, n in counts.items():
            if char != NO_MARK:
                kinds[_KIND[char]] += n
        possible = kinds["attended"] + kinds["authorised"] + kinds["unauthorised"]
        absent = kinds["authorised"] + kinds["unauthorised"]
        persistent += possible > 0 and absent / possible >= 0.10
        severe += possible > 0 and absent / possible >= 0.50
        totals.update(kinds)
        chars.update(counts)
    possible = totals["attended"] + totals["authorised"] + totals["unauthorised"]
    absent = totals["authorised"] + totals["unauthorised"]
    return {
        "overall": absent / possible,
        "authorised": totals["authorised"] / possible,
        "unauthorised": totals["unauthorised"] / possible,
        "persistent": persistent / len(marks),
        "severe": severe / len(marks),
        "illness_share": chars[CHAR_TO_CODE_INV["I"]] / absent,
        "holiday": chars[CHAR_TO_CODE_INV["G"]] / possible,
    }


CHAR_TO_CODE_INV = {code: char for char, code in CHAR_TO_CODE.items()}


# --- the fitted distribution ------------------------------------------------------------------


def test_the_stated_mixture_gives_the_target_moments():
    m = MIXTURE_2023_24
    # By sampling the stated parameters (independently of the generator's integration).
    rng = np.random.default_rng(2024)
    n = 2_000_000
    chronic = rng.random(n) < m.chronic_weight
    rates = np.where(chronic, rng.beta(*m.chronic, n), rng.beta(*m.main, n))
    assert abs(rates.mean() - T.overall) < 0.003
    assert abs((rates >= 0.10).mean() - T.persistent) < 0.003
    assert abs((rates >= 0.50).mean() - T.severe) < 0.003
    # And by numerical integration, to much tighter limits.
    assert m.mean() == pytest.approx(T.overall, abs=1e-6)
    assert m.tail(0.10) == pytest.approx(T.persistent, abs=1e-5)
    assert m.tail(0.50) == pytest.approx(T.severe, abs=1e-5)


def test_the_fit_reproduces_the_hard_coded_parameters():
    fitted = fit_mixture(T.overall, T.persistent, T.severe)
    assert fitted.chronic == MIXTURE_2023_24.chronic
    assert fitted.chronic_weight == pytest.approx(MIXTURE_2023_24.chronic_weight, rel=1e-4)
    assert fitted.main == pytest.approx(MIXTURE_2023_24.main, rel=1e-4)


def test_code_shares_follow_the_published_reasons():
    shares = code_shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert 0.45 < shares["I"] < 0.52  # illness: about half of all absence
    assert 0.2 < shares["O"] < 0.27  # unauthorised other: about a quarter
    assert 0.06 < shares["G"] < 0.08  # holidays not granted: about 7 %
    unauthorised = shares["O"] + shares["G"] + shares["N"] + shares["U"]
    assert unauthorised == pytest.approx(T.unauthorised / (T.authorised + T.unauthorised))


@settings(max_examples=200, deadline=None)
@given(
    rates=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50),
    possible=st.integers(0, 400),
)
def test_counts_are_on_the_same_side_of_the_thresholds_as_the_rates(rates, possible):
    k = absent_sessions(np.array(rates), possible)
    assert ((k >= 0) & (k <= possible)).all()
    # With one or two possible sessions, one missed session is both 10 % and 50 %.
    if possible >= 3:
        for rate, missed in zip(rates, k, strict=True):
            assert (missed / possible >= 0.10) == (rate >= 0.10)
            assert (missed / possible >= 0.50) == (rate >= 0.50)
            assert abs(missed - rate * possible) <= 1


def test_stratified_rates_hit_pa_and_severe_for_any_n():
    for n in (500, 1234, 5000):
        rates = absence_rates([object()] * n, seed=n)
        assert abs((rates >= 0.10).mean() - T.persistent) <= 1 / n + 1e-12
        assert abs((rates >= 0.50).mean() - T.severe) <= 1 / n + 1e-12
        assert abs(rates.mean() - T.overall) < 0.004


# --- calibration on generated registers -------------------------------------------------------


def test_two_thousand_pupils_on_knowsley_2024_25_are_calibrated():
    got = _figures(MARKS)
    assert abs(got["overall"] - T.overall) < 0.005
    assert abs(got["persistent"] - T.persistent) < 0.01
    assert abs(got["severe"] - T.severe) < 0.01
    assert 0.40 <= got["illness_share"] <= 0.60
    assert abs(got["unauthorised"] - T.unauthorised) < 0.007
    assert abs(got["authorised"] - T.authorised) < 0.007
    assert abs(got["holiday"] - T.unauthorised_holiday) < 0.002


def test_measure_agrees_with_counting_by_codes():
    got, realised = _figures(MARKS), measure(MARKS)
    assert realised.pupils == len(MARKS)
    assert realised.overall_rate == pytest.approx(got["overall"])
    assert realised.unauthorised_rate == pytest.approx(got["unauthorised"])
    assert realised.persistent_rate == pytest.approx(got["persistent"])
    assert realised.severe_rate == pytest.approx(got["severe"])


def test_fsm_sen_and_secondary_pupils_miss_more():
    def rate(chosen):
        picked = [m for p, m in zip(PUPILS, MARKS, strict=True) if chosen(p)]
        return _figures(picked)["overall"]

    assert rate(lambda p: p.fsm) > 1.4 * rate(lambda p: not p.fsm)
    assert rate(lambda p: p.ehc_plan or p.sen_support) > rate(
        lambda p: not (p.ehc_plan or p.sen_support)
    )
    assert rate(lambda p: p.phase == "secondary") > rate(lambda p: p.phase == "primary")


def test_the_same_seed_gives_the_same_registers_and_another_seed_others():
    assert generate_marks(INDEX, PUPILS[:300], seed=7) == generate_marks(
        INDEX, PUPILS[:300], seed=7
    )
    assert generate_marks(INDEX, PUPILS[:300], seed=8) != generate_marks(
        INDEX, PUPILS[:300], seed=7
    )
    # Chunk size and worker count do not change anything but the streams' boundaries.
    once = generate_marks(INDEX, PUPILS[:300], seed=7, chunk=100, workers=1)
    assert once == generate_marks(INDEX, PUPILS[:300], seed=7, chunk=100, workers=3)


def test_every_register_fits_the_index_and_holds_only_stored_characters():
    allowed = set(CHAR_TO_CODE) | {NO_MARK}
    for register in MARKS:
        assert len(register) == len(INDEX)
        assert set(register) <= allowed
        assert NO_MARK not in register  # a whole year is marked
        assert all(is_possible(CHAR_TO_CODE[c]) for c in set(register))
    MarkString(MARKS[0])
    assert {"/", "\\", "I", "O", "G", "M"} <= set("".join(MARKS))


def test_sessions_after_as_at_are_unmarked_and_the_rest_calibrated():
    as_at = date(2025, 2, 14)
    marks = generate_marks(INDEX, PUPILS, seed=3, as_at=as_at)
    cut = sum(1 for day, _ in INDEX.sessions if day <= as_at)
    assert all(m[cut:] == NO_MARK * (len(INDEX) - cut) for m in marks)
    assert all(NO_MARK not in m[:cut] for m in marks)
    got = _figures(marks)
    assert abs(got["overall"] - T.overall) < 0.005
    assert abs(got["persistent"] - T.persistent) < 0.01
    # The last days' reasons are not all known yet.
    assert any("N" in m[cut - 6 : cut] for m in marks)


def test_a_register_marked_for_three_days_is_still_mostly_present():
    marks = generate_marks(INDEX, PUPILS, seed=5, as_at=date(2024, 9, 4))
    cut = sum(1 for day, _ in INDEX.sessions if day <= date(2024, 9, 4))
    assert cut == 6
    chars = Counter("".join(m[:cut] for m in marks))
    assert (chars["/"] + chars["\\"] + chars["L"]) / sum(chars.values()) > 0.85
    assert abs(_figures(marks)["persistent"] - T.persistent) < 0.01


def test_upns_are_valid_and_unique_and_ages_fit_nc_years():
    schools = synthetic_schools("340", 12, academic_year=YEAR)
    sizes = school_sizes(schools, 6000, seed=1)
    assert sum(sizes) == 6000
    pupils = [
        p
        for school, n in zip(schools, sizes, strict=True)
        for p in make_pupils(school, n, academic_year=YEAR, seed=1)
    ]
    assert len({p.upn for p in pupils}) == len(pupils)
    assert all(upn_problem(p.upn) is None for p in pupils)
    for p in pupils:
        first, last = birth_range(p.nc_year, YEAR)
        assert first <= p.date_of_birth <= last
        assert nc_year_for(p.date_of_birth, YEAR) == p.nc_year
        assert p.nc_year in NC_YEARS[p.phase]
        assert p.sex in {"M", "F"}
        assert p.address.postcode.startswith("ZZ99 ")
        assert 1 <= len(p.contacts) <= 2
        assert all(c.email is None or c.email.endswith("@example.net") for c in p.contacts)
    # Reception children in 2024/25 were born from 1 Sep 2019 to 31 Aug 2020.
    assert birth_range(0, 2024) == (date(2019, 9, 1), date(2020, 8, 31))


def test_a_school_of_more_than_a_thousand_in_one_year_still_gets_unique_upns():
    school = _school("secondary", "4999", "980999")
    pupils = make_pupils(school, 6000, academic_year=YEAR, seed=2)  # 1,200 a year group
    assert len({p.upn for p in pupils}) == 6000
    assert all(upn_problem(p.upn) is None for p in pupils)


def test_characteristics_are_near_national_prevalence():
    school = _school("primary", "2999", "980998")
    pupils = make_pupils(school, 5000, academic_year=YEAR, seed=3)
    share = {k: np.mean([getattr(p, k) for p in pupils]) for k in ("fsm", "sen_support", "eal")}
    assert 0.21 < share["fsm"] < 0.27
    assert 0.10 < share["sen_support"] < 0.16
    assert 0.20 < share["eal"] < 0.26
    assert np.mean([p.ehc_plan for p in pupils]) < 0.04
    special = make_pupils(SCHOOLS[2], 300, academic_year=YEAR, seed=3)
    assert np.mean([p.ehc_plan for p in special]) > 0.85


# --- timing within the year -------------------------------------------------------------------


def _near_breaks(days: int = 5) -> np.ndarray:
    """Sessions within ``days`` school days of a holiday (6+ calendar days) or the year's ends."""
    dates = sorted({d for d, _ in INDEX.sessions})
    near_day: set[date] = set(dates[:days]) | set(dates[-days:])
    for i in range(1, len(dates)):
        if dates[i] - dates[i - 1] >= timedelta(days=6):
            near_day |= set(dates[max(0, i - days) : i]) | set(dates[i : i + days])
    return np.array([d in near_day for d, _ in INDEX.sessions])


def test_holidays_not_granted_sit_next_to_half_terms_and_term_ends():
    grid = np.array([list(m) for m in MARKS])
    holiday = grid == CHAR_TO_CODE_INV["G"]
    near = _near_breaks()
    near_rate = holiday[:, near].mean()
    elsewhere_rate = holiday[:, ~near].mean()
    assert near_rate > 5 * max(elsewhere_rate, 1e-6)
    # Blocks of 3 to 5 days: every pupil's G sessions are one run of 6 to 10 sessions.
    for register in MARKS:
        if "G" in register:
            run = register[register.index("G") : register.rindex("G") + 1]
            assert set(run) == {"G"} and 6 <= len(run) <= 10


def test_illness_peaks_in_december_and_january():
    grid = np.array([list(m) for m in MARKS])
    illness = grid == CHAR_TO_CODE_INV["I"]
    months = np.array([d.month for d, _ in INDEX.sessions])
    autumn_start = illness[:, (months == 9) | (months == 10)].mean()
    assert illness[:, months == 12].mean() > 1.15 * autumn_start
    assert illness[:, months == 1].mean() > 1.1 * autumn_start


def test_absence_mostly_comes_in_whole_days():
    whole = part = 0
    for register in MARKS[:500]:
        for i in range(0, len(register) - 1, 2):  # Knowsley's index: AM, PM every day
            am, pm = _KIND[register[i]], _KIND[register[i + 1]]
            absent = (am in ("authorised", "unauthorised"), pm in ("authorised", "unauthorised"))
            whole += all(absent)
            part += any(absent) and not all(absent)
    assert whole > 2 * part


# --- files ------------------------------------------------------------------------------------


def test_ctf_version_is_the_newest_accepted():
    assert ctf_version(date(2026, 11, 23)) == "26.0"
    assert ctf_version(date(2024, 4, 12)) == "24.0"
    assert ctf_version(date(2024, 4, 12)) in default_ctf_versions(date(2024, 4, 12))


def test_a_school_ctf_parses_back_with_the_same_pupils_and_marks():
    school = SCHOOLS[1]
    pupils = [p for p in PUPILS if p.school_urn == school.urn][:150]
    marks = [m for p, m in zip(PUPILS, MARKS, strict=True) if p.school_urn == school.urn][:150]
    data = write_school_ctf(school, pupils, marks, INDEX, academic_year=YEAR)
    ctf, problems = parse_ctf(data, name="synthetic.xml")
    assert problems == []
    assert ctf.header.supplier == "Casework synthetic data"
    assert (ctf.header.source_la, ctf.header.source_estab) == ("340", "4001")
    assert ctf.header.academic_year == YEAR
    assert len(ctf.pupils) == len(pupils)
    for read, pupil, register in zip(ctf.pupils, pupils, marks, strict=True):
        assert (read.upn, read.surname, read.forename) == (
            pupil.upn,
            pupil.surname,
            pupil.forename,
        )
        assert (read.date_of_birth, read.nc_year, read.fsm) == (
            pupil.date_of_birth,
            pupil.nc_year,
            pupil.fsm,
        )
        (year,) = read.attendance
        assert (year.possible, year.attended, year.authorised, year.unauthorised) == year_totals(
            register
        )
        laid, lay_problems = lay_attendance_marks(year, INDEX)
        assert lay_problems == []
        assert laid.chars == register


def test_a_part_year_ctf_keeps_the_unmarked_tail_unmarked():
    as_at = date(2024, 12, 6)
    pupils = PUPILS[:40]
    marks = generate_marks(INDEX, pupils, seed=4, as_at=as_at)
    data = write_school_ctf(SCHOOLS[0], pupils, marks, INDEX, academic_year=YEAR)
    ctf, problems = parse_ctf(data)
    assert problems == []
    for read, register in zip(ctf.pupils, marks, strict=True):
        laid, lay_problems = lay_attendance_marks(read.attendance[0], INDEX)
        assert lay_problems == [] and laid.chars == register


def test_a_school_csv_parses_back_to_the_same_marks():
    pupils, marks = PUPILS[:60], MARKS[:60]
    data = write_school_csv(SCHOOLS[0], pupils, marks, INDEX)
    rows, problems = parse_csv(data, load_mapping("canonical"))
    assert problems == []
    assert len(rows) == 60 * len(INDEX)
    position = {key: i for i, key in enumerate(INDEX.sessions)}
    rebuilt = {p.upn: [NO_MARK] * len(INDEX) for p in pupils}
    for row in rows:
        rebuilt[row.upn][position[(row.day, row.session)]] = MarkString.of([row.code]).chars
    assert ["".join(rebuilt[p.upn]) for p in pupils] == marks


def test_daily_marks_are_that_days_columns():
    day = date(2025, 1, 15)
    rows = daily_marks(INDEX, PUPILS, day, marks=MARKS)
    assert len(rows) == 2 * len(PUPILS)
    am, pm = INDEX.position(day, "AM"), INDEX.position(day, "PM")
    for i, pupil in enumerate(PUPILS[:100]):
        assert rows[2 * i].upn == pupil.upn and rows[2 * i].session == "AM"
        assert MarkString.of([rows[2 * i].code]).chars == MARKS[i][am]
        assert MarkString.of([rows[2 * i + 1].code]).chars == MARKS[i][pm]
    assert [r.line for r in rows[:3]] == [1, 2, 3]
    assert daily_marks(INDEX, PUPILS[:5], date(2024, 10, 29), marks=MARKS[:5]) == []  # half term
    small = generate_marks(INDEX, PUPILS[:20], seed=7)
    assert daily_marks(INDEX, PUPILS[:20], day, seed=7) == daily_marks(
        INDEX, PUPILS[:20], day, marks=small
    )


def test_write_county_writes_a_file_per_school_and_measures_the_county(tmp_path):
    schools = synthetic_schools("340", 3, academic_year=YEAR)
    summary = write_county(
        tmp_path, schools, [200, 150, 250], 5, date(2025, 7, 18), formats={"ctf", "csv"}
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [f"340{s.estab}_marks.csv" for s in schools]
        + [f"340{s.estab}_CTF_340XXXX_001.XML" for s in schools]
    )
    assert summary.pupils == 600 and summary.schools == 3
    assert summary.academic_year == YEAR
    assert abs(summary.realised.overall_rate - T.overall) < 0.01
    assert abs(summary.realised.persistent_rate - T.persistent) < 0.01
    ctf, problems = parse_ctf(tmp_path.joinpath(names[0]).read_bytes())
    assert problems == [] and len(ctf.pupils) == 200


def test_the_cli_writes_files_and_prints_the_figures(tmp_path):
    from api.cli import main

    result = CliRunner().invoke(
        main,
        [
            "synthetic",
            "county",
            "--pupils",
            "800",
            "--schools",
            "2",
            "--year",
            "2024",
            "--as-at",
            "2025-07-18",
            "--out",
            str(tmp_path),
            "--format",
            "ctf",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "overall absence" in result.output and "persistent (>= 10 %)" in result.output
    assert "20.0%" in result.output  # the PA target column
    assert len(list(tmp_path.glob("*.XML"))) == 2
