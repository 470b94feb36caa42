"""My work: who is signed in, what waits on them, and the caseload they can see."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from api import present
from api.deps import unit_of_work
from api.pages.common import la_name, me, render
from casework import queries
from casework.errors import Conflict, InvalidInput
from casework.vocabulary import Role, Stage
from workflows.context import Context
from workflows.deadlines import bucket, open_deadlines
from workflows.decisions_waiting import approvals_waiting, referrals_waiting
from workflows.proposals import DECIDERS, accept, dismiss, open_proposals

PAGE_SIZE = 50
SHOW = {"mine": "My cases", "all": "Everything I can see"}


def scope_in_words(ctx: Context, school_names: list[str]) -> str:
    match Role(ctx.actor.role):
        case Role.SCHOOL_STAFF | Role.TRADED_OFFICER:
            return ", ".join(school_names) or "No schools yet: ask an administrator"
        case Role.STATUTORY_OFFICER:
            return f"Statutory cases across {la_name(ctx)}"
        case Role.LA_MANAGER:
            return f"Everything in {la_name(ctx)}"
    return "Users and settings; no pupil records"


DEADLINE_HEADINGS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("this_week", "Due this week"),
    ("later", "Later"),
)


def _waiting(ctx: Context) -> tuple[list[dict], list[dict]]:
    """Referrals for the user's team (every team's for a manager) and, for managers, approvals."""
    referrals = [
        {
            "referral": present.referral(r),
            "case": present.case_summary(ctx.case(r.case_id), ctx.profile),
        }
        for r in referrals_waiting(ctx)
    ]
    approvals = [
        {
            "approval": present.approval(a),
            "case": present.case_summary(ctx.case(a.case_id), ctx.profile),
        }
        for a in approvals_waiting(ctx)
    ]
    return referrals, approvals


class WorkPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def my_work(
        self,
        request: Request,
        show: Annotated[str, QueryParameter(max_length=10)] = "",
        stage: Annotated[str, QueryParameter(max_length=40)] = "",
        school: Annotated[str, QueryParameter(max_length=12)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        with unit_of_work(request) as ctx:
            role = Role(ctx.actor.role)
            schools = queries.schools(ctx.session, ctx.scope) if role != Role.ADMIN else []
            context: dict = {
                "me": me(ctx),
                "scope": scope_in_words(ctx, [s.name for s in schools]),
                "sees_cases": role != Role.ADMIN,
            }
            if role == Role.ADMIN:
                return render("home.html", context)
            # Officers and school staff start with their own cases; a manager with everything.
            show = show if show in SHOW else ("all" if role == Role.LA_MANAGER else "mine")
            stage = stage if stage in {s.value for s in Stage} else ""
            school_id = int(school) if school.isdigit() else None
            rows, total = queries.list_cases(
                ctx.session,
                ctx.scope,
                queries.CaseFilter(
                    owner_id=ctx.actor.id if show == "mine" else None,
                    school_id=school_id,
                    stages=(stage,) if stage else (),
                    open_only=not stage,
                    page=page,
                    page_size=PAGE_SIZE,
                ),
            )
            referrals, approvals = _waiting(ctx)
            grouped = bucket(
                open_deadlines(ctx.session, ctx.scope, owner_id=ctx.actor.id), ctx.today()
            )
            deadlines = [
                (
                    heading,
                    [
                        {
                            "due_on": d.due_on,
                            "label": d.label,
                            "status": d.status,
                            "case_id": c.id,
                            "reference": c.reference,
                        }
                        for d, c in grouped[key]
                    ],
                )
                for key, heading in DEADLINE_HEADINGS
            ]
            filters = {"show": show, "stage": stage, "school": school_id or ""}

            def link(to_page: int) -> str:
                return "/?" + urlencode(
                    {**{k: v for k, v in filters.items() if v}, "page": to_page}
                )

            context.update(
                proposals=open_proposals(ctx) if role in DECIDERS else [],
                decides_proposals=role in DECIDERS,
                deadlines=deadlines,
                has_deadlines=any(items for _, items in deadlines),
                referrals=referrals,
                approvals=approvals,
                is_manager=role == Role.LA_MANAGER,
                cases=[present.case_summary(c, ctx.profile) for c in rows],
                total=total,
                first=(page - 1) * PAGE_SIZE + 1,
                last=(page - 1) * PAGE_SIZE + len(rows),
                previous=link(page - 1) if page > 1 else None,
                next=link(page + 1) if page * PAGE_SIZE < total else None,
                filters=filters,
                show_options=list(SHOW.items()),
                stage_options=[(s.value, s.label) for s in Stage],
                school_options=[(s.id, s.name) for s in schools],
                level_heading=f"{ctx.profile.name} level",
            )
        return render("home.html", context)


class ProposalForm(msgspec.Struct):
    expected_version: str = ""
    reason: str = ""


def _problem(detail: str, status: int) -> Template:
    return render(
        "problem.html",
        {"signed_in": True, "title": "The proposal was not changed", "detail": detail},
        status=status,
    )


class ProposalPages(Controller):
    """Accept or dismiss a case the daily scan proposed (forms on My work)."""

    path = "/proposals"
    include_in_schema = False

    @post("/{proposal_id:int}/accept", sync_to_thread=True)
    def accept_one(
        self,
        request: Request,
        proposal_id: FromPath[int],
        data: Annotated[ProposalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        if not data.expected_version.isdigit():
            return _problem("Reload My work and try again.", 400)
        with unit_of_work(request, write=True) as ctx:
            try:
                case = accept(ctx, proposal_id, expected_version=int(data.expected_version))
            except (Conflict, InvalidInput) as exc:
                return _problem(str(exc), 409 if isinstance(exc, Conflict) else 422)
            ctx.commit()
            return Redirect(f"/cases/{case.id}", status_code=303)

    @post("/{proposal_id:int}/dismiss", sync_to_thread=True)
    def dismiss_one(
        self,
        request: Request,
        proposal_id: FromPath[int],
        data: Annotated[ProposalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        if not data.expected_version.isdigit():
            return _problem("Reload My work and try again.", 400)
        with unit_of_work(request, write=True) as ctx:
            try:
                dismiss(
                    ctx,
                    proposal_id,
                    expected_version=int(data.expected_version),
                    reason=data.reason,
                )
            except InvalidInput:
                return _problem("Say why no case is needed, then dismiss the proposal.", 422)
            except Conflict as exc:
                return _problem(str(exc), 409)
            ctx.commit()
            return Redirect("/#proposals", status_code=303)
