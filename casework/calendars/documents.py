"""Term dates as documents: the shape shared by config/calendars/*.toml, the database's JSON
columns and the API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec

from casework.calendars.model import AcademicYear, DateRange, Term


class TermSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Literal["autumn", "spring", "summer"]
    first: date
    last: date
    half_term: tuple[date, date] | None = None


def term_of(spec: TermSpec) -> Term:
    """A checked spec as a ``Term`` (``casework.calendars.rules.check_terms`` checks it)."""
    half = DateRange(*spec.half_term) if spec.half_term else None
    return Term(spec.name, spec.first, spec.last, half)


def spec_of(term: Term) -> TermSpec:
    half = (term.half_term.first, term.half_term.last) if term.half_term else None
    return TermSpec(term.name, term.first, term.last, half)  # type: ignore[arg-type]


def year_of(
    start_year: int, specs: list[TermSpec], *, provisional: bool = False, source: str = ""
) -> AcademicYear:
    return AcademicYear(start_year, tuple(term_of(s) for s in specs), provisional, source)


def to_document(specs: list[TermSpec]) -> list[dict[str, Any]]:
    return msgspec.to_builtins(specs)


def from_document(document: list[dict[str, Any]]) -> list[TermSpec]:
    return msgspec.convert(document, list[TermSpec])
