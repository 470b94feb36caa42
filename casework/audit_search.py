"""Reading the audit log: a manager's search within their LA, and one pupil's access history
as CSV (for the manager's page, the API and ``casework audit export``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from casework.models import AuditEntry, Pupil, User
from casework.upn import upn_problem

PER_PAGE = 50
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; every filter is optional except the LA (``la_id=None``: every LA, for
    the operator's command line). ``until`` is exclusive."""

    la_id: int | None
    pupil_id: int | None = None
    actor_id: int | None = None
    record_type: str | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    total: int
    page: int
    pages: int


def _filtered(query: AuditQuery) -> Select:
    statement = select(AuditEntry)
    equal = (
        (AuditEntry.la_id, query.la_id),
        (AuditEntry.pupil_id, query.pupil_id),
        (AuditEntry.actor_id, query.actor_id),
        (AuditEntry.record_type, query.record_type),
        (AuditEntry.record_id, query.record_id),
    )
    for column, value in equal:
        if value is not None:
            statement = statement.where(column == value)
    if query.since is not None:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEntry.at < query.until)
    return statement


@dataclass(frozen=True)
class FilterProblem:
    """A filter that cannot be used: which field, what was given, and the rule it breaks."""

    field: str
    value: str
    rule: str

    @property
    def message(self) -> str:
        return f"{self.field} {self.value!r}: {self.rule}"


def start_of_day(day: date) -> datetime:
    # Dates are English days: a day starts at midnight in London, not in UTC.
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


_RECORD_TYPE = re.compile(r"[a-z_]{1,40}")
_ID = re.compile(r"[0-9]{1,9}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def build_query(
    session: Session,
    la_id: int,
    *,
    pupil: str = "",
    user: str = "",
    since: date | None = None,
    until: date | None = None,
    record_type: str = "",
    record_id: str = "",
) -> tuple[AuditQuery, list[FilterProblem]]:
    """A manager's filters, checked, within their LA: a pupil by id or UPN, a user by username,
    days from and to (both included), a record by type and id."""
    problems: list[FilterProblem] = []
    pupil_id = actor_id = None
    typed = {"pupil": pupil, "user": user, "record_type": record_type, "record_id": record_id}
    for field, value in typed.items():
        if _CONTROL.search(value):
            shown = _CONTROL.sub("?", value)
            problems.append(FilterProblem(field, shown, "must not contain control characters"))
    if problems:
        return AuditQuery(la_id=la_id), problems
    pupil = pupil.strip()
    if pupil:
        if _ID.fullmatch(pupil):
            found = session.scalar(
                select(Pupil.id).where(Pupil.id == int(pupil), Pupil.la_id == la_id)
            )
            rule = "no pupil of your local authority has this id"
        elif upn_problem(pupil.upper()) is None:
            found = session.scalar(
                select(Pupil.id).where(Pupil.upn == pupil.upper(), Pupil.la_id == la_id)
            )
            rule = "no pupil of your local authority has this UPN"
        else:
            found, rule = None, "enter a pupil's id (digits) or their 13-character UPN"
        if found is None:
            problems.append(FilterProblem("pupil", pupil, rule))
        pupil_id = found
    user = user.strip()
    if user:
        actor_id = session.scalar(select(User.id).where(User.username == user, User.la_id == la_id))
        if actor_id is None:
            rule = "no user of your local authority has this username"
            problems.append(FilterProblem("user", user, rule))
    if since and until and until < since:
        rule = f"must not be before the first day ({since.isoformat()})"
        problems.append(FilterProblem("to", until.isoformat(), rule))
    record_type = record_type.strip()
    if record_type and not _RECORD_TYPE.fullmatch(record_type):
        rule = "a record type is lower-case letters and underscores, for example pupil"
        problems.append(FilterProblem("record_type", record_type, rule))
    record_id = record_id.strip()
    if len(record_id) > 64:
        problems.append(FilterProblem("record_id", record_id[:64], "at most 64 characters"))
    query = AuditQuery(
        la_id=la_id,
        pupil_id=pupil_id,
        actor_id=actor_id,
        record_type=record_type or None,
        record_id=record_id or None,
        since=start_of_day(since) if since else None,
        until=start_of_day(until + timedelta(days=1)) if until else None,
    )
    return query, problems


def search(session: Session, query: AuditQuery, *, page: int = 1, per_page: int = PER_PAGE):
    """One page of matching entries, newest first."""
    statement = _filtered(query)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, page)  # beyond the last page: no entries, as the API promises
    entries = session.scalars(
        statement.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return AuditPage(entries, total, page, pages)


def history(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Every matching entry, oldest first (an access history reads forwards)."""
    return list(session.scalars(_filtered(query).order_by(AuditEntry.id)))


CSV_COLUMNS = (
    "entry",
    "at_utc",
    "user",
    "action",
    "record_type",
    "record_id",
    "pupil_id",
    "route",
    "outcome",
)


def _cell(value: object) -> object:
    # A typed username (a failed sign-in) could start a spreadsheet formula: keep it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(entries: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        at = e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow(
            _cell(v)
            for v in (
                e.id,
                at,
                e.actor_username,
                e.action,
                e.record_type,
                e.record_id or "",
                e.pupil_id or "",
                e.route,
                e.outcome,
            )
        )
    return out.getvalue()
