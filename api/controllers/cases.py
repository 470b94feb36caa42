"""Cases: caseloads, the chronology, available actions and moving a case on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.orm.exc import StaleDataError

from api import present
from api import schemas as s
from api.deps import retry_on_conflict, unit_of_work
from casework import queries
from casework.errors import Conflict
from casework.vocabulary import Stage
from workflows.approvals import request_approval
from workflows.attachments import (
    MAX_BYTES,
    AddAttachment,
    add_attachment,
    attachment,
    attachments_of,
)
from workflows.cases import FireTrigger, OpenCase, available_actions, fire_trigger, open_case
from workflows.facts import ListedSession
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)
from workflows.machine import TRIGGER_LABELS
from workflows.penalty_decision import record_support_continues
from workflows.responsibility import MakeReferral, assign, refer

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


def case_detail(ctx, case) -> s.CaseDetail:
    return s.CaseDetail(
        case=present.case_summary(case, ctx.profile),
        responsibility=[
            present.responsibility(r) for r in queries.responsibility(ctx.session, case)
        ],
        referrals=[present.referral(r) for r in queries.referrals_of(ctx.session, case)],
        approvals=[present.approval(a) for a in queries.approvals_of(ctx.session, case)],
    )


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def caseload(
        self,
        request: Request,
        owner_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        school_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        stage: Annotated[list[Stage] | None, QueryParameter()] = None,
        level: Annotated[int | None, QueryParameter(ge=1, le=9)] = None,
        open_only: FromQuery[bool] = True,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> s.CasePage:
        with unit_of_work(request) as ctx:
            stages = tuple(x.value for x in stage or [])
            if level is not None:
                at_level = next((lv.stages for lv in ctx.profile.levels if lv.number == level), [])
                stages = tuple(x for x in (stages or at_level) if x in at_level) or ("-",)
            rows, total = queries.list_cases(
                ctx.session,
                ctx.scope,
                queries.CaseFilter(owner_id, school_id, stages, open_only, page, page_size),
            )
            return s.CasePage(
                [present.case_summary(c, ctx.profile) for c in rows], total, page, page_size
            )

    @post("/", sync_to_thread=True)
    def open(self, request: Request, data: JSONBody[s.OpenCaseIn]) -> s.CaseDetail:
        with unit_of_work(request, write=True) as ctx:
            case = open_case(
                ctx,
                OpenCase(
                    data.pupil_id,
                    data.school_id,
                    data.kind,
                    Stage(data.stage),
                    data.reason,
                    data.owner_id,
                ),
            )
            ctx.commit()
            return case_detail(ctx, case)

    @get("/{case_id:int}", sync_to_thread=True)
    def get_case(self, request: Request, case_id: FromPath[int]) -> s.CaseDetail:
        with unit_of_work(request) as ctx:
            return case_detail(ctx, ctx.case(case_id))

    @get("/{case_id:int}/events", sync_to_thread=True)
    def chronology(self, request: Request, case_id: FromPath[int]) -> list[s.EventOut]:
        with unit_of_work(request) as ctx:
            return [present.event(e) for e in queries.events(ctx.session, ctx.case(case_id))]

    @get("/{case_id:int}/actions", sync_to_thread=True)
    def actions(self, request: Request, case_id: FromPath[int]) -> s.ActionsOut:
        with unit_of_work(request) as ctx:
            case, actions = available_actions(ctx, case_id)
            return s.ActionsOut(
                case.id,
                case.stage,
                case.version,
                [
                    s.ActionOut(
                        a.trigger,
                        TRIGGER_LABELS[a.trigger],
                        a.allowed,
                        [s.UnmetGuardOut(u.guard, u.reason, u.overridable) for u in a.unmet],
                    )
                    for a in actions
                ],
            )

    @post("/{case_id:int}/transitions", sync_to_thread=True)
    def transition(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.TransitionIn]
    ) -> s.CaseDetail:
        command = FireTrigger(
            trigger=data.trigger,
            expected_version=data.expected_version,
            reason=data.reason,
            rationales=dict(data.rationales),
            outcome=data.outcome,
            sessions=[ListedSession(x.date, x.session, x.code.upper()) for x in data.sessions],
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                case = fire_trigger(ctx, case_id, command)
                ctx.commit()
                return case_detail(ctx, case)
        except StaleDataError:
            raise Conflict(
                "another change to this case was saved first: reload it and try again"
            ) from None

    @get("/{case_id:int}/interventions", sync_to_thread=True)
    def interventions(self, request: Request, case_id: FromPath[int]) -> list[s.InterventionOut]:
        with unit_of_work(request) as ctx:
            rows = queries.interventions(ctx.session, ctx.case(case_id))
            return [present.intervention(i, superseded) for i, superseded in rows]

    @post("/{case_id:int}/interventions", sync_to_thread=True)
    def record(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.InterventionIn]
    ) -> s.InterventionOut:
        command = RecordIntervention(
            kind=data.kind,
            occurred_on=data.occurred_on,
            summary=data.summary,
            family_engaged=data.family_engaged,
            outcome=data.outcome,
            attendees=list(data.attendees),
            details=dict(data.details),
        )
        item = retry_on_conflict(request, lambda ctx: record_intervention(ctx, case_id, command))
        return present.intervention(item, False)

    @post("/{case_id:int}/interventions/{intervention_id:int}/outcome", sync_to_thread=True)
    def outcome(
        self,
        request: Request,
        case_id: FromPath[int],
        intervention_id: FromPath[int],
        data: JSONBody[s.OutcomeIn],
    ) -> s.InterventionOut:
        command = RecordOutcome(data.outcome, data.family_engaged, data.note)
        item = retry_on_conflict(
            request, lambda ctx: record_outcome(ctx, case_id, intervention_id, command)
        )
        return present.intervention(item, False)

    @post("/{case_id:int}/assignment", sync_to_thread=True)
    def assign(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.AssignIn]
    ) -> s.CaseDetail:
        def change(ctx):
            return case_detail(ctx, assign(ctx, case_id, data.to_user_id, data.reason))

        return retry_on_conflict(request, change)

    @post("/{case_id:int}/referrals", sync_to_thread=True)
    def refer(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.ReferralIn]
    ) -> s.ReferralOut:
        command = MakeReferral(data.to_team, data.reason, data.to_user_id, dict(data.content))
        return present.referral(
            retry_on_conflict(request, lambda ctx: refer(ctx, case_id, command))
        )

    @post("/{case_id:int}/approvals", sync_to_thread=True)
    def ask_approval(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.ApprovalIn]
    ) -> s.ApprovalOut:
        return present.approval(
            retry_on_conflict(
                request, lambda ctx: request_approval(ctx, case_id, data.target_stage, data.reason)
            )
        )

    @post(
        "/{case_id:int}/penalty-decision",
        sync_to_thread=True,
        summary="Record carrying on with support after the penalty-notice threshold is met",
        description=(
            "The threshold (or lateness trigger) met on an open case arms the LA profile's "
            "penalty_decision clock: a penalty notice must be considered. This records the "
            "decision not to pursue one now and to carry on with support, with the reason, as a "
            "penalty_considered case event, and stops the clock. 422 names the field, value and "
            "rule when the case is closed, the reason is missing or too long, or no decision is "
            "open on the case. Those who may issue a Notice to Improve may record it."
        ),
    )
    def penalty_decision(
        self, request: Request, case_id: FromPath[int], data: JSONBody[s.PenaltyDecisionIn]
    ) -> s.EventOut:
        event = retry_on_conflict(
            request, lambda ctx: record_support_continues(ctx, case_id, data.reason)
        )
        return present.event(event)


class AttachmentController(Controller):
    path = "/cases/{case_id:int}/attachments"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def list_attachments(self, request: Request, case_id: FromPath[int]) -> list[s.AttachmentOut]:
        with unit_of_work(request) as ctx:
            return [present.attachment(a) for a in attachments_of(ctx, case_id)]

    @post("/", sync_to_thread=True, request_max_body_size=MAX_BYTES + 64 * 1024)
    def upload(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[s.AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> s.AttachmentOut:
        command = AddAttachment(
            filename=data.file.filename or "",
            media_type=(data.file.content_type or "").split(";")[0].strip().lower(),
            content=data.file.file.read(MAX_BYTES + 1),
            intervention_id=data.intervention_id,
        )
        return present.attachment(
            retry_on_conflict(request, lambda ctx: add_attachment(ctx, case_id, command))
        )

    @get("/{attachment_id:int}", sync_to_thread=True)
    def download(
        self, request: Request, case_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        with unit_of_work(request) as ctx:
            found = attachment(ctx, case_id, attachment_id)
            return Response(
                found.content,
                media_type=found.media_type,
                headers={
                    "Content-Disposition": content_disposition(found.filename),
                    "X-Content-Type-Options": "nosniff",
                    "Digest": f"sha-256={found.sha256}",
                },
            )


def content_disposition(filename: str) -> str:
    """An attachment header safe for any file name (RFC 6266 with an ASCII fallback)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
