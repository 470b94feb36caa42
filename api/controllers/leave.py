"""Leave of absence in term time: the parent's application, the headteacher's decision and the
leave as taken laid in the register. Thin handlers over ``workflows.penalties.leave``; every
read is scoped to the pupils the user may see (a request outside it is "not found")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api import schemas as s
from api.controllers.registers import read_id, read_whole
from api.deps import retry_on_conflict, unit_of_work
from casework.errors import Conflict, InvalidInput
from casework.models import Contact, LeaveDecision, LeaveRequest, Pupil
from workflows.context import Context
from workflows.penalties.leave import (
    ApplyForLeave,
    DecideLeave,
    apply_for_leave,
    decide_leave,
    leave_bundle,
    record_leave_taken,
)

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LargestPage = 200


# --- request shapes ---------------------------------------------------------------------------


class ApplyForLeaveIn(msgspec.Struct, forbid_unknown_fields=True):
    pupil_id: s.Id
    school_id: s.Id
    contact_id: s.Id  # the parent who applied
    applied_on: date
    first_day: date
    last_day: date
    reason: s.Text  # the reason the parent gave


class DecideLeaveIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Annotated[str, msgspec.Meta(max_length=40)]  # authorised, partly_authorised, refused
    exceptional_circumstances: bool
    reasons: s.Text
    decided_on: date
    decided_by_name: Annotated[str, msgspec.Meta(max_length=200)]
    decided_by_position: Annotated[str, msgspec.Meta(max_length=200)]
    authorised_from: date | None = None
    authorised_to: date | None = None


class LeaveTakenIn(msgspec.Struct, forbid_unknown_fields=True):
    first_absent: date
    last_absent: date


# --- response shapes --------------------------------------------------------------------------


class LeaveRequestOut(msgspec.Struct):
    id: int
    pupil_id: int
    school_id: int
    applied_by_contact_id: int
    applied_by: str
    applied_on: date
    first_day: date
    last_day: date
    reason: str
    recorded_at: datetime


class LeaveDecisionOut(msgspec.Struct):
    decision: str
    exceptional_circumstances: bool
    reasons: str
    decided_on: date
    decided_by_name: str
    decided_by_position: str
    authorised_from: date | None
    authorised_to: date | None
    school_days_authorised: int
    recorded_at: datetime


class MarkOut(msgspec.Struct):
    date: date
    session: str
    code: str


class LeaveBundleOut(msgspec.Struct):
    """The request, the headteacher's decision (null until recorded) and the pupil's marks at
    the school over the dates asked for: what a holiday penalty-notice request relies on."""

    request: LeaveRequestOut
    decision: LeaveDecisionOut | None
    register: list[MarkOut]


class LeaveListItemOut(msgspec.Struct):
    request: LeaveRequestOut
    decision: str | None
    decided_on: date | None


class LeaveListOut(msgspec.Struct):
    items: list[LeaveListItemOut]
    total: int
    page: int
    page_size: int


class LeaveTakenOut(msgspec.Struct):
    request_id: int
    first_absent: date
    last_absent: date
    sessions_laid: int


def contact_name(contact: Contact) -> str:
    return " ".join(x for x in (contact.title, contact.forename, contact.surname) if x)


def leave_request_out(r: LeaveRequest) -> LeaveRequestOut:
    return LeaveRequestOut(
        r.id,
        r.pupil_id,
        r.school_id,
        r.applied_by_contact_id,
        contact_name(r.applied_by),
        r.applied_on,
        r.first_day,
        r.last_day,
        r.reason,
        r.recorded_at,
    )


def leave_decision_out(d: LeaveDecision) -> LeaveDecisionOut:
    return LeaveDecisionOut(
        d.decision,
        d.exceptional_circumstances,
        d.reasons,
        d.decided_on,
        d.decided_by_name,
        d.decided_by_position,
        d.authorised_from,
        d.authorised_to,
        d.school_days_authorised,
        d.recorded_at,
    )


def bundle_out(ctx: Context, request_id: int) -> LeaveBundleOut:
    found = leave_bundle(ctx, request_id)
    decision = found["decision"]
    return LeaveBundleOut(
        leave_request_out(found["request"]),
        leave_decision_out(decision) if decision is not None else None,
        [MarkOut(day, session, code) for day, session, code in found["register"]],
    )


IdParam = Annotated[str | None, QueryParameter(max_length=40, description="A record number")]
WholeParam = Annotated[str | None, QueryParameter(max_length=40, description="A whole number")]


class LeaveController(Controller):
    path = "/leave-requests"
    tags = ["leave of absence"]

    @get("/", sync_to_thread=True)
    def list_requests(
        self,
        request: Request,
        pupil_id: IdParam = None,
        school_id: IdParam = None,
        page: WholeParam = None,
        page_size: WholeParam = None,
    ) -> LeaveListOut:
        """Leave requests for pupils you may see, the latest leave first; narrow to one pupil
        (``pupil_id``) or one school (``school_id``)."""
        pupil = read_id("pupil_id", pupil_id)
        school = read_id("school_id", school_id)
        number = read_whole("page", page, 1, least=1)
        size = read_whole("page_size", page_size, 50, least=1)
        if size > LargestPage:
            raise InvalidInput.one("page_size", page_size, f"at most {LargestPage}")
        with unit_of_work(request) as ctx:
            where = [ctx.scope.pupils()]
            if pupil is not None:
                where.append(LeaveRequest.pupil_id == pupil)
            if school is not None:
                where.append(LeaveRequest.school_id == school)
            base = select(LeaveRequest).join(Pupil, Pupil.id == LeaveRequest.pupil_id).where(*where)
            total = ctx.session.scalar(select(func.count()).select_from(base.subquery())) or 0
            rows = ctx.session.execute(
                base.add_columns(LeaveDecision.decision, LeaveDecision.decided_on)
                .outerjoin(LeaveDecision, LeaveDecision.request_id == LeaveRequest.id)
                .order_by(LeaveRequest.first_day.desc(), LeaveRequest.id.desc())
                .limit(size)
                .offset((number - 1) * size)
            ).all()
            return LeaveListOut(
                [LeaveListItemOut(leave_request_out(r), d, on) for r, d, on in rows],
                total,
                number,
                size,
            )

    @post("/", sync_to_thread=True)
    def apply(self, request: Request, data: JSONBody[ApplyForLeaveIn]) -> LeaveBundleOut:
        """Record a parent's application for leave in term time (made in advance, by a parent
        the pupil normally lives with)."""
        command = ApplyForLeave(
            data.pupil_id,
            data.school_id,
            data.contact_id,
            data.applied_on,
            data.first_day,
            data.last_day,
            data.reason,
        )

        def change(ctx: Context) -> LeaveBundleOut:
            return bundle_out(ctx, apply_for_leave(ctx, command).id)

        return retry_on_conflict(request, change)

    @get("/{request_id:int}", sync_to_thread=True)
    def get_request(self, request: Request, request_id: FromPath[int]) -> LeaveBundleOut:
        with unit_of_work(request) as ctx:
            return bundle_out(ctx, request_id)

    @post("/{request_id:int}/decision", sync_to_thread=True)
    def decide(
        self, request: Request, request_id: FromPath[int], data: JSONBody[DecideLeaveIn]
    ) -> LeaveBundleOut:
        """The headteacher's (or their authorised deputy's) decision, with reasons. Leave is
        authorised only for exceptional circumstances and never retrospectively."""
        command = DecideLeave(
            data.decision,
            data.exceptional_circumstances,
            data.reasons,
            data.decided_on,
            data.decided_by_name,
            data.decided_by_position,
            data.authorised_from,
            data.authorised_to,
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                decide_leave(ctx, request_id, command)
                found = bundle_out(ctx, request_id)
                ctx.commit()
                return found
        except IntegrityError:
            # Two decisions at once: the unique request_id refuses the second.
            raise Conflict(
                "a decision on this leave request was recorded at the same time: reload it"
            ) from None

    @post("/{request_id:int}/taken", sync_to_thread=True)
    def taken(
        self, request: Request, request_id: FromPath[int], data: JSONBody[LeaveTakenIn]
    ) -> LeaveTakenOut:
        """Lay the leave as taken in the register: C on the days authorised, G on the rest."""
        laid = retry_on_conflict(
            request,
            lambda ctx: record_leave_taken(ctx, request_id, data.first_absent, data.last_absent),
        )
        return LeaveTakenOut(request_id, data.first_absent, data.last_absent, laid)
