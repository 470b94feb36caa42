"""School calendars: term dates, INSET days, closures and bank holidays, and counting on them.

- ``model``: ``TermCalendar``, one school's calendar (pure, no database);
- ``patterns``: generating an LA's unpublished years; ``config_files``: the shipped calendars;
- ``store``: building a school's calendar from the database and config; ``editing``: changing it;
- ``rules``: what a change must satisfy; ``explain``: why a duration lands where it does.
"""

from casework.calendars.editing import (
    CalendarChange,
    ChangeKind,
    Recorded,
    change_school_calendar,
    record_la_year,
)
from casework.calendars.explain import Explanation, explain_add, explain_measure
from casework.calendars.model import AcademicYear, DateRange, OutsideCalendar, TermCalendar
from casework.calendars.store import school_calendar

__all__ = [
    "AcademicYear",
    "CalendarChange",
    "ChangeKind",
    "DateRange",
    "Explanation",
    "OutsideCalendar",
    "Recorded",
    "TermCalendar",
    "change_school_calendar",
    "explain_add",
    "explain_measure",
    "record_la_year",
    "school_calendar",
]
