"""The attendance flags, each with the sessions that produced it, on the real Knowsley calendar.

Knowsley term dates (CALENDARS.md), with every school week numbered as the threshold counts them
(a Monday-to-Sunday week with at least one session; holiday weeks are skipped):

- 2023/24 summer: Mon 15 Apr - Fri 19 Jul 2024, half term 27-31 May. Its last weeks: 17 Jun,
  24 Jun, 1 Jul, 8 Jul, 15 Jul 2024.
- 2024/25 autumn: Mon 2 Sep - Fri 20 Dec 2024, half term 28 Oct - 1 Nov. Weeks: 2 Sep (1),
  9 Sep (2), 16 Sep (3), 23 Sep (4), 30 Sep (5), 7 Oct (6), 14 Oct (7), 21 Oct (8), [28 Oct: half
  term, no sessions], 4 Nov (9), 11 Nov (10), 18 Nov (11), 25 Nov (12), 2 Dec (13), 9 Dec (14),
  16 Dec (15).
- 2024/25 spring: Mon 6 Jan - Fri 4 Apr 2025, half term 17-21 Feb. Weeks: 6 Jan (16), 13 Jan (17),
  20 Jan (18), 27 Jan (19), 3 Feb (20), 10 Feb (21), [17 Feb: half term], 24 Feb (22), ...

Each register below is a full register (present every session of the school) with the named
sessions overridden, so the pupil's school weeks are the school's.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.analytics.flags import (
    BELOW_95,
    LATE,
    NEGLECT,
    PERSISTENT,
    SEVERE,
    THRESHOLD,
    TREND,
    absence_runs,
    best_threshold_window,
    decision_flags,
    flag_keys,
    flag_titles,
    mark_kind,
    proposed_stage,
    pupil_flags,
    threshold_windows,
    trend,
)
from casework.analytics.timeline import SessionMark, Timeline, timeline_of
from casework.calendars import AcademicYear, TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import DateRange, Term
from casework.registers.marks import session_index
from config.profiles import load_profile

SHIPPED = la_calendar("knowsley")
OAKFIELD = TermCalendar("Oakfield Primary", SHIPPED.years, pattern=SHIPPED.pattern)
# An academy with a two-week October half term in 2024 (21 Oct - 1 Nov); otherwise the LA's.
RIVERSIDE = OAKFIELD.replace(
    school="Riverside Academy",
    own_terms=(
        AcademicYear(
            2024,
            (
                Term(
                    "autumn",
                    date(2024, 9, 2),
                    date(2024, 12, 20),
                    DateRange(date(2024, 10, 21), date(2024, 11, 1)),
                ),
                Term(
                    "spring",
                    date(2025, 1, 6),
                    date(2025, 4, 4),
                    DateRange(date(2025, 2, 17), date(2025, 2, 21)),
                ),
                Term(
                    "summer",
                    date(2025, 4, 22),
                    date(2025, 7, 22),
                    DateRange(date(2025, 5, 26), date(2025, 5, 30)),
                ),
            ),
        ),
    ),
)
NATIONAL = load_profile("national").analytics
NO_N = msgspec.structs.replace(NATIONAL, counted_codes=("G", "O", "U"))
SCHOOLS = {1: OAKFIELD, 2: RIVERSIDE}
START = date(2024, 9, 2)


def register(
    first: date,
    last: date,
    overrides: dict | None = None,
    *,
    school_id: int = 1,
) -> list[SessionMark]:
    """A full register at the school from ``first`` to ``last``: present (/ AM, \\ PM) except
    ``overrides``, keyed by a date (both sessions) or (date, "AM"|"PM")."""
    calendar = SCHOOLS[school_id]
    overrides = overrides or {}
    marks = []
    year = first.year if first.month >= 8 else first.year - 1
    while date(year, 8, 1) <= last:
        for day, name in session_index(calendar, year).sessions:
            if first <= day <= last:
                code = overrides.get((day, name), overrides.get(day, "/" if name == "AM" else "\\"))
                if code is not None:
                    marks.append(SessionMark(day, name, code, school_id, calendar.school))
        year += 1
    return marks


def timeline(*registers: list[SessionMark]) -> Timeline:
    return timeline_of(7, [m for r in registers for m in r])


def days(first: date, count: int, calendar: TermCalendar = OAKFIELD) -> list[date]:
    """``count`` school days from ``first`` on (inclusive)."""
    found, day = [], first
    while len(found) < count:
        if calendar.is_school_day(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def sessions(day: date, count: int, code: str, calendar: TermCalendar = OAKFIELD) -> dict:
    """``count`` sessions of ``code`` from ``day`` on, AM then PM, school days only."""
    out: dict = {}
    for d in days(day, (count + 1) // 2, calendar):
        for name in ("AM", "PM"):
            if len(out) < count:
                out[(d, name)] = code
    return out


def keys(flags) -> set[str]:
    return {f.key for f in flags}


def flag(flags, key):
    (found,) = [f for f in flags if f.key == key]
    return found


# --- the penalty-notice threshold -------------------------------------------------------------

THRESHOLD_CASES = [
    pytest.param(
        # 1 on Mon 9 Sep (week 2) + 9 in the week of 18 Nov (week 11). The 10 school weeks ending
        # 18 Nov are weeks 2-11: 9 Sep, 16, 23, 30 Sep, 7, 14, 21 Oct, [28 Oct half term
        # skipped], 4, 11, 18 Nov. So both are in one window: 10, met. (By calendar weeks, 9 Sep
        # to 18 Nov is 11 weeks: the half term stretches the window.)
        {**sessions(date(2024, 9, 9), 1, "O"), **sessions(date(2024, 11, 18), 9, "O")},
        date(2024, 9, 2),
        date(2024, 11, 29),
        10,
        True,
        id="october-half-term-stretches-the-window",
    ),
    pytest.param(
        # 1 on Tue 3 Sep (week 1) + 9 in the week of 18 Nov (week 11): weeks 1-11 are 11 school
        # weeks, so no window holds both. Best: 9, not met.
        {**sessions(date(2024, 9, 3), 1, "O"), **sessions(date(2024, 11, 18), 9, "O")},
        date(2024, 9, 2),
        date(2024, 11, 29),
        9,
        False,
        id="october-half-term-one-week-too-far",
    ),
    pytest.param(
        # 4 in the week of 2 Dec (13) + 6 in the week of 10 Feb (21). The 10 school weeks ending
        # 10 Feb: 25 Nov, 2, 9, 16 Dec, [23 and 30 Dec: Christmas], 6, 13, 20, 27 Jan, 3, 10 Feb
        # (weeks 12-21). Both in: 10, met.
        {**sessions(date(2024, 12, 2), 4, "G"), **sessions(date(2025, 2, 10), 6, "O")},
        date(2024, 9, 2),
        date(2025, 2, 14),
        10,
        True,
        id="across-christmas-met",
    ),
    pytest.param(
        # 4 in the week of 18 Nov (11) + 6 in the week of 10 Feb (21): weeks 11-21 are 11 school
        # weeks. Window ending 10 Feb starts 25 Nov (6); ending 3 Feb starts 18 Nov (4). Not met.
        {**sessions(date(2024, 11, 18), 4, "G"), **sessions(date(2025, 2, 10), 6, "O")},
        date(2024, 9, 2),
        date(2025, 2, 14),
        6,
        False,
        id="across-christmas-not-met",
    ),
    pytest.param(
        # RULES.md §2.1's example: 2 in the summer term, 8 in the autumn. 2 G on Mon 17 Jun 2024
        # + 8 O from Mon 30 Sep 2024. The 10 school weeks ending 30 Sep 2024: 2, 9, 16, 23, 30
        # Sep (5) and, across the summer holiday, 15, 8, 1 Jul, 24, 17 Jun 2024 (5). Met, with a
        # window beginning before the range start (2 Sep 2024).
        {**sessions(date(2024, 6, 17), 2, "G"), **sessions(date(2024, 9, 30), 8, "O")},
        date(2024, 9, 2),
        date(2024, 10, 4),
        10,
        True,
        id="across-the-summer-year-boundary",
    ),
    pytest.param(
        # The same with the 2 G on Mon 10 Jun 2024: one week before the window's first week
        # (17 Jun). 8, not met.
        {**sessions(date(2024, 6, 10), 2, "G"), **sessions(date(2024, 9, 30), 8, "O")},
        date(2024, 9, 2),
        date(2024, 10, 4),
        8,
        False,
        id="across-the-summer-one-week-too-far",
    ),
    pytest.param(
        # 9 O in the week of 7 Oct: 9 is one short.
        sessions(date(2024, 10, 7), 9, "O"),
        date(2024, 9, 2),
        date(2024, 10, 31),
        9,
        False,
        id="nine-sessions",
    ),
    pytest.param(
        # 10 U (arrived after the register closed) in the weeks of 16 and 23 Sep: U counts.
        {**sessions(date(2024, 9, 16), 5, "U"), **sessions(date(2024, 9, 23), 5, "U")},
        date(2024, 9, 2),
        date(2024, 9, 27),
        10,
        True,
        id="late-after-close-counts",
    ),
    pytest.param(
        # Authorised absence never counts: 10 I.
        sessions(date(2024, 9, 16), 10, "I"),
        date(2024, 9, 2),
        date(2024, 9, 27),
        0,
        False,
        id="illness-does-not-count",
    ),
]


@pytest.mark.parametrize(("overrides", "start", "as_at", "best", "met"), THRESHOLD_CASES)
def test_threshold_on_the_knowsley_calendar(overrides, start, as_at, best, met):
    pupil = timeline(register(date(2024, 4, 15), as_at, overrides))
    flags = pupil_flags(pupil, start=start, as_at=as_at, rules=NATIONAL)
    window = best_threshold_window(pupil, NATIONAL, as_at=as_at, start=start)
    assert (window.count if window else 0) == best
    assert (THRESHOLD in keys(flags)) is met
    if met:
        found = flag(flags, THRESHOLD)
        assert len(found.sessions) == best == found.figures["count"]
        assert {(m.day, m.session) for m in found.sessions} == set(overrides)
        assert found.figures["school_weeks"] == 10
        assert f"{best} unauthorised sessions (G, N, O, U)" in found.explanation
        assert "the threshold is 10" in found.explanation


def test_the_half_term_case_explains_its_window():
    as_at = date(2024, 11, 29)
    overrides = {**sessions(date(2024, 9, 9), 1, "O"), **sessions(date(2024, 11, 18), 9, "O")}
    found = flag(
        pupil_flags(
            timeline(register(START, as_at, overrides)), start=START, as_at=as_at, rules=NATIONAL
        ),
        THRESHOLD,
    )
    assert found.explanation == (
        "10 unauthorised sessions (G, N, O, U) in the 10 school weeks from Mon 9 Sep 2024 to "
        "Fri 22 Nov 2024; the threshold is 10"
    )
    assert found.figures["first_week"] == "2024-09-09"
    assert found.figures["last_week"] == "2024-11-18"


def test_the_latest_window_with_the_most_is_listed():
    # 10 O in the week of 9 Sep (week 2): the 10 windows ending at weeks 2-11 (9 Sep .. 18 Nov)
    # all hold them. The latest is listed: weeks 2-11, 9 Sep to 18 Nov (half term skipped).
    as_at = date(2024, 11, 29)
    pupil = timeline(register(START, as_at, sessions(date(2024, 9, 9), 10, "O")))
    windows = threshold_windows(pupil, NATIONAL, as_at=as_at, start=START)
    best = best_threshold_window(pupil, NATIONAL, as_at=as_at, start=START)
    assert [w.count for w in windows].count(10) == 10  # windows ending 9 Sep .. 18 Nov
    assert best.weeks[0] == date(2024, 9, 9)
    assert best.weeks[-1] == date(2024, 11, 18)  # weeks 2..11, half term skipped


@pytest.mark.parametrize(("rules", "met"), [(NATIONAL, True), (NO_N, False)], ids=["N", "no-N"])
def test_n_counts_only_when_the_profile_says(rules, met):
    # 9 O and 1 N in the week of 14 Oct.
    overrides = {**sessions(date(2024, 10, 14), 9, "O"), (date(2024, 10, 18), "PM"): "N"}
    as_at = date(2024, 10, 25)
    flags = pupil_flags(
        timeline(register(START, as_at, overrides)), start=START, as_at=as_at, rules=rules
    )
    assert (THRESHOLD in keys(flags)) is met


def test_threshold_across_a_change_of_school():
    # Oakfield to Fri 18 Oct 2024, then Riverside Academy from Mon 4 Nov (its own two-week half
    # term, 21 Oct - 1 Nov). The pupil's school weeks: 2 Sep, 9, 16, 23, 30 Sep, 7, 14 Oct at
    # Oakfield (1-7); [21 Oct: no session for the pupil at either school]; 4, 11, 18, 25 Nov at
    # Riverside (8-11). 1 O on Tue 3 Sep at Oakfield + 9 O in the week of 18 Nov at Riverside:
    # weeks 1-10, one window. Met. (Had the pupil stayed at Oakfield, 21 Oct would be a school
    # week and 3 Sep to 18 Nov eleven: see the "one week too far" case above.)
    oak = register(START, date(2024, 10, 18), sessions(date(2024, 9, 3), 1, "O"))
    as_at = date(2024, 11, 29)

    def riverside(week: date) -> list[SessionMark]:
        return register(date(2024, 11, 4), as_at, sessions(week, 9, "O", RIVERSIDE), school_id=2)

    found = flag(
        pupil_flags(
            timeline(oak, riverside(date(2024, 11, 18))), start=START, as_at=as_at, rules=NATIONAL
        ),
        THRESHOLD,
    )
    assert found.figures["count"] == 10
    assert found.figures["first_week"] == "2024-09-02"
    assert {m.school for m in found.sessions} == {"Oakfield Primary", "Riverside Academy"}
    # The 9 in the week of 25 Nov (week 11) instead: weeks 1-11 are eleven. Not met.
    flags = pupil_flags(
        timeline(oak, riverside(date(2024, 11, 25))), start=START, as_at=as_at, rules=NATIONAL
    )
    assert THRESHOLD not in keys(flags)


def test_an_officers_listed_sessions_use_the_calendars_school_weeks():
    # Only the unauthorised sessions are listed; the calendar gives the school weeks.
    listed = [(date(2024, 9, 9), "AM", "O")] + [
        (d, s, "O") for (d, s) in sessions(date(2024, 11, 18), 9, "O")
    ]
    as_at = date(2024, 11, 29)
    weeks = [date(2024, 9, 2) + timedelta(weeks=i) for i in range(14)]
    school_weeks = [
        w for w in weeks if any(OAKFIELD.is_school_day(w + timedelta(i)) for i in range(5))
    ]
    best = best_threshold_window(listed, NATIONAL, as_at=as_at, school_weeks=school_weeks)
    assert best.count == 10
    # Without the calendar the listed sessions alone make only two school weeks.
    assert best_threshold_window(listed, NATIONAL, as_at=as_at).school_weeks == 2


# --- rates ------------------------------------------------------------------------------------


def first_sessions(codes: list[str]) -> Timeline:
    """The codes on the first sessions of 2024/25 at Oakfield, in order."""
    index = session_index(OAKFIELD, 2024).sessions
    return timeline_of(
        7,
        [
            SessionMark(d, s, c, 1, "Oakfield Primary")
            for (d, s), c in zip(index, codes, strict=False)
        ],
    )


RATE_CASES = [
    # (absent of 20 possible, flags expected among the four rate flags)
    pytest.param(0, set(), id="100%"),
    pytest.param(1, set(), id="95%-is-not-below-95"),
    pytest.param(2, {PERSISTENT, BELOW_95}, id="90%-attendance-is-persistent-absence"),
    pytest.param(4, {PERSISTENT, BELOW_95}, id="80%"),
    pytest.param(5, {PERSISTENT, BELOW_95, NEGLECT}, id="75%-is-75-or-below"),
    pytest.param(9, {PERSISTENT, BELOW_95, NEGLECT}, id="45%-absence-is-not-severe"),
    pytest.param(10, {PERSISTENT, SEVERE, BELOW_95, NEGLECT}, id="50%-absence-is-severe"),
    pytest.param(20, {PERSISTENT, SEVERE, BELOW_95, NEGLECT}, id="all-absent"),
]


@pytest.mark.parametrize(("absent", "expected"), RATE_CASES)
def test_rate_boundaries(absent, expected):
    codes = ["M"] * absent + ["/"] * (20 - absent) + ["D"] * 6  # D: not possible
    found = pupil_flags(
        first_sessions(codes), start=START, as_at=date(2024, 12, 20), rules=NATIONAL
    )
    rates = keys(found) & {PERSISTENT, SEVERE, BELOW_95, NEGLECT}
    assert rates == expected
    for f in found:
        if f.key in rates:
            assert len(f.sessions) == absent == f.figures["absent"]
            assert f.figures["possible"] == 20


def test_exactly_ten_percent_of_thirty_is_persistent_absence():
    found = pupil_flags(
        first_sessions(["O"] * 3 + ["/"] * 27),
        start=START,
        as_at=date(2024, 12, 20),
        rules=NATIONAL,
    )
    assert PERSISTENT in keys(found)
    assert flag(found, PERSISTENT).explanation == (
        "Absent for 3 of 30 possible sessions (10.0%) from Mon 2 Sep 2024 to Fri 20 Dec 2024; "
        "persistent absence is 10% or more"
    )


def test_rates_count_the_range_only_and_need_a_possible_session():
    # Absent all of July 2024, present from September: the September range is 100%.
    pupil = timeline(
        register(date(2024, 7, 1), date(2024, 9, 20), {d: "O" for d in days(date(2024, 7, 1), 15)})
    )
    assert not keys(pupil_flags(pupil, start=START, as_at=date(2024, 9, 20), rules=NATIONAL)) & {
        PERSISTENT,
        BELOW_95,
    }
    only_d = first_sessions(["D"] * 10)
    assert pupil_flags(only_d, start=START, as_at=date(2024, 12, 20), rules=NATIONAL) == []


# --- continuous absence -----------------------------------------------------------------------


def absent_days(*spans: tuple[date, int], code: str = "O") -> dict:
    return {d: code for first, count in spans for d in days(first, count)}


CONTINUOUS_CASES = [
    # Mon 7 Oct - Fri 18 Oct 2024: 10 school days across a weekend.
    pytest.param(absent_days((date(2024, 10, 7), 10)), 10, {10}, id="across-a-weekend"),
    # Mon 21 - Fri 25 Oct and Mon 4 - Fri 8 Nov: 10 school days across the half term.
    pytest.param(
        absent_days((date(2024, 10, 21), 5), (date(2024, 11, 4), 5)),
        10,
        {10},
        id="across-half-term",
    ),
    # 9 days only.
    pytest.param(absent_days((date(2024, 10, 7), 9)), 9, set(), id="nine-days"),
    # 10 days broken on day 6 by a present morning (Mon 14 Oct AM /, PM O).
    pytest.param(
        {**absent_days((date(2024, 10, 7), 10)), (date(2024, 10, 14), "AM"): "/"},
        5,
        set(),
        id="broken-by-a-present-session",
    ),
    # Authorised absence breaks a run: Mon 14 Oct is M (medical) all day.
    pytest.param(
        {**absent_days((date(2024, 10, 7), 10)), date(2024, 10, 14): "M"},
        5,
        set(),
        id="broken-by-authorised-absence",
    ),
    # A day with no possible session (D all day) neither counts nor breaks: 10 days of O round it.
    pytest.param(
        {**absent_days((date(2024, 10, 7), 11)), date(2024, 10, 14): "D"},
        10,
        {10},
        id="a-not-possible-day-is-skipped",
    ),
    # Mixed unauthorised codes: every possible session unauthorised (G, N, O, U) counts.
    pytest.param(
        {
            **absent_days((date(2024, 10, 7), 5), code="G"),
            **absent_days((date(2024, 10, 14), 5), code="N"),
        },
        10,
        {10},
        id="any-unauthorised-code",
    ),
    # Mon 2 Dec - Fri 20 Dec (15) and Mon 6 - Fri 10 Jan 2025 (5): 20 across Christmas.
    pytest.param(
        absent_days((date(2024, 12, 2), 15), (date(2025, 1, 6), 5)),
        20,
        {10, 20},
        id="twenty-across-christmas",
    ),
]


@pytest.mark.parametrize(("overrides", "longest", "met"), CONTINUOUS_CASES)
def test_continuous_absence(overrides, longest, met):
    as_at = date(2025, 1, 31)
    pupil = timeline(register(START, as_at, overrides))
    runs = absence_runs(pupil, NATIONAL, as_at=as_at)
    assert max((r.length for r in runs), default=0) == longest
    flags = pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL)
    assert {n for n in (10, 20) if f"continuous_absence_{n}" in keys(flags)} == met
    for n in met:
        found = flag(flags, f"continuous_absence_{n}")
        assert found.figures["days"] == longest
        assert len({m.day for m in found.sessions}) == longest
        assert all(mark_kind(m, NATIONAL).unauthorised for m in found.sessions)


def test_a_run_from_last_year_counts_when_it_reaches_into_the_range():
    # Absent from Mon 8 Jul 2024 (10 school days to Fri 19 Jul) and Mon 2 - Fri 6 Sep 2024:
    # 15 school days across the summer holiday.
    overrides = absent_days((date(2024, 7, 8), 10), (date(2024, 9, 2), 5))
    pupil = timeline(register(date(2024, 6, 3), date(2024, 9, 20), overrides))
    found = flag(
        pupil_flags(pupil, start=START, as_at=date(2024, 9, 20), rules=NATIONAL),
        "continuous_absence_10",
    )
    assert found.figures["days"] == 15
    assert found.figures["first_day"] == "2024-07-08"
    # A run that ended before the range does not count.
    ended = absent_days((date(2024, 7, 1), 10))
    pupil = timeline(register(date(2024, 6, 3), date(2024, 9, 20), ended))
    flags = pupil_flags(pupil, start=START, as_at=date(2024, 9, 20), rules=NATIONAL)
    assert "continuous_absence_10" not in keys(flags)


# --- illness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "sessions_ill", "met"),
    [
        # 15 whole days, not consecutive: Mon-Fri 7-11 Oct, 4-8 Nov, 2-6 Dec.
        pytest.param(
            absent_days(
                (date(2024, 10, 7), 5), (date(2024, 11, 4), 5), (date(2024, 12, 2), 5), code="I"
            ),
            30,
            True,
            id="cumulative-whole-days",
        ),
        # 10 whole days and 10 half days (mornings): 10 + 10 x 0.5 = 15 days.
        pytest.param(
            {
                **absent_days((date(2024, 10, 7), 10), code="I"),
                **{(d, "AM"): "I" for d in days(date(2024, 11, 4), 10)},
            },
            30,
            True,
            id="half-days-count-half",
        ),
        # 14.5 days.
        pytest.param(
            {
                **absent_days((date(2024, 10, 7), 10), code="I"),
                **{(d, "AM"): "I" for d in days(date(2024, 11, 4), 9)},
            },
            29,
            False,
            id="fourteen-and-a-half",
        ),
    ],
)
def test_illness_fifteen_days(overrides, sessions_ill, met):
    as_at = date(2024, 12, 20)
    flags = pupil_flags(
        timeline(register(START, as_at, overrides)), start=START, as_at=as_at, rules=NATIONAL
    )
    assert ("illness_15_days" in keys(flags)) is met
    if met:
        found = flag(flags, "illness_15_days")
        assert len(found.sessions) == sessions_ill == found.figures["sessions"]
        assert found.figures["days"] == sessions_ill / 2
        assert {m.code for m in found.sessions} == {"I"}


# --- lateness after the register closed -------------------------------------------------------


@pytest.mark.parametrize(("count", "met"), [(14, True), (13, False)])
def test_late_after_close(count, met):
    # U on Monday and Tuesday mornings from 9 Sep: 14 of them take 7 weeks (9 Sep - 21 Oct,
    # weeks 2-8), inside 10 school weeks; 13 stop one short.
    mornings = [d for d in days(date(2024, 9, 9), 40) if d.weekday() in (0, 1)][:count]
    overrides = {(d, "AM"): "U" for d in mornings}
    as_at = date(2024, 11, 29)
    flags = pupil_flags(
        timeline(register(START, as_at, overrides)), start=START, as_at=as_at, rules=NATIONAL
    )
    assert (LATE in keys(flags)) is met
    if met:
        found = flag(flags, LATE)
        assert found.figures["count"] == 14
        assert {m.code for m in found.sessions} == {"U"}


# --- trend ------------------------------------------------------------------------------------

# Weeks of 2024/25 autumn, numbered as above (1 = 2 Sep ... 12 = 25 Nov).
WEEK = {i + 1: date(2024, 9, 2) + timedelta(weeks=i + (1 if i >= 8 else 0)) for i in range(15)}


def test_trend_three_weeks_down_by_more_than_five_points():
    # Weeks 1-9 present; weeks 10-12 (11, 18, 25 Nov): 2 O of 30 -> 93.3% vs 100%.
    overrides = {(WEEK[10], "AM"): "O", (WEEK[11], "AM"): "O"}
    as_at = date(2024, 11, 29)
    pupil = timeline(register(START, as_at, overrides))
    last, before = trend(pupil, as_at, 3)
    assert before == 100
    assert last == pytest.approx(28 / 30 * 100)
    found = flag(pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL), TREND)
    assert found.figures["previous_3_weeks_percent"] == 100
    assert found.figures["last_6_weeks_percent"] == pytest.approx(58 / 60 * 100)
    assert len(found.sessions) == 2


def test_trend_six_weeks_down_by_exactly_five_points():
    # Weeks 1-6 present (100%); weeks 7-12: 3 O of 60 = 95%: exactly 5 points, flagged. The
    # 3-week comparison: weeks 7-9 hold 2 (93.3%), weeks 10-12 hold 1 (96.7%): a rise.
    overrides = {(WEEK[7], "AM"): "O", (WEEK[8], "AM"): "O", (WEEK[11], "AM"): "O"}
    as_at = date(2024, 11, 29)
    pupil = timeline(register(START, as_at, overrides))
    assert trend(pupil, as_at, 6) == (95.0, 100.0)
    assert TREND in keys(pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL))
    # Two absences: 96.7%, a fall of 3.3 points; the 3-week comparison rises. Not flagged.
    fewer = timeline(register(START, as_at, {(WEEK[7], "AM"): "O", (WEEK[11], "AM"): "O"}))
    assert TREND not in keys(pupil_flags(fewer, start=START, as_at=as_at, rules=NATIONAL))


def test_trend_needs_enough_weeks():
    as_at = date(2024, 9, 27)  # weeks 1-4 only; Mon 23 Sep (week 4) absent: 28 of 30
    pupil = timeline(register(START, as_at, {WEEK[4]: "O"}))
    assert trend(pupil, as_at, 3) == (pytest.approx(28 / 30 * 100), None)
    assert trend(pupil, as_at, 6) == (None, None)
    assert TREND not in keys(pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL))


def test_trend_looks_back_across_the_summer():
    # Present in July 2024, absent most of the first week of September: the last 3 school
    # weeks (2 Sep and the last two of July) against the 3 before.
    as_at = date(2024, 9, 6)
    pupil = timeline(register(date(2024, 6, 3), as_at, absent_days((date(2024, 9, 2), 3))))
    last, before = trend(pupil, as_at, 3)
    assert before == 100 and last == pytest.approx(24 / 30 * 100)
    assert TREND in keys(pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL))


# --- profile, titles, proposals ---------------------------------------------------------------


def test_flag_keys_and_titles():
    assert flag_keys(NATIONAL) == (
        "persistent_absence",
        "severe_absence",
        "below_95",
        "educational_neglect_indicator",
        "penalty_threshold",
        "late_after_close",
        "continuous_absence_10",
        "continuous_absence_20",
        "illness_15_days",
        "declining_trend",
    )
    titles = flag_titles()
    assert set(titles) == set(flag_keys(NATIONAL))
    assert titles[BELOW_95] == "Attendance below 95%"


def test_proposals_and_decisions_follow_the_profile():
    as_at = date(2024, 11, 29)
    pupil = timeline(register(START, as_at, sessions(date(2024, 11, 18), 10, "O")))
    flags = pupil_flags(pupil, start=START, as_at=as_at, rules=NATIONAL)
    assert {THRESHOLD, BELOW_95} <= keys(flags)
    stage, why = proposed_stage(flags, NATIONAL)
    assert stage == "listen_and_understand"
    assert THRESHOLD in {f.key for f in why}
    assert [f.key for f in decision_flags(flags, NATIONAL)] == [THRESHOLD]
    only_concern = [f for f in flags if f.key == BELOW_95]
    assert proposed_stage(only_concern, NATIONAL) == ("monitor", only_concern)
    assert proposed_stage([], NATIONAL) is None


def test_the_threshold_numbers_come_from_notice_to_improve():
    for key in ("national", "knowsley", "essex", "telford-and-wrekin"):
        profile = load_profile(key)
        rules = profile.analytics
        assert rules.threshold_sessions == profile.notice_to_improve.threshold_sessions
        assert rules.threshold_school_weeks == profile.notice_to_improve.threshold_school_weeks
        assert list(rules.counted_codes) == profile.notice_to_improve.counted_codes
        assert rules.late_u_marks == 14 and rules.late_u_school_weeks == 10
        assert rules.continuous_absence_days == [10, 20]
        assert rules.illness_days == 15
        assert (rules.concern_below_percent, rules.neglect_at_or_below_percent) == (95, 75)
        assert (rules.persistent_percent, rules.severe_percent) == (10, 50)
        assert rules.trend_drop_points == 5


# --- every flag lists the sessions that produced it -------------------------------------------

CODES_DRAWN = ["/", "\\", "L", "B", "M", "I", "G", "N", "O", "U", "D", "#"]
INDEX_2024 = session_index(OAKFIELD, 2024).sessions


@st.composite
def pupils(draw):
    base = draw(st.sampled_from(["/", "O", "U", "I", "M"]))
    codes = [base] * len(INDEX_2024)
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(INDEX_2024) - 1))
        length = draw(st.integers(1, 80))
        code = draw(st.sampled_from([*CODES_DRAWN, None]))
        for i in range(at, min(at + length, len(codes))):
            codes[i] = code
    marks = [
        SessionMark(d, s, c, 1, "Oakfield Primary")
        for (d, s), c in zip(INDEX_2024, codes, strict=True)
        if c is not None
    ]
    as_at = draw(st.sampled_from(INDEX_2024))[0]
    start = draw(st.sampled_from([START, date(2024, 11, 4), date(2025, 1, 6)]))
    return timeline_of(7, marks), start, as_at


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pupils())
def test_every_flag_lists_sessions_consistent_with_its_figures(case):
    pupil, start, as_at = case
    for found in pupil_flags(pupil, start=start, as_at=as_at, rules=NATIONAL):
        assert found.sessions, found.key
        assert all(m.day <= as_at for m in found.sessions)
        assert found.title and found.explanation
        kinds = [mark_kind(m, NATIONAL) for m in found.sessions]
        if found.key in (PERSISTENT, SEVERE, BELOW_95, NEGLECT):
            assert len(found.sessions) == found.figures["absent"]
            assert all(k.absent for k in kinds)
            assert all(m.day >= start for m in found.sessions)
        elif found.key == THRESHOLD:
            assert len(found.sessions) == found.figures["count"] >= NATIONAL.threshold_sessions
            assert all(k.counted for k in kinds)
            weeks = {m.day - timedelta(days=m.day.weekday()) for m in found.sessions}
            assert min(weeks).isoformat() >= found.figures["first_week"]
            assert max(weeks).isoformat() <= found.figures["last_week"]
        elif found.key == LATE:
            assert len(found.sessions) == found.figures["count"] >= NATIONAL.late_u_marks
            assert all(m.code == "U" for m in found.sessions)
        elif found.key.startswith("continuous_absence_"):
            assert len({m.day for m in found.sessions}) == found.figures["days"]
            assert found.figures["days"] >= found.figures["threshold_days"]
            assert all(k.unauthorised for k in kinds)
        elif found.key.startswith("illness_"):
            assert len(found.sessions) == found.figures["sessions"] >= 30
            assert all(k.illness for k in kinds)
        elif found.key == TREND:
            assert all(k.absent for k in kinds)
        else:  # pragma: no cover
            raise AssertionError(found.key)
