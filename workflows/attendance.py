"""A pupil's attendance now: year-to-date totals and every flag met, each with its sessions.

Computed live from the registers (the daily scan stores only which flags hold), so the pupil
page and a case always show the sessions behind a flag as the registers stand today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from casework.analytics.flags import Flag, pupil_flags
from casework.analytics.timeline import load_timeline
from casework.analytics.totals import Totals, totals
from casework.calendars.model import academic_year_of
from workflows.context import Context


@dataclass(frozen=True)
class PupilAttendance:
    year_start: date | None  # the first marked day this academic year (admission, in effect)
    as_at: date
    totals: Totals
    flags: list[Flag]


def pupil_attendance(ctx: Context, pupil_id: int, *, as_at: date | None = None) -> PupilAttendance:
    """Year to date from the pupil's first mark this academic year; the rolling windows look
    back into last year (the caller has already checked the pupil is in scope)."""
    day = as_at or ctx.today()
    year = academic_year_of(day)
    timeline = load_timeline(ctx.session, pupil_id, date(year - 1, 8, 1), day)
    this_year = [m for m in timeline.sessions if academic_year_of(m.day) == year]
    start = this_year[0].day if this_year else None
    flags = (
        pupil_flags(timeline, start=start, as_at=day, rules=ctx.profile.analytics) if start else []
    )
    return PupilAttendance(start, day, totals(this_year), flags)
