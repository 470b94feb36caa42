"""Deadlines: mine by when they fall, a school's, a case's; my calendar feed; the health check."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, QueryParameter

from api.deps import services, unit_of_work
from casework import queries
from casework.errors import NotFound
from casework.models import Case
from casework.models.deadlines import Deadline
from notifications.dispatcher import outbox_health
from workflows.deadlines import bucket, feed_for_token, new_feed_token, open_deadlines, revoke_feed
from workflows.sweep import health


class DeadlineOut(msgspec.Struct):
    id: int
    case_id: int
    case_reference: str
    kind: str
    label: str
    due_on: date
    # pending, or fired: passed unactioned and escalated to the owner's manager.
    status: str
    rule: str
    starts_on: date
    amount: int
    unit: str
    remind_on: date | None


class DeadlineBuckets(msgspec.Struct):
    today: date
    overdue: list[DeadlineOut]
    due_today: list[DeadlineOut]
    this_week: list[DeadlineOut]
    later: list[DeadlineOut]


class FeedOut(msgspec.Struct):
    url: str
    note: str


class HealthOut(msgspec.Struct):
    status: str
    database: str
    last_sweep_at: datetime | None
    due_unfired: int
    failed_deadlines: int
    # The email outbox: pending and due now (a growing number means mail is not going out),
    # and given up on (each needs a person to look at it).
    outbox_due: int = 0
    outbox_failed: int = 0


def _out(deadline: Deadline, case: Case) -> DeadlineOut:
    return DeadlineOut(
        deadline.id,
        case.id,
        case.reference,
        deadline.kind,
        deadline.label,
        deadline.due_on,
        deadline.status,
        deadline.rule,
        deadline.starts_on,
        deadline.amount,
        deadline.unit,
        deadline.remind_on,
    )


def _buckets(rows, day: date) -> DeadlineBuckets:
    grouped = bucket(rows, day)
    return DeadlineBuckets(
        day,
        *[
            [_out(d, c) for d, c in grouped[key]]
            for key in ("overdue", "today", "this_week", "later")
        ],
    )


class DeadlineController(Controller):
    path = "/deadlines"
    tags = ["deadlines"]

    @get("/", sync_to_thread=True)
    def mine(
        self,
        request: Request,
        everything: Annotated[
            bool, QueryParameter(description="all in my scope, not just mine")
        ] = False,
    ) -> DeadlineBuckets:
        """My open deadlines: overdue, today, the rest of this week, later."""
        with unit_of_work(request) as ctx:
            owner = None if everything else ctx.actor.id
            return _buckets(open_deadlines(ctx.session, ctx.scope, owner_id=owner), ctx.today())

    @get("/schools/{school_id:int}", sync_to_thread=True)
    def of_school(self, request: Request, school_id: FromPath[int]) -> DeadlineBuckets:
        with unit_of_work(request) as ctx:
            queries.school(ctx.session, ctx.scope, school_id)
            rows = open_deadlines(ctx.session, ctx.scope, school_id=school_id)
            return _buckets(rows, ctx.today())

    @get("/cases/{case_id:int}", sync_to_thread=True)
    def of_case(self, request: Request, case_id: FromPath[int]) -> list[DeadlineOut]:
        with unit_of_work(request) as ctx:
            case = ctx.case(case_id)
            return [_out(d, c) for d, c in open_deadlines(ctx.session, ctx.scope, case_id=case.id)]

    @post("/feed", sync_to_thread=True)
    def make_feed(self, request: Request) -> FeedOut:
        """A new secret calendar address (shown once); any earlier address stops working."""
        with unit_of_work(request, write=True) as ctx:
            token = new_feed_token(ctx)
            ctx.commit()
        base = str(request.base_url).rstrip("/")
        return FeedOut(
            f"{base}/feeds/{token}.ics",
            "Keep this address private: anyone with it can see your deadlines' case references.",
        )

    @delete("/feed", sync_to_thread=True, status_code=204)
    def revoke(self, request: Request) -> None:
        with unit_of_work(request, write=True) as ctx:
            revoke_feed(ctx)
            ctx.commit()


@get("/feeds/{token:str}", sync_to_thread=True, tags=["deadlines"], include_in_schema=False)
def calendar_feed(request: Request, token: FromPath[str]) -> Response[bytes]:
    """The iCalendar feed behind a secret address (no sign-in: calendar apps cannot)."""
    found = services(request)
    with found.session_factory() as session:
        body = feed_for_token(session, found.clock, token.removesuffix(".ics"))
    if body is None:
        raise NotFound("feed", "address")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


@get("/health", sync_to_thread=True, tags=["operations"])
def service_health(request: Request) -> HealthOut:
    """Liveness, database reachability and the scheduler's last sweep (no personal data)."""
    found = services(request)
    with found.session_factory() as session:
        figures = health(session, found.clock)
        mail = outbox_health(session, found.clock)
    return HealthOut(
        "ok",
        "ok",
        figures.last_sweep_at,
        figures.due_unfired,
        figures.failed,
        mail.due,
        mail.failed,
    )
