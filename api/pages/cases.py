"""The case page: summary, stage path, chronology, interventions, holders and what can be done.

Actions come from ``workflows.cases.available_actions`` and are fired through ``fire_trigger``;
the page decides only how to ask for what the machine needs (a reason, an outcome, listed
sessions, a rationale for each requirement a user may bypass), never whether a move is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm.exc import StaleDataError

from api import present
from api.deps import retry_on_conflict, unit_of_work
from api.pages.case_forms import (
    CASE_DONE,
    decisions_view,
    documents_view,
    family_view,
    handover_view,
    penalty_decision_view,
)
from api.pages.case_forms import FIELD_IDS as CASE_FORM_FIELD_IDS
from api.pages.common import DATE_RULE, FormError, is_number, me, parse_day, render, sentence, words
from api.pages.letters import case_letters
from api.pages.penalty_forms import Query
from api.pages.penalty_requests import CASE_FIELD_IDS as PENALTY_FIELD_IDS
from api.pages.penalty_requests import case_penalties
from casework import queries
from casework.errors import Conflict, Forbidden, InvalidInput, TransitionRefused, UnmetGuard
from casework.vocabulary import (
    OPEN_STAGES,
    Engagement,
    InterventionKind,
    InterventionOutcome,
    Outcome,
    Role,
    Stage,
)
from workflows.cases import FireTrigger, available_actions, fire_trigger
from workflows.deadlines import open_deadlines
from workflows.facts import ListedSession
from workflows.guards import GUARDS
from workflows.interventions import MACHINE_ONLY, RecordIntervention, record_intervention
from workflows.machine import TRANSITIONS, TRIGGER_LABELS, TRIGGERS
from workflows.packs.service import may_build_packs, packs_of
from workflows.policy import may_fire

# Requirements the action form itself answers: its reason box and its outcome list.
FORM_SUPPLIED = {"reason_given": "reason", "outcome_given": "outcome"}
OVERRIDABLE = tuple(name for name, guard in GUARDS.items() if guard.overridable)
MOST_SESSIONS = 400  # as the JSON API
MOST_ATTENDEES = 50
SESSION_FORMAT = "write it as YYYY-MM-DD AM|PM CODE, for example 2024-11-04 AM N"

Short = Annotated[str, msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]

# One rationale field per requirement that can be bypassed: rationale_<guard>.
ActionForm = msgspec.defstruct(
    "ActionForm",
    [
        ("trigger", Short, ""),
        ("expected_version", Short, ""),
        ("reason", Text, ""),
        ("outcome", Short, ""),
        ("sessions", Annotated[str, msgspec.Meta(max_length=20_000)], ""),
        *((f"rationale_{name}", Text, "") for name in OVERRIDABLE),
    ],
)


class InterventionForm(msgspec.Struct):
    kind: Short = ""
    occurred_on: Short = ""
    summary: Text = ""
    family_engaged: Short = Engagement.NOT_APPLICABLE.value
    outcome: Short = InterventionOutcome.PENDING.value
    attendees: Text = ""
    agency: Annotated[str, msgspec.Meta(max_length=200)] = ""


INTERVENTION_LABELS = {
    "kind": "Kind of intervention",
    "occurred_on": "Date",
    "summary": "Summary",
    "family_engaged": "Family engaged",
    "outcome": "Outcome",
    "attendees": "Who attended",
    "agency": "Agency",
}


def _conditions(trigger: str) -> set[str]:
    return {c for t in TRANSITIONS if t["trigger"] == trigger for c in t["conditions"]}


@dataclass
class ActionView:
    trigger: str
    label: str
    applies: bool  # possible from the case's stage at all
    offered: bool  # a form is shown: nothing unmet that a form or a rationale cannot answer
    unmet: list[UnmetGuard]  # what stands in the way now (beyond what the form asks for)
    rationales: list[UnmetGuard]  # requirements the user may bypass with a rationale
    reason_required: bool
    needs_outcome: bool
    needs_sessions: bool

    @property
    def field_ids(self) -> set[str]:
        ids = {f"action-{self.trigger}"}
        if self.offered:
            ids.add(f"{self.trigger}-reason")
            if self.needs_outcome:
                ids.add(f"{self.trigger}-outcome")
            if self.needs_sessions:
                ids.add(f"{self.trigger}-sessions")
            ids.update(f"{self.trigger}-rationale_{u.guard}" for u in self.rationales)
        return ids


def _action_view(
    trigger: str, allowed: bool, unmet: list[UnmetGuard], registers_held: bool = False
) -> ActionView:
    conditions = _conditions(trigger)
    standing = [u for u in unmet if u.guard not in FORM_SUPPLIED]
    return ActionView(
        trigger=trigger,
        label=TRIGGER_LABELS[trigger],
        applies=not any(u.guard == "stage" for u in unmet),
        offered=allowed or all(u.overridable for u in standing),
        unmet=standing,
        rationales=[u for u in standing if u.overridable],
        reason_required="reason_given" in conditions,
        needs_outcome="outcome_given" in conditions,
        needs_sessions="threshold_met" in conditions and not registers_held,
    )


def _event(e) -> dict[str, Any]:
    data = e.data or {}
    what = words(e.kind)
    if data.get("trigger") in TRIGGER_LABELS:
        what = TRIGGER_LABELS[data["trigger"]]
    elif e.kind == "intervention_recorded" and data.get("intervention"):
        what = f"Intervention recorded: {words(data['intervention'])}"
        if data.get("supersedes"):
            what += " (outcome update)"
    elif e.kind == "referred" and data.get("to_team"):
        what = f"Referred to the {words(data['to_team']).lower()}"
    elif e.kind in ("assigned", "referral_accepted") and data.get("to"):
        what = f"{words(e.kind)}: now held by {data['to']}"
    elif e.kind == "penalty_considered":
        what = "Penalty notice considered: not pursued now, support continues"
        if data.get("trigger"):
            what += f" ({words(data['trigger']).lower()})"
    if e.kind == "closed" and data.get("outcome"):
        what += f" (outcome: {words(data['outcome']).lower()})"
    if e.kind in ("flag_raised", "flag_cleared") and data.get("title"):
        what = f"Attendance flag {'raised' if e.kind == 'flag_raised' else 'cleared'}: "
        what += data["title"]
    if e.kind in ("deadline_passed", "deadline_reminder", "deadline_moved") and data.get("kind"):
        what = f"{words(e.kind)}: {words(data['kind']).lower()}"
        if data.get("escalated_to"):
            what += f" (escalated to {data['escalated_to']})"
    clocks = data.get("clocks") or {}
    started = [f"{c['label']}, due {c['due_on']}" for c in clocks.get("armed", [])]
    stopped = [f"{c['label']} ({c['why']})" for c in clocks.get("stopped", [])]
    rationales = [
        (GUARDS[name].summary if name in GUARDS else words(name), text)
        for name, text in (data.get("rationales") or {}).items()
    ]
    return {
        "event": e,
        "what": what,
        "rationales": rationales,
        "clocks_started": started,
        "clocks_stopped": stopped,
        "explanation": data.get("explanation") if e.kind == "flag_raised" else None,
        "sessions": [
            f"{s['date']} {s['session']} {s['code']}"
            + (f" ({s['school']})" if s.get("school") else "")
            # Penalty-notice events record a count of sessions, not the list.
            for s in (data["sessions"] if isinstance(data.get("sessions"), list) else [])
        ],
    }


def _options(values, leave_out=()) -> list[tuple[str, str]]:
    return [(v.value, words(v.value)) for v in values if v.value not in leave_out]


def _anchor(errors: list[FormError], known: set[str], trigger: str | None) -> list[FormError]:
    """Point each error at a field the page shows, else at the action, else at the list."""
    fallback = f"action-{trigger}" if f"action-{trigger}" in known else "actions"
    return [e if e.field in known else FormError(fallback, e.message) for e in errors]


def case_page(
    request: Request,
    case_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    with unit_of_work(request) as ctx:
        case, actions = available_actions(ctx, case_id)
        summary = present.case_summary(case, ctx.profile)
        views = [_action_view(a.trigger, a.allowed, a.unmet, a.registers_held) for a in actions]
        referrals = queries.referrals_of(ctx.session, case)
        approvals = queries.approvals_of(ctx.session, case)
        may_record = may_fire(Role(ctx.actor.role), "record_intervention") is None
        still_open = [d for d, _ in open_deadlines(ctx.session, ctx.scope, case_id=case.id)]
        context = {
            "me": me(ctx),
            "case": summary,
            "stages": [
                {
                    "label": s.label,
                    "current": case.stage == s.value,
                    "level": (lv.number if (lv := ctx.profile.level_for(s.value)) else None),
                }
                for s in OPEN_STAGES
            ],
            "closed": case.stage == Stage.CLOSED,
            "events": [_event(present.event(e)) for e in queries.events(ctx.session, case)],
            "deadlines": [
                {"due_on": d.due_on, "label": d.label, "rule": d.rule, "status": d.status}
                for d in still_open
            ],
            "interventions": [
                present.intervention(i, superseded)
                for i, superseded in queries.interventions(ctx.session, case)
            ],
            "responsibility": [
                present.responsibility(r) for r in queries.responsibility(ctx.session, case)
            ],
            "referrals": [present.referral(r) for r in referrals],
            "approvals": [present.approval(a) for a in approvals],
            "ready": [v for v in views if v.applies and v.offered and not v.rationales],
            "blocked": [v for v in views if v.applies and (v.rationales or not v.offered)],
            "elsewhere": [v for v in views if not v.applies],
            "guard_summaries": {name: guard.summary for name, guard in GUARDS.items()},
            "outcome_options": _options(Outcome),
            "may_record": may_record and case.stage != Stage.CLOSED,
            "kind_options": _options(InterventionKind, MACHINE_ONLY),
            "engagement_options": _options(Engagement),
            "intervention_outcome_options": _options(InterventionOutcome),
            "intervention": {
                "occurred_on": ctx.today().isoformat(),
                "family_engaged": Engagement.NOT_APPLICABLE.value,
                "outcome": InterventionOutcome.PENDING.value,
            },
            "level_heading": f"{ctx.profile.name} level",
            "submitted": submitted or {},
            "labels": INTERVENTION_LABELS,
            "penalties": case_penalties(ctx, case),
            "family": family_view(ctx, case),
            "documents": documents_view(ctx, case),
            "handover": handover_view(ctx, case),
            "decisions": decisions_view(ctx, case, approvals, referrals),
            "penalty_decision": penalty_decision_view(ctx, case, still_open),
            "done": CASE_DONE.get(done, "") if not errors else "",
            # Statutory officers and managers only: the rest never see that a pack exists.
            "court_packs": [
                {"reference": v.pack.reference, "pages": v.pack.pages, "built_at": v.pack.built_at}
                for v in packs_of(ctx, case.id)
            ]
            if may_build_packs(ctx)
            else None,
            "letters": case_letters(ctx, case),
        }
    if submitted and submitted.get("form") == "intervention":
        context["intervention"] = submitted
    known = set().union(*(v.field_ids for v in views)) | {
        f"intervention-{name}" for name in INTERVENTION_LABELS
    }
    known |= {"actions", "record-intervention"}
    known |= PENALTY_FIELD_IDS | {"penalty-notices", "letters"} | CASE_FORM_FIELD_IDS
    trigger = (submitted or {}).get("trigger")
    context["errors"] = _anchor(errors or [], known, trigger)
    return render("case.html", context, status=status)


def parse_sessions(text: str, field: str) -> tuple[list[ListedSession], list[int], list[FormError]]:
    """Lines of "YYYY-MM-DD AM|PM CODE"; each bad line is reported by its number."""
    sessions: list[ListedSession] = []
    lines: list[int] = []
    errors: list[FormError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 3 or parts[1].upper() not in ("AM", "PM"):
                raise ValueError(line)
            listed = ListedSession(date.fromisoformat(parts[0]), parts[1].upper(), parts[2].upper())
        except ValueError:
            errors.append(FormError(field, f"Sessions, line {number}: {SESSION_FORMAT}"))
            continue
        sessions.append(listed)
        lines.append(number)
    if len(sessions) > MOST_SESSIONS:
        errors.append(FormError(field, f"Sessions: list at most {MOST_SESSIONS}"))
    return sessions, lines, errors


def _guard_field(trigger: str, guard: str) -> str:
    if guard in FORM_SUPPLIED:
        return f"{trigger}-{FORM_SUPPLIED[guard]}"
    if guard in OVERRIDABLE:
        return f"{trigger}-rationale_{guard}"
    return f"action-{trigger}"


def _invalid_action(trigger: str, exc: InvalidInput, lines: list[int]) -> list[FormError]:
    errors = []
    for p in exc.problems:
        if p.field.startswith("sessions["):
            index = int(p.field[len("sessions[") : p.field.index("]")])
            line = lines[index] if index < len(lines) else index + 1
            errors.append(FormError(f"{trigger}-sessions", f"Sessions, line {line}: {p.rule}"))
        elif p.field.startswith("rationales."):
            guard = p.field.split(".", 1)[1]
            errors.append(FormError(f"{trigger}-rationale_{guard}", f"Rationale: {p.rule}"))
        elif p.field in ("reason", "outcome"):
            errors.append(FormError(f"{trigger}-{p.field}", f"{words(p.field)}: {p.rule}"))
        else:
            errors.append(FormError(f"action-{trigger}", f"{words(p.field)}: {p.rule}"))
    return errors


def _invalid_intervention(exc: InvalidInput) -> list[FormError]:
    errors = []
    for p in exc.problems:
        name = "agency" if p.field == "details.agency" else p.field
        if name in INTERVENTION_LABELS:
            message = f"{INTERVENTION_LABELS[name]}: {p.rule}"
            errors.append(FormError(f"intervention-{name}", message))
        else:
            errors.append(FormError("record-intervention", sentence(p.rule)))
    return errors


class CasePages(Controller):
    path = "/cases"
    include_in_schema = False

    @get("/{case_id:int}", sync_to_thread=True)
    def show(self, request: Request, case_id: FromPath[int], done: Query = "") -> Template:
        return case_page(request, case_id, done=done)

    @post("/{case_id:int}/actions", sync_to_thread=True)
    def act(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[ActionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        submitted = {"form": "action", **msgspec.structs.asdict(data)}
        trigger = data.trigger if data.trigger in TRIGGERS else None
        if trigger is None:
            error = FormError("actions", "Choose one of the case's actions")
            return case_page(request, case_id, errors=[error], submitted=submitted, status=400)
        if not is_number(data.expected_version):
            error = FormError(f"action-{trigger}", "Reload the case page and try again")
            return case_page(request, case_id, errors=[error], submitted=submitted, status=400)
        sessions, lines, errors = parse_sessions(data.sessions, f"{trigger}-sessions")
        if errors:
            return case_page(request, case_id, errors=errors, submitted=submitted, status=422)
        rationales = {
            name: text
            for name in OVERRIDABLE
            if (text := getattr(data, f"rationale_{name}")).strip()
        }
        command = FireTrigger(
            trigger=trigger,
            expected_version=int(data.expected_version),
            reason=data.reason.strip() or None,
            rationales=rationales,
            outcome=data.outcome or None,
            sessions=sessions,
        )
        label = TRIGGER_LABELS[trigger]
        try:
            with unit_of_work(request, write=True) as ctx:
                fire_trigger(ctx, case_id, command)
                ctx.commit()
        except TransitionRefused as exc:
            errors = [
                FormError(_guard_field(trigger, u.guard), f"{label}: {u.reason}") for u in exc.unmet
            ]
            status = 409
        except InvalidInput as exc:
            errors, status = _invalid_action(trigger, exc, lines), 422
        except (Conflict, StaleDataError) as exc:
            message = (
                sentence(str(exc))
                if isinstance(exc, Conflict)
                else "Another change to this case was saved first: check it and try again"
            )
            errors, status = [FormError(f"action-{trigger}", message)], 409
        except Forbidden as exc:
            errors, status = [FormError(f"action-{trigger}", sentence(str(exc)))], 403
        else:
            return Redirect(f"/cases/{case_id}", status_code=303)
        return case_page(request, case_id, errors=errors, submitted=submitted, status=status)

    @post("/{case_id:int}/interventions", sync_to_thread=True)
    def record(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[InterventionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        submitted = {"form": "intervention", **msgspec.structs.asdict(data)}
        errors = []
        occurred_on = None
        try:
            occurred_on = parse_day(data.occurred_on)
        except ValueError:
            errors.append(
                FormError(
                    "intervention-occurred_on",
                    f"Date: {DATE_RULE}",
                )
            )
        attendees = [name.strip() for name in data.attendees.split(",") if name.strip()]
        if len(attendees) > MOST_ATTENDEES or any(len(name) > 200 for name in attendees):
            errors.append(
                FormError(
                    "intervention-attendees",
                    f"Who attended: at most {MOST_ATTENDEES} names of up to 200 characters",
                )
            )
        if errors or occurred_on is None:
            return case_page(request, case_id, errors=errors, submitted=submitted, status=422)
        command = RecordIntervention(
            kind=data.kind,
            occurred_on=occurred_on,
            summary=data.summary,
            family_engaged=data.family_engaged,
            outcome=data.outcome,
            attendees=attendees,
            details={"agency": data.agency.strip()} if data.agency.strip() else {},
        )
        try:
            retry_on_conflict(request, lambda ctx: record_intervention(ctx, case_id, command))
        except InvalidInput as exc:
            errors, status = _invalid_intervention(exc), 422
        except Conflict as exc:
            errors, status = [FormError("record-intervention", sentence(str(exc)))], 409
        except Forbidden as exc:
            errors, status = [FormError("record-intervention", sentence(str(exc)))], 403
        else:
            return Redirect(f"/cases/{case_id}", status_code=303)
        return case_page(request, case_id, errors=errors, submitted=submitted, status=status)
