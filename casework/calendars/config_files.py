"""LA calendars shipped as config/calendars/<profile>.toml: published years and the pattern
that generates the rest (``casework.calendars.patterns``).

An LA profile without a calendar file of its own uses ``national.toml``. Editing a file is the
config route for changing an LA's dates; a year an admin recorded in the database wins over it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import msgspec

from casework.calendars.documents import TermSpec, year_of
from casework.calendars.model import AcademicYear
from casework.calendars.patterns import PatternRules, pattern_named
from casework.calendars.rules import check_terms
from config.profiles import PROFILE_DIR

# Beside the LA profiles in config/ (located through a module, which always has a file).
CALENDAR_DIR = PROFILE_DIR.parent / "calendars"
DEFAULT = "national"


class _YearFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start_year: int
    terms: list[TermSpec]
    source: str | None = None


class _CalendarFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    pattern: str
    source: str = ""
    years: list[_YearFile] = []


@dataclass(frozen=True)
class LaCalendar:
    key: str
    name: str
    pattern: PatternRules
    years: tuple[AcademicYear, ...]
    path: Path


def calendar_file(profile: str) -> Path:
    own = CALENDAR_DIR / f"{profile}.toml"
    return own if own.exists() else CALENDAR_DIR / f"{DEFAULT}.toml"


@cache
def la_calendar(profile: str) -> LaCalendar:
    """The shipped calendar for an LA profile (read once per process)."""
    path = calendar_file(profile)
    try:
        raw = msgspec.convert(tomllib.loads(path.read_text()), _CalendarFile)
        pattern = pattern_named(raw.pattern)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, ValueError) as exc:
        raise ValueError(f"calendar file {path.name} is invalid: {exc}") from exc
    years = []
    for i, year in enumerate(raw.years):
        problems = check_terms(year.start_year, year.terms, f"years[{i}].terms")
        if problems:
            said = "; ".join(f"{p.field} = {p.value!r}: {p.rule}" for p in problems)
            raise ValueError(f"calendar file {path.name} is invalid: {said}")
        years.append(year_of(year.start_year, year.terms, source=year.source or raw.source))
    if len({y.start_year for y in years}) != len(years):
        raise ValueError(f"calendar file {path.name} lists an academic year twice")
    return LaCalendar(path.stem, raw.name, pattern, tuple(years), path)
