"""The case page's people and paperwork: the pupil's family (each parent with their contact
details, brothers and sisters at any school the user may see), the case's documents with an
upload form, handing the case on (to someone else in the team, by a manager to anyone, or a
referral to another team), and the decision to carry on with support when the penalty-notice
threshold is met.

Thin over the services (``workflows.attachments``, ``workflows.responsibility``,
``workflows.penalty_decision``): a refusal comes back to the case page as the GOV.UK error
summary, naming the field, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response
from sqlalchemy import select

from api import present
from api.deps import retry_on_conflict
from api.pages.common import FormError, is_number, sentence
from casework import queries
from casework.errors import Conflict, Forbidden, InvalidInput
from casework.errors import NotFound as NotFoundError
from casework.models import ApprovalRequest, Case, Enrolment, Referral, School, User
from casework.models.deadlines import Deadline
from casework.vocabulary import Role, Stage, Team, year_group
from workflows.approvals import decide_approval, request_approval
from workflows.attachments import MAX_BYTES, AddAttachment, add_attachment, attachments_of
from workflows.context import Context
from workflows.penalty_decision import CLOCK as DECISION_CLOCK
from workflows.penalty_decision import REASON_MAX, may_decide, record_support_continues
from workflows.policy import CASEWORK_ROLES, can_hold, may_fire, team_of
from workflows.responsibility import (
    STATUTORY_REFERRAL_FIELDS,
    MakeReferral,
    accept_referral,
    assign,
    refer,
    return_referral,
)

# The statutory referral form's sections as a school fills them in (Knowsley, Level 3).
REFERRAL_SECTIONS = {
    "actions_taken": "What the school has done",
    "attendance_data": "Attendance: the figures and the pattern",
    "support_offered": "Support offered and how the family responded",
}
assert set(REFERRAL_SECTIONS) == set(STATUTORY_REFERRAL_FIELDS)

# Field ids on the case page each form's errors may point at.
FIELD_IDS = frozenset(
    {
        "documents",
        "document-file",
        "handover",
        "handover-to_user_id",
        "handover-reason",
        "referral",
        "referral-to_team",
        "referral-reason",
        *(f"referral-{name}" for name in REFERRAL_SECTIONS),
        "approval-requests",
        "approval-target_stage",
        "approval-reason",
        "decision-reason",
        "referrals",
        "referral-decision-reason",
        "deadlines",
        "penalty-decision-reason",
    }
)

# The case page's success banners, by the ``done`` a form redirects with.
CASE_DONE = {
    "penalty-decision": "Decision recorded: a penalty notice is not being pursued now and "
    "support continues. The decision deadline is met.",
}


# --- what the case page shows -------------------------------------------------------------------


def family_view(ctx: Context, case: Case) -> dict[str, Any]:
    """The pupil's parents and carers (in the school's order), and siblings the user may see."""
    pupil = queries.pupil(ctx.session, ctx.scope, case.pupil_id)
    links = sorted(pupil.contacts, key=lambda link: (link.priority, link.contact_id))
    siblings = queries.siblings(ctx.session, ctx.scope, pupil)
    schools = _current_schools(ctx, [s.id for s in siblings])
    return {
        "contacts": [present.contact(link, link.contact) for link in links],
        "siblings": [
            {
                "id": s.id,
                "name": s.display_name,
                "year": year_group(s.nc_year),
                "school": schools.get(s.id, "No current school"),
                "same_school": s.id in schools and schools[s.id] == case.school.name,
            }
            for s in siblings
        ],
    }


def _current_schools(ctx: Context, pupil_ids: list[int]) -> dict[int, str]:
    if not pupil_ids:
        return {}
    today = ctx.today()
    rows = ctx.session.execute(
        select(Enrolment.pupil_id, School.name)
        .join(School, School.id == Enrolment.school_id)
        .where(
            Enrolment.pupil_id.in_(pupil_ids),
            Enrolment.start_date <= today,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
            ctx.scope.schools(),
        )
        .order_by(Enrolment.registration.desc())  # "main" before "dual"
    )
    found: dict[int, str] = {}
    for pupil_id, name in rows:
        found.setdefault(pupil_id, name)
    return found


def documents_view(ctx: Context, case: Case) -> dict[str, Any]:
    return {
        "files": [
            {
                "id": a.id,
                "filename": a.filename,
                "media_type": a.media_type,
                "size_kb": max(1, round(a.size / 1024)),
                "uploaded_at": a.uploaded_at,
                "href": f"/api/cases/{case.id}/attachments/{a.id}",
            }
            for a in attachments_of(ctx, case.id)
        ],
        "may_add": may_fire(Role(ctx.actor.role), "add_attachment") is None,
        "max_mb": MAX_BYTES // (1024 * 1024),
    }


def handover_view(ctx: Context, case: Case) -> dict[str, Any]:
    """Who the user may hand the case to, and which teams they may refer it to."""
    role = Role(ctx.actor.role)
    if case.stage == Stage.CLOSED or role not in CASEWORK_ROLES:
        return {"open": False}
    school = case.school
    people = ctx.session.scalars(
        select(User)
        .where(User.la_id == case.la_id, User.active.is_(True), User.id != case.owner_id)
        .order_by(User.full_name)
    )
    candidates = [
        (u.id, f"{u.full_name}, {u.position}")
        for u in people
        if can_hold(u, school) and (role == Role.LA_MANAGER or team_of(u).value == case.team)
    ]
    teams = [
        (team.value, label)
        for team, label in (
            (Team.TRADED, "The traded attendance service"),
            (Team.STATUTORY, "The statutory attendance team"),
        )
        if team.value != case.team and (team != Team.TRADED or school.traded_service)
    ]
    return {
        "open": True,
        "candidates": candidates,
        "teams": teams,
        # A school without a traded officer sends the statutory referral form's sections.
        "sections": REFERRAL_SECTIONS if case.team == Team.SCHOOL else {},
    }


def decisions_view(
    ctx: Context,
    case: Case,
    approvals: list[ApprovalRequest],
    referrals: list[Referral],
) -> dict[str, Any]:
    """What the user may ask or decide on the case: a manager's approval before a formal stage
    (asked by the case's workers, given by a manager other than the one who asked), and a
    referral waiting for the user's team. The case page's own lists are passed in."""
    role = Role(ctx.actor.role)
    open_case = case.stage != Stage.CLOSED and role in CASEWORK_ROLES
    asked = {a.target_stage for a in approvals if a.status in ("pending", "approved")}
    may_ask = [
        (stage, Stage(stage).label)
        for stage in ctx.profile.approval_required_before
        if stage not in asked and stage != case.stage
    ]
    referral = next((r for r in referrals if r.status == "pending"), None)
    my_team = team_of(ctx.actor).value
    return {
        "may_ask": may_ask if open_case else [],
        "to_decide": [
            a.id
            for a in approvals
            if a.status == "pending"
            and role == Role.LA_MANAGER
            and a.requested_by_id != ctx.actor.id
        ],
        "referral": (
            {
                "id": referral.id,
                "to_team": referral.to_team,
                "may_accept": role != Role.LA_MANAGER and my_team == referral.to_team,
            }
            if referral is not None
            and open_case
            and (role == Role.LA_MANAGER or my_team == referral.to_team)
            else None
        ),
    }


def penalty_decision_view(
    ctx: Context, case: Case, still_open: list[Deadline]
) -> dict[str, Any] | None:
    """The open "threshold met: decide" deadline among the case's open deadlines (the page has
    them already), when the user may answer it on this page."""
    if case.stage == Stage.CLOSED or not may_decide(ctx):
        return None
    deadline = next((d for d in still_open if d.kind == DECISION_CLOCK), None)
    if deadline is None:
        return None
    return {
        "label": deadline.label,
        "due_on": deadline.due_on,
        "passed": deadline.status == "fired",
        "reason_max": REASON_MAX,
    }


# --- the forms ----------------------------------------------------------------------------------


@dataclass
class DocumentForm:
    file: UploadFile | None = None


@dataclass
class HandoverForm:
    to_user_id: str = ""
    reason: str = ""


@dataclass
class ApprovalForm:
    target_stage: str = ""
    reason: str = ""


@dataclass
class DecisionForm:
    decision: str = ""
    reason: str = ""


@dataclass
class ReferralDecisionForm:
    decision: str = ""
    reason: str = ""


@dataclass
class PenaltyDecisionForm:
    reason: str = ""


@dataclass
class ReferralForm:
    to_team: str = ""
    reason: str = ""
    actions_taken: str = ""
    attendance_data: str = ""
    support_offered: str = ""


def _problems(exc: InvalidInput, prefix: str, fields: dict[str, str], fallback: str):
    """Each problem as an error on the field it names (``content.x`` is the form's ``x``)."""
    errors = []
    for problem in exc.problems:
        name = problem.field.removeprefix("content.")
        label = fields.get(name)
        if label is None:
            errors.append(FormError(fallback, sentence(problem.rule)))
        else:
            errors.append(FormError(f"{prefix}-{name}", f"{label}: {problem.rule}"))
    return errors


@dataclass(frozen=True)
class Outcome:
    """Where a form's errors go: its field ids' prefix, the fields' labels, the section its
    other refusals point at, and where a success lands."""

    prefix: str
    fields: dict[str, str]
    section: str
    done: str


def _submit(
    request: Request,
    case_id: int,
    change: Any,
    outcome: Outcome,
    submitted: dict[str, Any] | None = None,
) -> Response:
    """Run the change in a write unit of work; a refusal re-renders the case page with the
    GOV.UK error summary (naming the field where it can) and nothing changed."""
    from api.pages.cases import case_page

    try:
        retry_on_conflict(request, change)
    except InvalidInput as exc:
        errors = _problems(exc, outcome.prefix, outcome.fields, outcome.section)
        return case_page(request, case_id, errors=errors, submitted=submitted, status=422)
    except (Conflict, Forbidden) as exc:
        status = 409 if isinstance(exc, Conflict) else 403
        errors = [FormError(outcome.section, sentence(str(exc)))]
        return case_page(request, case_id, errors=errors, submitted=submitted, status=status)
    return Redirect(f"/cases/{case_id}{outcome.done}", status_code=303)


class CaseFormPages(Controller):
    path = "/cases"
    include_in_schema = False

    @post(
        "/{case_id:int}/documents",
        sync_to_thread=True,
        request_max_body_size=MAX_BYTES + 64 * 1024,
    )
    def add_document(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[DocumentForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response:
        from api.pages.cases import case_page

        upload = data.file
        if upload is None or not upload.filename:
            error = FormError("document-file", "Choose a file to add to the case")
            return case_page(request, case_id, errors=[error], status=422)
        command = AddAttachment(
            filename=upload.filename,
            media_type=(upload.content_type or "").split(";")[0].strip().lower(),
            content=upload.file.read(MAX_BYTES + 1),
        )
        return _submit(
            request,
            case_id,
            lambda ctx: add_attachment(ctx, case_id, command),
            Outcome("document", {"file": "File"}, "documents", "#documents"),
        )

    @post("/{case_id:int}/handover", sync_to_thread=True)
    def hand_over(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[HandoverForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        from api.pages.cases import case_page

        submitted = {"form": "handover", **data.__dict__}
        if not is_number(data.to_user_id.strip()):
            error = FormError("handover-to_user_id", "Choose who the case goes to")
            return case_page(request, case_id, errors=[error], submitted=submitted, status=422)
        to_user_id = int(data.to_user_id)
        fields = {"to_user_id": "Who the case goes to", "reason": "Why"}
        return _submit(
            request,
            case_id,
            lambda ctx: assign(ctx, case_id, to_user_id, data.reason),
            Outcome("handover", fields, "handover", ""),
            submitted,
        )

    @post("/{case_id:int}/referral", sync_to_thread=True)
    def make_referral(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[ReferralForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:

        submitted = {"form": "referral", **data.__dict__}
        content = {
            name: text for name in REFERRAL_SECTIONS if (text := getattr(data, name).strip())
        }
        command = MakeReferral(to_team=data.to_team, reason=data.reason, content=content)
        fields = {"to_team": "Refer to", "reason": "Why", **REFERRAL_SECTIONS}
        return _submit(
            request,
            case_id,
            lambda ctx: refer(ctx, case_id, command),
            Outcome("referral", fields, "referral", "#referrals"),
            submitted,
        )

    @post("/{case_id:int}/approvals", sync_to_thread=True)
    def ask_approval(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[ApprovalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:

        submitted = {"form": "approval", **data.__dict__}
        fields = {"target_stage": "Move to", "reason": "Reason"}
        return _submit(
            request,
            case_id,
            lambda ctx: request_approval(ctx, case_id, data.target_stage, data.reason),
            Outcome("approval", fields, "approval-requests", "#approval-requests"),
            submitted,
        )

    @post("/{case_id:int}/approvals/{approval_id:int}/decision", sync_to_thread=True)
    def decide(
        self,
        request: Request,
        case_id: FromPath[int],
        approval_id: FromPath[int],
        data: Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        from api.pages.cases import case_page

        submitted = {"form": "decision", **data.__dict__}
        if data.decision not in ("approve", "refuse"):
            error = FormError("approval-requests", "Choose to approve or to refuse the move")
            return case_page(request, case_id, errors=[error], submitted=submitted, status=422)

        def change(ctx: Context):
            found = decide_approval(ctx, approval_id, data.decision == "approve", data.reason)
            if found.case_id != case_id:  # the address names another case: nothing changes
                raise NotFoundError("record", case_id)
            return found

        return _submit(
            request,
            case_id,
            change,
            Outcome("decision", {"reason": "Reason"}, "approval-requests", "#approval-requests"),
            submitted,
        )

    @post("/{case_id:int}/referrals/{referral_id:int}/decision", sync_to_thread=True)
    def decide_referral(
        self,
        request: Request,
        case_id: FromPath[int],
        referral_id: FromPath[int],
        data: Annotated[ReferralDecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        from api.pages.cases import case_page

        submitted = {"form": "referral-decision", **data.__dict__}
        if data.decision not in ("accept", "return"):
            error = FormError("referrals", "Choose to accept or to return the referral")
            return case_page(request, case_id, errors=[error], submitted=submitted, status=422)

        def change(ctx: Context):
            case = ctx.case(case_id)
            if referral_id not in {r.id for r in queries.referrals_of(ctx.session, case)}:
                raise NotFoundError("record", case_id)
            if data.decision == "accept":
                return accept_referral(ctx, referral_id, data.reason)
            return return_referral(ctx, referral_id, data.reason)

        return _submit(
            request,
            case_id,
            change,
            Outcome("referral-decision", {"reason": "Reason"}, "referrals", ""),
            submitted,
        )

    @post("/{case_id:int}/penalty-decision", sync_to_thread=True)
    def penalty_decision(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[PenaltyDecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        submitted = {"form": "penalty-decision", **data.__dict__}
        return _submit(
            request,
            case_id,
            lambda ctx: record_support_continues(ctx, case_id, data.reason),
            Outcome(
                "penalty-decision",
                {"reason": "Reason"},
                "deadlines",
                "?done=penalty-decision",
            ),
            submitted,
        )
