"""The audit log for LA managers and administrators of that LA: search it, and read or export one
pupil's access history. Anyone else is refused (403); a pupil of another LA is not found (404)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from api.audit import note_pupil
from api.deps import unit_of_work
from casework.audit_search import (
    AuditQuery,
    build_query,
    csv_text,
    history,
    search,
    start_of_day,
)
from casework.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import AuditEntry, Pupil
from casework.vocabulary import Role
from workflows.context import Context

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]
Text = Annotated[str, QueryParameter(max_length=100)]
Since = Annotated[date | None, QueryParameter(name="from")]


def allowed(ctx: Context) -> None:
    if Role(ctx.actor.role) not in (Role.LA_MANAGER, Role.ADMIN):
        raise Forbidden("only LA managers and administrators see the audit log")


def pupil_of_la(ctx: Context, pupil_id: int) -> Pupil:
    """A pupil of the caller's LA; any other id (another LA's, none, out of range): not found."""
    pupil = ctx.session.get(Pupil, pupil_id) if 0 < pupil_id < 2**31 else None
    if pupil is None or pupil.la_id != ctx.actor.la_id:
        raise NotFound("pupil", pupil_id)
    return pupil


def pupil_history_response(
    ctx: Context, pupil_id: int, since: date | None, until: date | None
) -> Response:
    """A pupil of the manager's LA: every entry about them as CSV (another LA's: not found)."""
    pupil_of_la(ctx, pupil_id)
    query = AuditQuery(
        la_id=ctx.actor.la_id,
        pupil_id=pupil_id,
        since=start_of_day(since) if since else None,
        until=start_of_day(date.fromordinal(until.toordinal() + 1)) if until else None,
    )
    body = csv_text(history(ctx.session, query))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="pupil-{pupil_id}-access-history.csv"'
        },
    )


class AuditEntryOut(msgspec.Struct):
    id: int
    at: datetime
    actor_id: int | None
    actor_username: str
    action: str
    record_type: str
    record_id: str | None
    pupil_id: int | None
    route: str
    outcome: str


class AuditPageOut(msgspec.Struct):
    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_username=entry.actor_username,
        action=entry.action,
        record_type=entry.record_type,
        record_id=entry.record_id,
        pupil_id=entry.pupil_id,
        route=entry.route,
        outcome=entry.outcome,
    )


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get("/", sync_to_thread=True)
    def search_entries(
        self,
        request: Request,
        pupil: Text = "",
        user: Text = "",
        from_: Since = None,
        to: FromQuery[date | None] = None,
        record_type: Text = "",
        record_id: Text = "",
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> AuditPageOut:
        """Entries of the caller's LA, newest first: by pupil (id or UPN), user (username),
        days from and to (both included), record type and id."""
        with unit_of_work(request) as ctx:
            allowed(ctx)
            query, problems = build_query(
                ctx.session,
                ctx.actor.la_id,
                pupil=pupil,
                user=user,
                since=from_,
                until=to,
                record_type=record_type,
                record_id=record_id,
            )
            if problems:
                raise InvalidInput([FieldProblem(p.field, p.value, p.rule) for p in problems])
            if query.pupil_id is not None:
                note_pupil(request.scope["state"], query.pupil_id)  # this read is about them
            found = search(ctx.session, query, page=page, per_page=page_size)
            return AuditPageOut([_out(e) for e in found.entries], found.total, page, page_size)

    @get("/pupils/{pupil_id:int}", sync_to_thread=True)
    def pupil_history(
        self,
        request: Request,
        pupil_id: FromPath[int],
        from_: Since = None,
        to: FromQuery[date | None] = None,
    ) -> list[AuditEntryOut]:
        """Every entry about one pupil of the caller's LA, oldest first."""
        with unit_of_work(request) as ctx:
            allowed(ctx)
            pupil_of_la(ctx, pupil_id)
            query = AuditQuery(
                la_id=ctx.actor.la_id,
                pupil_id=pupil_id,
                since=start_of_day(from_) if from_ else None,
                until=start_of_day(date.fromordinal(to.toordinal() + 1)) if to else None,
            )
            return [_out(e) for e in history(ctx.session, query)]

    @get("/pupils/{pupil_id:int}/history.csv", sync_to_thread=True, media_type="text/csv")
    def pupil_history_csv(
        self,
        request: Request,
        pupil_id: FromPath[int],
        from_: Since = None,
        to: FromQuery[date | None] = None,
    ) -> Response:
        """The same history as CSV: entry, time (UTC), user, action, record, pupil, route,
        outcome."""
        with unit_of_work(request) as ctx:
            allowed(ctx)
            return pupil_history_response(ctx, pupil_id, from_, to)
