"""The county engine computes exactly the flags ``pupil_flags`` does, for every pupil.

The key invariant: for random mark strings on a real-ish session index (Knowsley 2024/25 with
an INSET day, an INSET morning and an afternoon closure), a previous year at another school, a
random ``as_at`` and range start, the set of flags from ``county_flags`` equals the set from
``pupil_flags`` on the same pupil's timeline, as do the counts and the best threshold window.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.analytics.aggregates import aggregate, aggregate_county
from casework.analytics.county import (
    Prior,
    align_prior,
    county_flags,
    layout,
    lookback_weeks,
    met_flags,
    prior_from_strings,
)
from casework.analytics.flags import (
    LATE,
    best_threshold_window,
    best_window,
    mark_kind,
    pupil_flags,
    rolling_windows,
)
from casework.analytics.timeline import SessionMark, timeline_of
from casework.analytics.totals import totals
from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import Closure, DateRange, InsetDay
from casework.durations import SessionOfDay
from casework.registers.codes import LEGACY
from casework.registers.marks import CHAR_TO_CODE, NO_MARK, MarkString, entries, session_index
from config.profiles import load_profile

SHIPPED = la_calendar("knowsley")
OAKFIELD = TermCalendar(
    "Oakfield Primary",
    SHIPPED.years,
    inset_days=(
        InsetDay(date(2024, 9, 2)),
        InsetDay(date(2025, 1, 6), frozenset({SessionOfDay.AM})),
    ),
    closures=(
        Closure(
            DateRange(date(2024, 11, 13), date(2024, 11, 13)),
            frozenset({SessionOfDay.PM}),
            "heating",
        ),
    ),
    pattern=SHIPPED.pattern,
)
RIVERSIDE = TermCalendar(
    "Riverside Primary",
    SHIPPED.years,
    inset_days=(InsetDay(date(2024, 7, 19), frozenset({SessionOfDay.PM})),),
    pattern=SHIPPED.pattern,
)
INDEX = session_index(OAKFIELD, 2024)
PREVIOUS = session_index(RIVERSIDE, 2023)
LAYOUT, PREVIOUS_LAYOUT = layout(INDEX), layout(PREVIOUS)
NATIONAL = load_profile("national").analytics
NO_N = msgspec.structs.replace(NATIONAL, counted_codes=("G", "O", "U"))
CURRENT_CHARS = sorted(c for c, code in CHAR_TO_CODE.items() if code not in LEGACY)
ALL_CHARS = sorted(CHAR_TO_CODE)
# Weighted toward the codes that drive flags.
COMMON = ["/", "\\", "O", "G", "N", "U", "I", "M", "D", NO_MARK]


def timeline_for(current: str, previous: str | None):
    marks = [
        SessionMark(d, s, c, 1, "Oakfield Primary")
        for d, s, c in entries(INDEX, MarkString(current))
    ]
    if previous is not None:
        marks += [
            SessionMark(d, s, c, 2, "Riverside Primary")
            for d, s, c in entries(PREVIOUS, MarkString(previous))
        ]
    return timeline_of(1, marks)


@st.composite
def mark_strings(draw, length: int, chars: list[str]):
    base = draw(st.sampled_from(["/", "/", "O", "U", "I", NO_MARK]))
    noise = draw(st.sampled_from([0.0, 0.05, 0.3]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    text = [base if rng.random() >= noise else rng.choice(COMMON + chars) for _ in range(length)]
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, length - 1))
        run = draw(st.integers(1, 70))
        char = draw(st.sampled_from(COMMON + chars))
        text[at : at + run] = [char] * len(text[at : at + run])
    return "".join(text)


@st.composite
def batches(draw):
    n = draw(st.integers(1, 5))
    current = [draw(mark_strings(len(INDEX), CURRENT_CHARS)) for _ in range(n)]
    with_prior = draw(st.booleans())
    previous = [
        draw(mark_strings(len(PREVIOUS), ALL_CHARS)) if with_prior else NO_MARK * len(PREVIOUS)
        for _ in range(n)
    ]
    day = draw(st.sampled_from(INDEX.sessions))[0] + timedelta(days=draw(st.integers(0, 3)))
    as_at = draw(st.sampled_from([day, day, day, date(2024, 8, 20), date(2025, 8, 30)]))
    start = draw(
        st.sampled_from(
            [date(2024, 8, 1), date(2024, 9, 3), date(2024, 9, 8), date(2024, 11, 6), day]
        )
    )
    rules = draw(st.sampled_from([NATIONAL, NATIONAL, NO_N]))
    return current, previous, as_at, max(start, date(2024, 8, 1)), rules


def check_batch(current, previous, as_at, start, rules, *, chunk=2, workers=1):
    prior = prior_from_strings(PREVIOUS_LAYOUT, previous, rules=rules)
    result = county_flags(
        LAYOUT,
        list(range(len(current))),
        current,
        rules=rules,
        as_at=as_at,
        start=start,
        prior=prior,
        chunk=chunk,
        workers=workers,
    )
    for i, (now, before) in enumerate(zip(current, previous, strict=True)):
        pupil = timeline_for(now, before)
        flags = pupil_flags(pupil, start=start, as_at=as_at, rules=rules)
        assert met_flags(result, i) == {f.key for f in flags}, (i, as_at, start)
        counted = totals(m for m in pupil.sessions if start <= m.day <= as_at)
        assert (
            result.possible[i],
            result.attended[i],
            result.authorised[i],
            result.unauthorised[i],
        ) == (counted.possible, counted.attended, counted.authorised, counted.unauthorised)
        window = best_threshold_window(pupil, rules, as_at=as_at, start=start)
        assert result.best_threshold[i] == (window.count if window else 0)
        late = best_window(
            rolling_windows(
                pupil,
                size=rules.late_u_school_weeks,
                counts=lambda m: mark_kind(m, rules).late_u,
                as_at=as_at,
                start=start,
            )
        )
        assert result.best_late[i] == (late.count if late else 0)
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_county_flags_equal_pupil_flags(batch):
    check_batch(*batch)


@pytest.mark.parametrize("seed", [1, 2])
def test_county_flags_equal_pupil_flags_on_a_larger_random_batch(seed):
    rng = random.Random(seed)

    def make(length, chars):
        base = rng.choice(["/", "/", "/", "O", NO_MARK, "U", "I"])
        text = [base if rng.random() < 0.85 else rng.choice(chars + COMMON) for _ in range(length)]
        for _ in range(rng.randint(0, 6)):
            at, run = rng.randrange(length), rng.randint(1, 60)
            text[at : at + run] = [rng.choice(COMMON)] * len(text[at : at + run])
        return "".join(text)

    current = [make(len(INDEX), CURRENT_CHARS) for _ in range(120)]
    previous = [make(len(PREVIOUS), ALL_CHARS) for _ in range(120)]
    as_at = INDEX.sessions[rng.randrange(len(INDEX))][0]
    result = check_batch(current, previous, as_at, date(2024, 9, 3), NATIONAL, chunk=7, workers=2)
    assert sum(len(met_flags(result, i)) for i in range(len(result))) > 0


def test_a_full_year_of_present_marks_meets_nothing():
    full = "".join("/" if s == "AM" else "\\" for _, s in INDEX.sessions)
    result = county_flags(INDEX, [1, 2], [full, full], rules=NATIONAL, as_at=date(2025, 7, 22))
    assert met_flags(result, 0) == set()
    assert result.possible.tolist() == [len(INDEX)] * 2
    assert result.attended.tolist() == [len(INDEX)] * 2


def test_the_prior_carries_the_threshold_across_the_summer():
    # 2 G on Riverside's last Monday (15 Jul 2024) and 8 O from Mon 30 Sep 2024 at Oakfield:
    # weeks 15 Jul .. 30 Sep are 6 school weeks for this pupil (Oakfield opens Tue 3 Sep).
    previous = ["/"] * len(PREVIOUS)
    for i, (day, _s) in enumerate(PREVIOUS.sessions):
        if day == date(2024, 7, 15):
            previous[i] = "G"
    current = ["/"] * len(INDEX)
    count = 0
    for i, (day, _s) in enumerate(INDEX.sessions):
        if day >= date(2024, 9, 30) and count < 8:
            current[i], count = "O", count + 1
    current, previous = "".join(current), "".join(previous)
    as_at = date(2024, 10, 4)
    with_prior = check_batch([current], [previous], as_at, date(2024, 9, 3), NATIONAL)
    assert met_flags(with_prior, 0) >= {"penalty_threshold"}
    without = county_flags(INDEX, [1], [current], rules=NATIONAL, as_at=as_at)
    assert "penalty_threshold" not in met_flags(without, 0)
    assert without.best_threshold[0] == 8


def test_align_prior_lines_rows_up_by_pupil():
    texts = ["/" * len(PREVIOUS), "O" * len(PREVIOUS)]
    prior = prior_from_strings(PREVIOUS, texts, rules=NATIONAL)
    assert prior.weeks == lookback_weeks(NATIONAL) == 11
    assert prior.trailing_absent_days.tolist()[1] > 20
    aligned = align_prior([30, 99, 10], [([10, 30], prior)])
    assert aligned.trailing_absent_days.tolist() == [prior.trailing_absent_days[1], 0, 0]
    assert (aligned.week_monday[1] == 0).all()
    assert (aligned.counted[0] == prior.counted[1]).all()
    empty = align_prior([1, 2], [])
    assert len(empty) == 2


def test_a_prior_week_on_or_after_the_start_is_refused():
    prior = Prior.empty(1, 11)
    prior.week_monday[0, -1] = date(2024, 9, 2).toordinal()
    with pytest.raises(ValueError, match="prior"):
        county_flags(
            INDEX, [1], ["/" * len(INDEX)], rules=NATIONAL, as_at=date(2024, 9, 6), prior=prior
        )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("/" * 5, "characters", id="too-short"),
        pytest.param("?" + "/" * (len(INDEX) - 1), "not a stored mark", id="unknown"),
        pytest.param("H" + "/" * (len(INDEX) - 1), "not a stored mark", id="legacy-after-2024"),
        pytest.param("é" + "/" * (len(INDEX) - 1), "not stored", id="not-ascii"),
    ],
)
def test_bad_strings_are_refused(text, match):
    with pytest.raises(ValueError, match=match):
        county_flags(INDEX, [1], [text], rules=NATIONAL, as_at=date(2025, 7, 22))


def test_legacy_codes_are_read_in_a_pre_2024_year():
    previous = "H" * 10 + "/" * (len(PREVIOUS) - 10)
    result = county_flags(PREVIOUS, [1], [previous], rules=NATIONAL, as_at=date(2024, 7, 19))
    assert result.authorised[0] == 10


def test_an_empty_batch():
    result = county_flags(INDEX, [], [], rules=NATIONAL, as_at=date(2025, 7, 22))
    assert len(result) == 0 and set(result.flags) == set(result.keys)


def test_aggregates_from_county_results_match_the_pure_ones():
    rng = np.random.default_rng(3)
    texts = [
        "".join(rng.choice(["/", "/", "/", "/", "O", "I", "-"], size=len(INDEX))) for _ in range(40)
    ]
    result = county_flags(INDEX, list(range(40)), texts, rules=NATIONAL, as_at=date(2025, 3, 1))
    pure = aggregate(
        totals(m for m in timeline_for(t, None).sessions if m.day <= date(2025, 3, 1))
        for t in texts
    )
    assert aggregate_county(result)[None] == pure


def test_late_flag_in_the_county_matches_a_hand_count():
    # 14 U mornings in the first 7 school weeks.
    text = ["/"] * len(INDEX)
    mondays_tuesdays = [
        i
        for i, (d, s) in enumerate(INDEX.sessions)
        if s == "AM" and d.weekday() in (0, 1) and d >= date(2024, 9, 9)
    ][:14]
    for i in mondays_tuesdays:
        text[i] = "U"
    result = county_flags(INDEX, [1], ["".join(text)], rules=NATIONAL, as_at=date(2024, 12, 20))
    assert LATE in met_flags(result, 0)
    assert result.best_late[0] == 14
