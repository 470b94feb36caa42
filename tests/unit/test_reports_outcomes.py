"""The outcomes report's windows: a pupil's N school weeks before the week of an intervention and
the first N complete ones after it; and how a deadline counts (on time, late, overdue)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from workflows.reports import deadline_outcome, on_roll, pupil_weeks, windows

# Five school weeks (Mondays 2, 9, 16 Sep; a week with no mark on the 23rd; 30 Sep, 7 Oct).
MONDAYS = [
    date(2024, 9, 2),
    date(2024, 9, 9),
    date(2024, 9, 16),
    date(2024, 9, 30),
    date(2024, 10, 7),
]
# (possible, attended) per week
WEEKS = [(10, 10), (10, 5), (10, 8), (8, 8), (10, 0)]


def _weeks():
    ordinals, possible, attended = [], [], []
    for monday, (p, a) in zip(MONDAYS, WEEKS, strict=True):
        for i in range(p):
            ordinals.append((monday + timedelta(days=i // 2)).toordinal())
            possible.append(1)
            attended.append(1 if i < a else 0)
    # A session that is not possible (X) on the Friday of the first week still marks the week.
    ordinals.append((MONDAYS[0] + timedelta(days=4)).toordinal())
    possible.append(0)
    attended.append(0)
    return pupil_weeks(np.array(ordinals), np.array(possible), np.array(attended))


def test_sessions_are_summed_by_school_week():
    found = _weeks()
    assert [date.fromordinal(int(m)) for m in found.mondays] == MONDAYS
    assert found.possible.tolist() == [p for p, _ in WEEKS]
    assert found.attended.tolist() == [a for _, a in WEEKS]


@pytest.mark.parametrize(
    ("on", "n", "as_at", "before", "after"),
    [
        # Wednesday 18 Sep: before 2 Sep + 9 Sep (15/20), after 30 Sep + 7 Oct (8/18): the
        # week of the 23rd has no mark and is skipped, the intervention's own week is in neither.
        (date(2024, 9, 18), 2, date(2024, 10, 11), (2, 20, 15), (2, 18, 8)),
        # Only one week before there is; after: 7 Oct's week is not complete on Thursday 10 Oct.
        (date(2024, 9, 9), 3, date(2024, 10, 10), (1, 10, 10), (2, 18, 16)),
        # On the Friday it is complete.
        (date(2024, 9, 9), 3, date(2024, 10, 11), (1, 10, 10), (3, 28, 16)),
        # A Sunday belongs to the week it ends.
        (date(2024, 9, 15), 1, date(2024, 12, 1), (1, 10, 10), (1, 10, 8)),
        # Nothing before the first week.
        (date(2024, 9, 2), 6, date(2024, 12, 1), (0, 0, 0), (4, 38, 21)),
    ],
)
def test_the_windows_before_and_after(on, n, as_at, before, after):
    b, a = windows(_weeks(), on, n, as_at)
    assert (b.weeks, b.possible, b.attended) == before
    assert (a.weeks, a.possible, a.attended) == after


def test_a_percent_needs_a_possible_session():
    b, a = windows(_weeks(), date(2024, 9, 2), 2, date(2024, 12, 1))
    assert b.percent is None
    assert a.percent == pytest.approx(65.0)  # 9 Sep 5/10 and 16 Sep 8/10


@pytest.mark.parametrize(
    ("as_at", "expected"),
    [(date(2024, 10, 9), True), (date(2024, 10, 16), True), (date(2024, 10, 21), False)],
)
def test_on_roll_means_a_mark_in_the_last_fortnight(as_at, expected):
    assert on_roll(_weeks(), as_at) is expected


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


DUE = date(2024, 10, 10)


@pytest.mark.parametrize(
    ("status", "cancelled_at", "expected"),
    [
        ("cancelled", _at(date(2024, 10, 9), 12), "on_time"),
        ("cancelled", _at(DUE, 22), "on_time"),  # 23:00 in London, still the day
        ("cancelled", _at(DUE, 23), "late"),  # midnight in London (BST): the next day
        ("cancelled", _at(date(2024, 10, 11), 9), "late"),
        ("done_late", _at(date(2024, 10, 15), 9), "late"),
        ("fired", None, "overdue"),
        ("pending", None, None),
        ("failed", None, None),
    ],
)
def test_how_a_deadline_counts(status, cancelled_at, expected):
    assert deadline_outcome(status, DUE, cancelled_at) == expected
