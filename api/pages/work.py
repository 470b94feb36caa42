"""My work, the landing page: what waits on the signed-in user, each item one click from its case.

- deadlines on the cases they hold, overdue, due today, the rest of this week and later, each
  with what is due and how its date was counted; a manager also sees the deadlines that passed
  and escalated on the cases of the people they manage (where escalations land);
- cases the daily scan proposes (to those who decide them), pupils newly flagged in their scope,
  messages that failed to send (their own, or every one of the LA's for a manager);
- referrals waiting for their team and, for managers, approvals;
- the most recent of their cases, with the way into the full caseload.

An administrator has no casework: they see the users and schools they manage instead.

Queries select the columns shown and read at most what a section shows (plus a count), so the
page costs the same for a school with ten cases as for an LA with a hundred thousand.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from api import present
from api.deps import unit_of_work
from api.pages.caseload import COUNT_CAP, Filters, caseload_page
from api.pages.common import is_number, la_name, me, render
from casework.analytics.flags import flag_titles
from casework.errors import Conflict, InvalidInput
from casework.models import (
    Case,
    OutboxMessage,
    Pupil,
    PupilFlag,
    School,
    User,
)
from casework.models.deadlines import Deadline
from casework.models.outbox import FAILED as MESSAGE_FAILED
from casework.vocabulary import Role
from notifications.listing import visible as visible_messages
from workflows.clocks import FIRED, OPEN
from workflows.context import Context
from workflows.decisions_waiting import approvals_waiting, referrals_waiting
from workflows.proposals import DECIDERS, accept, dismiss, open_proposals

SHOW = {"mine": "My cases", "all": "Everything I can see"}
# Each section shows this many; the rest are counted and a link leads to them.
MOST = 20
RECENT_CASES = 10
# "Newly" flagged: raised in the last fortnight.
FLAGGED_DAYS = 14
# A section's count stops here ("more than 100"): past it, the number changes nothing.
SECTION_CAP = 100


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


def _buckets(today: date) -> dict[str, ColumnElement[bool]]:
    """The same buckets as the daily digest (``workflows.deadlines.bucket``), as SQL."""
    week_end = today + timedelta(days=6 - today.weekday())
    not_fired = Deadline.status != FIRED
    return {
        "overdue": or_(Deadline.status == FIRED, Deadline.due_on < today),
        "today": and_(not_fired, Deadline.due_on == today),
        "this_week": and_(not_fired, Deadline.due_on > today, Deadline.due_on <= week_end),
        "later": and_(not_fired, Deadline.due_on > week_end),
    }


def _deadline_rows(ctx: Context, where: list, most: int, with_owner: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "due_on": r.due_on,
            "label": r.label,
            "rule": r.rule,
            "status": r.status,
            "case_id": r.case_id,
            "reference": r.reference,
            "pupil_id": r.pupil_id,
            "pupil_name": f"{r.forename} {r.surname}",
            "school_name": r.school_name,
            "owner_name": r.owner_name if with_owner else "",
        }
        for r in ctx.session.execute(
            select(
                Deadline.id,
                Deadline.label,
                Deadline.rule,
                Deadline.due_on,
                Deadline.status,
                Case.id.label("case_id"),
                Case.reference,
                Case.pupil_id,
                func.coalesce(Pupil.preferred_forename, Pupil.legal_forename).label("forename"),
                func.coalesce(Pupil.preferred_surname, Pupil.legal_surname).label("surname"),
                School.name.label("school_name"),
                User.full_name.label("owner_name"),
            )
            .select_from(Deadline)
            .join(Case, Case.id == Deadline.case_id)
            .join(Pupil, Pupil.id == Case.pupil_id)
            .join(School, School.id == Case.school_id)
            .join(User, User.id == Case.owner_id)
            .where(*where)
            .order_by(Deadline.due_on, Deadline.id)
            .limit(most)
        )
    ]


def my_deadlines(ctx: Context, most: int = MOST) -> list[dict[str, Any]]:
    """The open deadlines on the cases the user holds, by bucket: heading, how many, and the
    first ``most`` (earliest first).

    Two short queries: the dates of the open deadlines on the user's open cases (their cases by
    the holder index, each one's deadlines from the covering open-deadline index), bucketed and
    counted here; then the rows shown, by id."""
    mine = select(Case.id).where(
        Case.owner_id == ctx.actor.id, Case.closed_at.is_(None), ctx.scope.cases()
    )
    today = ctx.today()
    week_end = today + timedelta(days=6 - today.weekday())
    found: dict[str, list[tuple[date, int]]] = {key: [] for key, _ in DEADLINE_HEADINGS}
    for deadline_id, due_on, status in ctx.session.execute(
        select(Deadline.id, Deadline.due_on, Deadline.status).where(
            Deadline.case_id.in_(mine), Deadline.status.in_(OPEN)
        )
    ):
        if status == FIRED or due_on < today:
            key = "overdue"
        elif due_on == today:
            key = "today"
        elif due_on <= week_end:
            key = "this_week"
        else:
            key = "later"
        found[key].append((due_on, deadline_id))
    shown = {key: [i for _, i in sorted(rows)[:most]] for key, rows in found.items()}
    wanted = [i for ids in shown.values() for i in ids]
    rows = (
        {r["id"]: r for r in _deadline_rows(ctx, [Deadline.id.in_(wanted)], len(wanted), False)}
        if wanted
        else {}
    )
    return [
        {
            "key": key,
            "heading": heading,
            "count": len(found[key]),
            "capped": False,
            "items": [rows[i] for i in shown[key] if i in rows],
        }
        for key, heading in DEADLINE_HEADINGS
    ]


def team_escalations(ctx: Context, most: int = MOST) -> dict[str, Any] | None:
    """For a manager: deadlines that passed and escalated on cases held by the people they
    manage (where escalations land), earliest first. None for anyone else."""
    if Role(ctx.actor.role) != Role.LA_MANAGER:
        return None
    where = [
        Deadline.status == FIRED,
        ctx.scope.cases(),
        Case.closed_at.is_(None),
        Case.owner_id.in_(
            select(User.id).where(User.manager_id == ctx.actor.id, User.la_id == ctx.actor.la_id)
        ),
    ]
    # The page's rows first (three tables), then their names by id: one five-table query took
    # longer to plan than to run.
    first = list(
        ctx.session.scalars(
            select(Deadline.id)
            .join(Case, Case.id == Deadline.case_id)
            .where(*where)
            .order_by(Deadline.due_on, Deadline.id)
            .limit(most)
        )
    )
    items = _deadline_rows(ctx, [Deadline.id.in_(first)], most, True) if first else []
    count = len(items)
    if count == most:
        count = _capped_count(
            ctx.session,
            # In date order, so the count walks the fired deadlines' index and stops at the cap.
            select(literal(1))
            .select_from(Deadline)
            .join(Case, Case.id == Deadline.case_id)
            .where(*where)
            .order_by(Deadline.due_on),
        )
    return {
        "key": "escalated",
        "heading": "Escalated on your team's cases",
        "count": count,
        "capped": count > SECTION_CAP,
        "items": items,
    }


def newly_flagged(ctx: Context, most: int = MOST) -> tuple[list[dict[str, Any]], int]:
    """Flags raised in the last fortnight on pupils in the user's scope that call for a
    decision (those the LA profile has propose a case or arm a decision on one), newest first,
    each with the pupil's open case at that school when the user can see one. The others (a
    declining trend, say) are for the pupil's page, not a to-do list."""
    since = ctx.today() - timedelta(days=FLAGGED_DAYS)
    rules = ctx.profile.analytics
    actionable = sorted({*rules.propose, *rules.decision_flags})
    where = [
        PupilFlag.raised_on >= since,
        PupilFlag.flag.in_(actionable),
        ctx.scope.pupils(),
        ctx.scope.schools(),
    ]
    open_case = (
        select(Case.id)
        .where(
            Case.pupil_id == PupilFlag.pupil_id,
            Case.school_id == PupilFlag.school_id,
            Case.closed_at.is_(None),
            ctx.scope.cases(),
        )
        .order_by(Case.id.desc())
        .limit(1)
        .correlate(PupilFlag)
        .scalar_subquery()
    )
    titles = flag_titles(ctx.profile.analytics)
    rows = ctx.session.execute(
        select(
            PupilFlag.flag,
            PupilFlag.raised_on,
            PupilFlag.explanation,
            Pupil.id.label("pupil_id"),
            func.coalesce(Pupil.preferred_forename, Pupil.legal_forename).label("forename"),
            func.coalesce(Pupil.preferred_surname, Pupil.legal_surname).label("surname"),
            Pupil.nc_year,
            School.name.label("school_name"),
            open_case.label("case_id"),
        )
        .select_from(PupilFlag)
        .join(Pupil, Pupil.id == PupilFlag.pupil_id)
        .join(School, School.id == PupilFlag.school_id)
        .where(*where)
        .order_by(PupilFlag.raised_on.desc(), PupilFlag.id.desc())
        .limit(most)
    )
    items = [
        {
            "flag": titles.get(r.flag, r.flag),
            "raised_on": r.raised_on,
            "explanation": r.explanation,
            "pupil_id": r.pupil_id,
            "pupil_name": f"{r.forename} {r.surname}",
            "nc_year": r.nc_year,
            "school_name": r.school_name,
            "case_id": r.case_id,
        }
        for r in rows
    ]
    total = len(items)
    if total == most:
        total = _capped_count(
            ctx.session,
            select(literal(1))
            .select_from(PupilFlag)
            .join(Pupil, Pupil.id == PupilFlag.pupil_id)
            .join(School, School.id == PupilFlag.school_id)
            .where(*where),
        )
    return items, total


def failed_messages(ctx: Context, most: int = MOST) -> tuple[list[dict[str, Any]], int]:
    """Messages that failed to send: those the user caused or was sent, every one of the LA's
    for a manager (notifications.listing decides), newest first."""
    where = [OutboxMessage.status == MESSAGE_FAILED, visible_messages(ctx.scope)]
    items = [
        dict(r._mapping)
        for r in ctx.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.subject,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
                OutboxMessage.failed_at,
                OutboxMessage.case_id,
            )
            .where(*where)
            .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
            .limit(most)
        )
    ]
    # The cases' references, for the few shown (an outer join would read every case).
    case_ids = {m["case_id"] for m in items if m["case_id"]}
    references = (
        dict(
            ctx.session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids))).all()
        )
        if case_ids
        else {}
    )
    for m in items:
        m["reference"] = references.get(m["case_id"])
    total = len(items)
    if total == most:
        total = _capped_count(
            ctx.session, select(literal(1)).select_from(OutboxMessage).where(*where)
        )
    return items, total


def _capped_count(session: Session, query, cap: int = SECTION_CAP) -> int:
    return session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0


def _waiting(ctx: Context) -> tuple[list[dict], list[dict]]:
    """Referrals for the user's team (every team's for a manager) and, for managers, approvals."""
    referrals = [
        {
            "referral": present.referral(r),
            "case": present.case_summary(ctx.case(r.case_id), ctx.profile),
        }
        for r in referrals_waiting(ctx)[:MOST]
    ]
    approvals = [
        {
            "approval": present.approval(a),
            "case": present.case_summary(ctx.case(a.case_id), ctx.profile),
        }
        for a in approvals_waiting(ctx)[:MOST]
    ]
    return referrals, approvals


def administered(ctx: Context) -> dict[str, Any]:
    """What an administrator manages: the LA's users by role, and its schools."""
    by_role = dict(
        ctx.session.execute(
            select(User.role, func.count())
            .where(User.la_id == ctx.actor.la_id, User.active.is_(True))
            .group_by(User.role)
        ).all()
    )
    inactive = ctx.session.scalar(
        select(func.count()).where(User.la_id == ctx.actor.la_id, User.active.is_(False))
    )
    schools = ctx.session.scalar(
        select(func.count()).select_from(School).where(School.la_id == ctx.actor.la_id)
    )
    return {
        "users_by_role": [
            (role.value, by_role.get(role.value, 0)) for role in Role if role != Role.INTEGRATION
        ],
        "inactive_users": inactive or 0,
        "schools": schools or 0,
        "la_name": la_name(ctx),
        "profile_name": ctx.profile.name,
    }


class WorkPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def my_work(
        self,
        request: Request,
        show: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        with unit_of_work(request) as ctx:
            role = Role(ctx.actor.role)
            schools = (
                ctx.session.execute(
                    select(School.id, School.name).where(ctx.scope.schools()).order_by(School.name)
                ).all()
                if role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER)
                else []
            )
            context: dict = {
                "me": me(ctx),
                "active_section": "work",
                "scope": scope_in_words(ctx, [name for _, name in schools]),
                "sees_cases": role != Role.ADMIN,
                "today": ctx.today(),
            }
            if role == Role.ADMIN:
                context["admin"] = administered(ctx)
                return render("home.html", context)
            # Officers and school staff start with their own cases; a manager with everything.
            show = show if show in SHOW else ("all" if role == Role.LA_MANAGER else "mine")
            deadlines = my_deadlines(ctx)
            escalated = team_escalations(ctx)
            flagged, flagged_total = newly_flagged(ctx)
            failed, failed_total = failed_messages(ctx)
            referrals, approvals = _waiting(ctx)
            cases, cases_total = caseload_page(
                ctx,
                Filters(owner=ctx.actor.id if show == "mine" else None, sort="opened"),
                size=RECENT_CASES,
                flags=False,
            )
            proposals = open_proposals(ctx, limit=MOST) if role in DECIDERS else []
            context.update(
                proposals=proposals,
                decides_proposals=role in DECIDERS,
                deadlines=deadlines,
                has_deadlines=any(d["count"] for d in deadlines),
                escalated=escalated,
                flagged=flagged,
                flagged_total=flagged_total,
                flagged_days=FLAGGED_DAYS,
                failed=failed,
                failed_total=failed_total,
                sees_outbox=role == Role.LA_MANAGER,
                referrals=referrals,
                approvals=approvals,
                is_manager=role == Role.LA_MANAGER,
                cases=cases,
                cases_total=cases_total,
                cases_capped=cases_total > COUNT_CAP,
                cap=COUNT_CAP,
                section_cap=SECTION_CAP,
                caseload_link="/caseload?owner=me" if show == "mine" else "/caseload",
                show=show,
                show_options=list(SHOW.items()),
                school_options=schools,
                level_heading=f"{ctx.profile.name} level",
                most=MOST,
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
        if not is_number(data.expected_version):
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
        if not is_number(data.expected_version):
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
