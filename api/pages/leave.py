"""Leave-of-absence pages: a pupil's leave requests and recording one; a request with the
headteacher's decision and the leave taken, which a holiday penalty-notice request relies on.
Each change is ``workflows.penalties.leave``'s to allow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import FormError, is_number, me, render, words
from api.pages.penalty_forms import (
    LEAVE_DECISION_WORDS,
    PAGE,
    Form,
    LeaveDecisionForm,
    LeaveForm,
    LeaveTakenForm,
    PageForms,
    Query,
    anchor,
    contact_name,
    field_ids,
    read_date,
    save,
)
from api.pages.pupils import current_schools
from casework import queries
from casework.models import LeaveDecision, LeaveRequest, Pupil, School
from casework.vocabulary import Role
from workflows.context import Context
from workflows.penalties import leave as leave_service
from workflows.penalties import notices

LEAVE_DECIDERS = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER)
# Confirmations shown after a change (the page reads one of these keys, never free text).
LEAVE_DONE = {
    "recorded": "The leave request is recorded. Record the headteacher's decision next.",
    "decided": "The decision is recorded.",
    "taken": "The leave taken is laid in the register: C where authorised, G where not.",
}
LEAVE_FIELDS = {
    "school_id": ("leave-school_id", "School"),
    "contact_id": ("leave-contact_id", "Parent who applied"),
    "applied_on": ("leave-applied_on", "Date of application"),
    "first_day": ("leave-first_day", "First day of leave"),
    "last_day": ("leave-last_day", "Last day of leave"),
    "reason": ("leave-reason", "Reason given"),
}
# Each form on a leave request's page: the service's fields as the form's (id, label).
FORMS = {
    "decision": {
        "decision": ("decision-decision", "Decision"),
        "exceptional_circumstances": ("decision-exceptional", "Exceptional circumstances"),
        "reasons": ("decision-reasons", "Reasons"),
        "decided_on": ("decision-decided_on", "Date of decision"),
        "decided_by_name": ("decision-decided_by_name", "Decided by"),
        "decided_by_position": ("decision-decided_by_position", "Their position"),
        "authorised_from": ("decision-authorised_from", "Days authorised"),
        "authorised_to": ("decision-authorised_to", "Last day authorised"),
    },
    "taken": {
        "first_absent": ("taken-first_absent", "First day absent"),
        "last_absent": ("taken-last_absent", "Last day absent"),
    },
}
STALE = "Another change to these records was saved first: check them and try again"


def _current_schools(ctx: Context, pupil: Pupil) -> list[tuple[int, str]]:
    names = {s.id: s.name for s in queries.schools(ctx.session, ctx.scope)}
    return current_schools(pupil, ctx.today(), names)


def leave_list_page(
    request: Request,
    pupil_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        # Outside the user's scope (an administrator's too) the pupil is "not found".
        pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
        names = {s.id: s.name for s in ctx.session.scalars(select(School))}
        found = ctx.session.execute(
            select(LeaveRequest, LeaveDecision)
            .outerjoin(LeaveDecision, LeaveDecision.request_id == LeaveRequest.id)
            .where(LeaveRequest.pupil_id == pupil.id)
            .order_by(LeaveRequest.first_day.desc(), LeaveRequest.id.desc())
        ).all()
        schools = _current_schools(ctx, pupil)
        context = {
            "me": me(ctx),
            "pupil": {"id": pupil.id, "name": pupil.display_name},
            "requests": [
                {
                    "id": lr.id,
                    "school": names.get(lr.school_id, ""),
                    "parent": contact_name(lr.applied_by),
                    "applied_on": lr.applied_on,
                    "first_day": lr.first_day,
                    "last_day": lr.last_day,
                    "decision": LEAVE_DECISION_WORDS.get(d.decision, words(d.decision))
                    if d
                    else "Not decided yet",
                }
                for lr, d in found
            ],
            "may_record": Role(ctx.actor.role) in leave_service.SCHOOL_ROLES,
            "school_options": schools,
            "contact_options": [
                (
                    link.contact_id,
                    contact_name(link.contact)
                    + f" ({words(link.relationship_to_pupil).lower()}"
                    + (", parental responsibility)" if link.parental_responsibility else ")"),
                )
                for link in notices.parents_of(ctx, pupil.id)
            ],
            "form": submitted
            or {
                "applied_on": ctx.today().isoformat(),
                "school_id": str(schools[0][0]) if len(schools) == 1 else "",
            },
        }
    offered = context["may_record"] and schools and context["contact_options"]
    known = field_ids(LEAVE_FIELDS) | {"record-leave"} if offered else set()
    context["errors"] = anchor(errors or [], known, "record-leave" if offered else PAGE)
    return render("leave_list.html", context, status=status)


def leave_page(
    request: Request,
    leave_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    submitted = submitted or {}
    with unit_of_work(request) as ctx:
        bundle = leave_service.leave_bundle(ctx, leave_id)
        lr, decision = bundle["request"], bundle["decision"]
        pupil = ctx.session.get(Pupil, lr.pupil_id)
        deciders = Role(ctx.actor.role) in LEAVE_DECIDERS
        marks: dict[date, dict[str, str]] = {}
        for d, session, code in bundle["register"]:
            marks.setdefault(d, {"AM": "", "PM": ""})[session] = code
        context = {
            "me": me(ctx),
            "leave": {
                "id": lr.id,
                "pupil_id": lr.pupil_id,
                "pupil": pupil.display_name,
                "school": ctx.session.get(School, lr.school_id).name,
                "parent": contact_name(lr.applied_by),
                "applied_on": lr.applied_on,
                "first_day": lr.first_day,
                "last_day": lr.last_day,
                "reason": lr.reason,
            },
            "decision": {
                "decision": LEAVE_DECISION_WORDS.get(decision.decision, words(decision.decision)),
                "exceptional": decision.exceptional_circumstances,
                "reasons": decision.reasons,
                "decided_on": decision.decided_on,
                "decided_by": f"{decision.decided_by_name}, {decision.decided_by_position}",
                "authorised_from": decision.authorised_from,
                "authorised_to": decision.authorised_to,
                "school_days_authorised": decision.school_days_authorised,
            }
            if decision
            else None,
            "register": [(d, marks[d]["AM"], marks[d]["PM"]) for d in sorted(marks)],
            "may_decide": deciders and decision is None,
            "may_record_taken": deciders and decision is not None,
            "decision_options": list(LEAVE_DECISION_WORDS.items()),
            "done": LEAVE_DONE.get(done, ""),
            "form": submitted.get("form", ""),
            "decide": submitted
            if submitted.get("form") == "decision"
            else {"decided_on": ctx.today().isoformat()},
            "taken": submitted
            if submitted.get("form") == "taken"
            else {
                "first_absent": lr.first_day.isoformat(),
                "last_absent": lr.last_day.isoformat(),
            },
        }
    known = {"decision"}
    if context["may_decide"]:
        known |= field_ids(FORMS["decision"])
    if context["may_record_taken"]:
        known |= {"taken"} | field_ids(FORMS["taken"])
    context["errors"] = anchor(errors or [], known, "decision")
    return render("leave.html", context, status=status)


PAGE_FORMS = PageForms(leave_page, "/leave/{id}?done={done}", FORMS, STALE)


class LeavePages(Controller):
    include_in_schema = False

    @get("/pupils/{pupil_id:int}/leave", sync_to_thread=True)
    def leave_list(self, request: Request, pupil_id: FromPath[int]) -> Template:
        return leave_list_page(request, pupil_id)

    @post("/pupils/{pupil_id:int}/leave", sync_to_thread=True)
    def record_leave(
        self, request: Request, pupil_id: FromPath[int], data: Form[LeaveForm]
    ) -> Response | Template:
        shown = msgspec.structs.asdict(data)
        errors: list[FormError] = []
        if not is_number(data.school_id):
            errors.append(FormError("leave-school_id", "School: choose the pupil's school"))
        if not is_number(data.contact_id):
            errors.append(
                FormError("leave-contact_id", "Parent who applied: choose one of those listed")
            )
        applied_on = read_date(data.applied_on, "leave-applied_on", "Date of application", errors)
        first = read_date(data.first_day, "leave-first_day", "First day of leave", errors)
        last = read_date(data.last_day, "leave-last_day", "Last day of leave", errors)
        if errors:
            return leave_list_page(request, pupil_id, errors=errors, submitted=shown, status=422)
        command = leave_service.ApplyForLeave(
            pupil_id=pupil_id,
            school_id=int(data.school_id),
            contact_id=int(data.contact_id),
            applied_on=applied_on,
            first_day=first,
            last_day=last,
            reason=data.reason,
        )
        saved = save(
            request,
            lambda ctx: leave_service.apply_for_leave(ctx, command).id,
            fields=LEAVE_FIELDS,
            fallback="record-leave",
            stale=STALE,
        )
        if saved.errors:
            return leave_list_page(
                request, pupil_id, errors=saved.errors, submitted=shown, status=saved.status
            )
        return Redirect(f"/leave/{saved.value}?done=recorded", status_code=303)

    @get("/leave/{leave_id:int}", sync_to_thread=True)
    def show_leave(self, request: Request, leave_id: FromPath[int], done: Query = "") -> Template:
        return leave_page(request, leave_id, done=done)

    @post("/leave/{leave_id:int}/decision", sync_to_thread=True)
    def decide_leave(
        self, request: Request, leave_id: FromPath[int], data: Form[LeaveDecisionForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        if data.decision not in LEAVE_DECISION_WORDS:
            errors.append(FormError("decision-decision", "Decision: choose one"))
        if data.exceptional_circumstances not in ("yes", "no"):
            errors.append(
                FormError(
                    "decision-exceptional",
                    "Exceptional circumstances: say whether there are exceptional circumstances",
                )
            )
        decided_on = read_date(data.decided_on, "decision-decided_on", "Date of decision", errors)
        start = read_date(
            data.authorised_from,
            "decision-authorised_from",
            "First day authorised",
            errors,
            optional=True,
        )
        end = read_date(
            data.authorised_to,
            "decision-authorised_to",
            "Last day authorised",
            errors,
            optional=True,
        )
        if errors:
            return PAGE_FORMS.again(request, leave_id, "decision", data, errors)
        command = leave_service.DecideLeave(
            decision=data.decision,
            exceptional_circumstances=data.exceptional_circumstances == "yes",
            reasons=data.reasons,
            decided_on=decided_on,
            decided_by_name=data.decided_by_name,
            decided_by_position=data.decided_by_position,
            authorised_from=start,
            authorised_to=end,
        )
        return PAGE_FORMS.change(
            request,
            leave_id,
            "decision",
            data,
            lambda ctx: leave_service.decide_leave(ctx, leave_id, command),
            "decided",
        )

    @post("/leave/{leave_id:int}/taken", sync_to_thread=True)
    def leave_taken(
        self, request: Request, leave_id: FromPath[int], data: Form[LeaveTakenForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        first = read_date(data.first_absent, "taken-first_absent", "First day absent", errors)
        last = read_date(data.last_absent, "taken-last_absent", "Last day absent", errors)
        if errors:
            return PAGE_FORMS.again(request, leave_id, "taken", data, errors)
        return PAGE_FORMS.change(
            request,
            leave_id,
            "taken",
            data,
            lambda ctx: leave_service.record_leave_taken(ctx, leave_id, first, last),
            "taken",
        )
