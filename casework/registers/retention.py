"""Disposing of attendance registers once they need no longer be kept.

Register entries are kept at least 6 years (the 2024 Regulations); this service counts them from
the end of the academic year the session is in, so an academic year starting in Y may go from
1 August of Y + 1 + ``years`` (``casework.registers.store.retained_until``), where ``years`` is
``CASEWORK_REGISTER_RETENTION_YEARS`` (6 unless an LA keeps them longer; less is refused).

:func:`purge_expired` deletes the ``register_year`` rows of every academic year that has expired,
with their ``mark_amendment`` rows, and reports counts per academic year (never a pupil). The
database guards the minimum too: migration 0005 lets a ``mark_amendment`` row go only when its
session is before 1 August of (the current academic year's first year - 6), so even a purge
given a wrong date cannot remove an amendment the law still requires. It executes but does not
commit: the caller's unit of work does (``casework registers purge``, the scheduler's daily job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casework.calendars.model import academic_year_of, long_date, year_label
from casework.errors import InvalidInput
from casework.models import MarkAmendment, RegisterYear
from casework.registers.store import DEFAULT_RETENTION_YEARS, retained_until


@dataclass(frozen=True)
class YearPurged:
    academic_year: int
    registers: int
    amendments: int

    @property
    def label(self) -> str:
        return year_label(self.academic_year)


@dataclass(frozen=True)
class PurgeReport:
    today: date
    years_kept: int
    last_expired: int  # the latest academic year that has expired (2019 = 2019/20)
    years: tuple[YearPurged, ...]  # only years that had something to delete, oldest first
    dry_run: bool

    @property
    def registers(self) -> int:
        return sum(y.registers for y in self.years)

    @property
    def amendments(self) -> int:
        return sum(y.amendments for y in self.years)

    def lines(self) -> list[str]:
        """The report in plain English: counts per academic year, nothing about any pupil."""
        verb = "would be deleted (dry run: nothing was deleted)" if self.dry_run else "deleted"
        head = (
            f"registers are kept {self.years_kept} years from the end of each academic year: "
            f"on {long_date(self.today)}, {year_label(self.last_expired)} and earlier "
            f"have expired"
        )
        if not self.years:
            return [head, "nothing to delete"]
        return [
            head,
            *(
                f"  {y.label}: {_count(y.registers, 'register')}, "
                f"{_count(y.amendments, 'amendment')} {verb}"
                for y in self.years
            ),
            f"in all: {_count(self.registers, 'register')}, "
            f"{_count(self.amendments, 'amendment')} {verb}",
        ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def last_expired_year(today: date, years: int) -> int:
    """The latest academic year whose registers may be disposed of on ``today``."""
    retained_until(academic_year_of(today), years)  # refuses fewer than 6 years
    last = academic_year_of(today) - 1 - years
    if not retained_until(last, years) <= today < retained_until(last + 1, years):
        raise AssertionError(f"{year_label(last)} is not the last year expired on {today}")
    return last


def purge_expired(
    session: Session, *, today: date, years: int, dry_run: bool = False
) -> PurgeReport:
    """Delete (or with ``dry_run`` only count) the registers of every academic year whose
    ``retained_until(year, years)`` is on or before ``today``, with their amendments."""
    if today > _london_today() + timedelta(days=1):
        raise InvalidInput.one(
            "today", today.isoformat(), "is after today's date: nothing is purged ahead of time"
        )
    last = last_expired_year(today, years)
    if retained_until(last, DEFAULT_RETENTION_YEARS) > today:  # never inside the legal minimum
        raise AssertionError(f"{year_label(last)} is still inside the 6-year minimum")
    registers = dict(
        session.execute(
            select(RegisterYear.academic_year, func.count())
            .where(RegisterYear.academic_year <= last)
            .group_by(RegisterYear.academic_year)
        ).all()
    )
    amendments = dict(
        session.execute(
            select(RegisterYear.academic_year, func.count())
            .select_from(MarkAmendment)
            .join(RegisterYear, RegisterYear.id == MarkAmendment.register_year_id)
            .where(RegisterYear.academic_year <= last)
            .group_by(RegisterYear.academic_year)
        ).all()
    )
    found: list[YearPurged] = []
    for year in sorted(registers):
        if dry_run:
            found.append(YearPurged(year, registers[year], amendments.get(year, 0)))
            continue
        in_year = select(RegisterYear.id).where(RegisterYear.academic_year == year)
        gone_amendments = session.execute(
            delete(MarkAmendment)
            .where(MarkAmendment.register_year_id.in_(in_year))
            .execution_options(synchronize_session=False)
        ).rowcount
        gone_registers = session.execute(
            delete(RegisterYear)
            .where(RegisterYear.academic_year == year)
            .execution_options(synchronize_session=False)
        ).rowcount
        found.append(YearPurged(year, gone_registers, gone_amendments))
    return PurgeReport(today, years, last, tuple(found), dry_run)


def _london_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
