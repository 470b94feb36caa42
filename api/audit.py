"""Every request that touches children's records leaves an audit entry, API and pages alike.

One ASGI middleware, keyed by the matched route's template: ``ROUTES`` classifies every route of
the app, either as what it touches (record type, which path parameter names the record, and for
downloads or exports the action) or as ``NOT_AUDITED`` on purpose (calendars, staff settings,
aggregate statistics). A route missing from the table is still audited, as "unclassified", and the
test suite fails until it is classified.

The entry is written in its own short transaction, so a failed request's rollback keeps it, and
before the response's first byte is sent, so a reply never goes out unrecorded: if the entry
cannot be written, a plain server error is sent instead of the reply.

What is recorded is the route template and record ids, never the query string or anything typed
into a form: the audit log itself holds no names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from casework import audit
from casework.db import WRITE_INTENT
from casework.models import (
    ApprovalRequest,
    Case,
    CaseProposal,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeRequest,
    Referral,
    User,
)

log = logging.getLogger("casework.audit")


@dataclass(frozen=True)
class Audited:
    """What a route touches: the record type, the path parameter naming the record (none for a
    list), and the action when it is not the method's (read for GET, write otherwise)."""

    record_type: str
    id_param: str | None = None
    action: str | None = None


# A route that touches no child's record, classified so on purpose.
NOT_AUDITED = None

# Never audited, whatever is under them: assets, the API description, the health check.
UNAUDITED_PREFIXES = ("/static/", "/schema", "/health")

UNCLASSIFIED = Audited("unclassified")

_R = Audited
ROUTES: dict[str, Audited | None] = {
    # Signing in: workflows.sign_in records each attempt (it knows the account tried and why it
    # failed), so these are not recorded twice. Signing out is recorded here.
    "POST /api/auth/login": NOT_AUDITED,
    "POST /login": NOT_AUDITED,
    "POST /login/code": NOT_AUDITED,
    "POST /login/two-factor": NOT_AUDITED,
    "GET /login": NOT_AUDITED,
    "GET /login/code": NOT_AUDITED,
    "GET /login/two-factor": NOT_AUDITED,
    "POST /api/auth/logout": _R("user", action="sign_out"),
    "POST /logout": _R("user", action="sign_out"),
    "GET /api/auth/me": NOT_AUDITED,
    # One's own account: changing its password or second factor is recorded.
    "GET /account": NOT_AUDITED,
    "GET /account/two-factor": NOT_AUDITED,
    "POST /account/password": _R("user"),
    "POST /account/two-factor": _R("user"),
    # A calendar app's feed: case references and deadlines only, no child named; the secret
    # address is the credential, so there is no signed-in user to name either.
    "GET /feeds/{token}": NOT_AUDITED,
    # Schools, calendars, the workflow, staff and their settings: no child's record.
    "GET /api/schools": NOT_AUDITED,
    "GET /api/schools/{school_id}": NOT_AUDITED,
    "GET /api/schools/{school_id}/calendar": NOT_AUDITED,
    "GET /api/schools/{school_id}/calendar/add": NOT_AUDITED,
    "GET /api/schools/{school_id}/calendar/measure": NOT_AUDITED,
    "POST /api/schools/{school_id}/calendar/overrides": NOT_AUDITED,
    "POST /api/calendar/years": NOT_AUDITED,
    "GET /api/workflow": NOT_AUDITED,
    "GET /api/letters/kinds": NOT_AUDITED,
    "GET /api/me/notifications": NOT_AUDITED,
    "PUT /api/me/notifications": NOT_AUDITED,
    "POST /api/deadlines/feed": NOT_AUDITED,
    "DELETE /api/deadlines/feed": NOT_AUDITED,
    "GET /api/users": NOT_AUDITED,
    "POST /api/users": _R("user"),
    # Aggregate statistics: counts, no child named.
    "GET /api/statistics/absence": NOT_AUDITED,
    "GET /api/penalty-notices/report": NOT_AUDITED,
    "GET /api/penalty-notices/threshold": NOT_AUDITED,
    "GET /reports": NOT_AUDITED,
    "GET /penalty-notices/reports": NOT_AUDITED,
    # Pupils and families.
    "GET /api/pupils": _R("pupil"),
    "POST /api/pupils": _R("pupil"),
    "GET /api/pupils/{pupil_id}": _R("pupil", "pupil_id"),
    "GET /api/families/{family_id}": _R("family", "family_id"),
    "GET /pupils/{pupil_id}": _R("pupil", "pupil_id"),
    # Subject access exports (workflows.subject_access): everything held about the pupil.
    "POST /api/pupils/{pupil_id}/subject-access-export": _R("pupil", "pupil_id", "export"),
    "GET /pupils/{pupil_id}/subject-access": _R("pupil", "pupil_id"),
    "POST /pupils/{pupil_id}/subject-access": _R("pupil", "pupil_id", "export"),
    "GET /schools": _R("pupil"),
    # A school's page lists its pupils: the record is the school.
    "GET /schools/{school_id}": _R("school", "school_id"),
    # Cases and everything recorded on them.
    "GET /api/cases": _R("case"),
    "POST /api/cases": _R("case"),
    "GET /api/cases/{case_id}": _R("case", "case_id"),
    "GET /api/cases/{case_id}/actions": _R("case", "case_id"),
    "GET /api/cases/{case_id}/events": _R("case", "case_id"),
    "GET /api/cases/{case_id}/interventions": _R("case", "case_id"),
    "POST /api/cases/{case_id}/interventions": _R("case", "case_id"),
    "POST /api/cases/{case_id}/interventions/{intervention_id}/outcome": _R("case", "case_id"),
    "POST /api/cases/{case_id}/approvals": _R("case", "case_id"),
    "POST /api/cases/{case_id}/penalty-decision": _R("case", "case_id"),
    "POST /api/cases/{case_id}/assignment": _R("case", "case_id"),
    "POST /api/cases/{case_id}/referrals": _R("case", "case_id"),
    "POST /api/cases/{case_id}/transitions": _R("case", "case_id"),
    "GET /api/deadlines": _R("case"),
    "GET /api/deadlines/cases/{case_id}": _R("case", "case_id"),
    "GET /api/deadlines/schools/{school_id}": _R("case"),
    "GET /api/referrals": _R("case"),
    "POST /api/referrals/{referral_id}/accept": _R("referral", "referral_id"),
    "POST /api/referrals/{referral_id}/return": _R("referral", "referral_id"),
    "GET /api/approvals": _R("case"),
    "POST /api/approvals/{approval_id}/decision": _R("approval", "approval_id"),
    "GET /api/proposals": _R("proposal"),
    "POST /api/proposals/{proposal_id}/accept": _R("proposal", "proposal_id"),
    "POST /api/proposals/{proposal_id}/dismiss": _R("proposal", "proposal_id"),
    "GET /": _R("case"),
    "POST /proposals/{proposal_id}/accept": _R("proposal", "proposal_id"),
    "POST /proposals/{proposal_id}/dismiss": _R("proposal", "proposal_id"),
    "GET /caseload": _R("case"),
    "GET /caseload/export.csv": _R("case", action="export"),
    "GET /cases/{case_id}": _R("case", "case_id"),
    "POST /cases/{case_id}/actions": _R("case", "case_id"),
    "POST /cases/{case_id}/interventions": _R("case", "case_id"),
    "POST /cases/{case_id}/approvals": _R("case", "case_id"),
    "POST /cases/{case_id}/approvals/{approval_id}/decision": _R("approval", "approval_id"),
    "POST /cases/{case_id}/referrals/{referral_id}/decision": _R("referral", "referral_id"),
    "POST /cases/{case_id}/handover": _R("case", "case_id"),
    "POST /cases/{case_id}/penalty-decision": _R("case", "case_id"),
    "POST /cases/{case_id}/referral": _R("case", "case_id"),
    "POST /pupils/{pupil_id}/cases": _R("case"),
    # Attachments and documents.
    "GET /api/cases/{case_id}/attachments": _R("attachment"),
    "POST /api/cases/{case_id}/attachments": _R("attachment"),
    "GET /api/cases/{case_id}/attachments/{attachment_id}": _R(
        "attachment", "attachment_id", "download"
    ),
    "POST /cases/{case_id}/documents": _R("attachment"),
    # Letters.
    "GET /api/cases/{case_id}/letters": _R("letter"),
    "POST /api/cases/{case_id}/letters": _R("letter"),
    "GET /api/cases/{case_id}/letters/{letter_id}/pdf": _R("letter", "letter_id", "download"),
    "GET /api/cases/{case_id}/letters/{letter_id}/html": _R("letter", "letter_id"),
    "GET /api/letters/print-batch": _R("letter", action="download"),
    "GET /cases/{case_id}/letters/new": _R("letter"),
    "POST /cases/{case_id}/letters/new": _R("letter"),
    # Court packs.
    "GET /api/cases/{case_id}/packs": _R("pack"),
    "POST /api/cases/{case_id}/packs": _R("pack"),
    "POST /api/cases/{case_id}/packs/check": _R("pack"),
    "POST /api/cases/{case_id}/packs/tests": _R("pack"),
    "GET /api/cases/{case_id}/packs/{pack_id}/pdf": _R("pack", "pack_id", "download"),
    "GET /api/cases/{case_id}/packs/{pack_id}/zip": _R("pack", "pack_id", "download"),
    "POST /api/cases/{case_id}/packs/{pack_id}/sign-off": _R("pack", "pack_id"),
    "GET /cases/{case_id}/pack": _R("pack"),
    "POST /cases/{case_id}/pack/build": _R("pack"),
    "POST /cases/{case_id}/pack/tests": _R("pack"),
    "POST /cases/{case_id}/pack/{pack_id}/sign-off": _R("pack", "pack_id"),
    # Registers (a school's: the record named is the school) and certificates drawn from them.
    "GET /api/schools/{school_id}/registers/absence-map": _R("register", "school_id"),
    "GET /api/schools/{school_id}/registers/absentees": _R("register", "school_id"),
    "GET /api/schools/{school_id}/registers/persistent-absentees": _R("register", "school_id"),
    "GET /api/pupils/{pupil_id}/attendance-certificate": _R("register", "pupil_id", "download"),
    "GET /api/pupils/{pupil_id}/registration-certificate": _R("register", "pupil_id", "download"),
    "GET /schools/{school_id}/registers": _R("register", "school_id"),
    "GET /schools/{school_id}/registers/absence-map": _R("register", "school_id"),
    "GET /schools/{school_id}/registers/absentees": _R("register", "school_id"),
    "GET /schools/{school_id}/registers/persistent-absentees": _R("register", "school_id"),
    "GET /pupils/{pupil_id}/attendance-certificate": _R("register", "pupil_id", "download"),
    "GET /pupils/{pupil_id}/registration-certificate": _R("register", "pupil_id", "download"),
    # Imports: pupils, families and registers arrive this way.
    "GET /api/imports": _R("import"),
    "GET /api/imports/running": _R("import"),
    "GET /api/imports/{batch_id}": _R("import", "batch_id"),
    "POST /api/imports/csv": _R("import"),
    "POST /api/imports/ctf": _R("import"),
    "POST /api/imports/marks": _R("import"),
    "GET /api/integration": _R("import"),
    "GET /api/integration/running": _R("import"),
    "GET /api/integration/{batch_id}": _R("import", "batch_id"),
    "POST /api/integration/csv": _R("import"),
    "POST /api/integration/ctf": _R("import"),
    "POST /api/integration/marks": _R("import"),
    "GET /imports": _R("import"),
    "GET /imports/progress": _R("import"),
    "GET /imports/{batch_id}": _R("import", "batch_id"),
    "POST /imports": _R("import"),
    # Leave of absence.
    "GET /api/leave-requests": _R("leave_request"),
    "POST /api/leave-requests": _R("leave_request"),
    "GET /api/leave-requests/{request_id}": _R("leave_request", "request_id"),
    "POST /api/leave-requests/{request_id}/decision": _R("leave_request", "request_id"),
    "POST /api/leave-requests/{request_id}/taken": _R("leave_request", "request_id"),
    "GET /pupils/{pupil_id}/leave": _R("leave_request"),
    "POST /pupils/{pupil_id}/leave": _R("leave_request"),
    "GET /leave/{leave_id}": _R("leave_request", "leave_id"),
    "POST /leave/{leave_id}/decision": _R("leave_request", "leave_id"),
    "POST /leave/{leave_id}/taken": _R("leave_request", "leave_id"),
    # Penalty notices and the requests for them.
    "GET /api/penalty-notices/requests": _R("penalty_request"),
    "POST /api/penalty-notices/requests": _R("penalty_request"),
    "GET /api/penalty-notices/requests/{request_id}": _R("penalty_request", "request_id"),
    "POST /api/penalty-notices/requests/{request_id}/decline": _R("penalty_request", "request_id"),
    "POST /api/penalty-notices/requests/{request_id}/issue": _R("penalty_request", "request_id"),
    "GET /api/penalty-notices": _R("penalty_notice"),
    "POST /api/penalty-notices": _R("penalty_notice"),
    "POST /api/penalty-notices/enquiries": _R("penalty_notice"),
    "GET /api/penalty-notices/history": _R("penalty_notice"),
    "GET /api/penalty-notices/queues": _R("penalty_notice"),
    "GET /api/penalty-notices/register.csv": _R("penalty_notice", action="export"),
    "GET /api/penalty-notices/{notice_id}": _R("penalty_notice", "notice_id"),
    "GET /api/penalty-notices/{notice_id}/notice": _R("penalty_notice", "notice_id", "download"),
    "POST /api/penalty-notices/{notice_id}/cancellation": _R("penalty_notice", "notice_id"),
    "POST /api/penalty-notices/{notice_id}/issue": _R("penalty_notice", "notice_id"),
    "POST /api/penalty-notices/{notice_id}/payments": _R("penalty_notice", "notice_id"),
    "POST /api/penalty-notices/{notice_id}/prosecution": _R("penalty_notice", "notice_id"),
    "POST /api/penalty-notices/{notice_id}/withdrawal": _R("penalty_notice", "notice_id"),
    "GET /penalty-notices": _R("penalty_notice"),
    "GET /penalty-notices/register": _R("penalty_notice"),
    "GET /penalty-notices/register.csv": _R("penalty_notice", action="export"),
    "GET /penalty-notices/requests/{request_id}": _R("penalty_request", "request_id"),
    "POST /penalty-notices/requests/{request_id}/decline": _R("penalty_request", "request_id"),
    "POST /penalty-notices/requests/{request_id}/issue": _R("penalty_request", "request_id"),
    "POST /cases/{case_id}/penalty-notice-requests": _R("penalty_request"),
    "GET /penalty-notices/{notice_id}": _R("penalty_notice", "notice_id"),
    "GET /penalty-notices/{notice_id}/notice": _R("penalty_notice", "notice_id", "download"),
    "POST /penalty-notices/{notice_id}/cancel": _R("penalty_notice", "notice_id"),
    "POST /penalty-notices/{notice_id}/issue": _R("penalty_notice", "notice_id"),
    "POST /penalty-notices/{notice_id}/payment": _R("penalty_notice", "notice_id"),
    "POST /penalty-notices/{notice_id}/prosecute": _R("penalty_notice", "notice_id"),
    "POST /penalty-notices/{notice_id}/withdraw": _R("penalty_notice", "notice_id"),
    # Outgoing email to families (its bodies name children), and the development mail drop.
    "GET /api/outbox": _R("message"),
    "GET /api/outbox/{message_id}": _R("message", "message_id"),
    "POST /api/outbox/{message_id}/retry": _R("message", "message_id"),
    "GET /api/mail": _R("message"),
    "GET /api/mail/{name}": _R("message", "name"),
    "GET /outbox": _R("message"),
    "POST /outbox/{message_id}/retry": _R("message", "message_id"),
    # Administration: changes to accounts are audited; settings pages hold no child's data.
    "GET /admin": NOT_AUDITED,
    "GET /admin/users": NOT_AUDITED,
    "GET /admin/users/new": NOT_AUDITED,
    "GET /admin/users/{user_id}": NOT_AUDITED,
    "POST /admin/users": _R("user"),
    "POST /admin/users/{user_id}": _R("user", "user_id"),
    "POST /admin/users/{user_id}/active": _R("user", "user_id"),
    # Unlocking and resetting a second factor: workflows.users records them, with the outcome.
    "POST /admin/users/{user_id}/unlock": NOT_AUDITED,
    "POST /admin/users/{user_id}/second-factor-reset": NOT_AUDITED,
    "POST /api/users/{user_id}/unlock": NOT_AUDITED,
    "POST /api/users/{user_id}/second-factor-reset": NOT_AUDITED,
    # Integration tokens: issuing and revoking one is recorded; the list shows no child's data.
    "GET /admin/tokens": NOT_AUDITED,
    "GET /admin/tokens/new": NOT_AUDITED,
    "POST /admin/tokens": _R("token"),
    "POST /admin/tokens/{token_id}/revoke": _R("token", "token_id"),
    "GET /admin/profile": NOT_AUDITED,
    "GET /admin/roles": NOT_AUDITED,
    "GET /admin/schools": NOT_AUDITED,
    "GET /admin/calendars": NOT_AUDITED,
    "GET /admin/schools/{school_id}/calendar": NOT_AUDITED,
    "POST /admin/schools/{school_id}/calendar": NOT_AUDITED,
    "GET /admin/schools/{school_id}/calendar/{entry_id}/withdraw": NOT_AUDITED,
    "POST /admin/schools/{school_id}/calendar/{entry_id}/withdraw": NOT_AUDITED,
    # The audit log itself: who searched it, and whose access history was exported.
    "GET /audit": _R("audit_log"),
    "GET /audit/pupils/{pupil_id}": _R("audit_log", "pupil_id"),
    "GET /audit/pupils/{pupil_id}/history.csv": _R("audit_log", "pupil_id", "export"),
    "GET /api/audit": _R("audit_log"),
    "GET /api/audit/pupils/{pupil_id}": _R("audit_log", "pupil_id"),
    "GET /api/audit/pupils/{pupil_id}/history.csv": _R("audit_log", "pupil_id", "export"),
}


def route_key(method: str, path_template: str) -> str:
    return f"{method} {path_template}"


def classify(method: str, path_template: str) -> Audited | None:
    if method in ("OPTIONS", "HEAD") or path_template.startswith(UNAUDITED_PREFIXES):
        return NOT_AUDITED
    return ROUTES.get(route_key(method, path_template), UNCLASSIFIED)


def action_for(spec: Audited, method: str) -> str:
    return spec.action or ("read" if method == "GET" else "write")


# The pupil a record is about, from the most specific path parameter that leads to one: each is
# one indexed query. Which request a ``request_id`` names depends on the record type.
_CASE_PUPIL = select(Case.pupil_id)
_PUPIL_OF: dict[str, Callable[[Any], Any]] = {
    "case_id": lambda v: _CASE_PUPIL.where(Case.id == v),
    "leave_id": lambda v: select(LeaveRequest.pupil_id).where(LeaveRequest.id == v),
    "notice_id": lambda v: select(PenaltyNotice.pupil_id).where(PenaltyNotice.id == v),
    "proposal_id": lambda v: select(CaseProposal.pupil_id).where(CaseProposal.id == v),
    "referral_id": lambda v: _CASE_PUPIL.join(Referral, Referral.case_id == Case.id).where(
        Referral.id == v
    ),
    "approval_id": lambda v: _CASE_PUPIL.join(
        ApprovalRequest, ApprovalRequest.case_id == Case.id
    ).where(ApprovalRequest.id == v),
}
_REQUEST_PUPIL = {
    "leave_request": lambda v: select(LeaveRequest.pupil_id).where(LeaveRequest.id == v),
    "penalty_request": lambda v: select(PenaltyNoticeRequest.pupil_id).where(
        PenaltyNoticeRequest.id == v
    ),
}


def _key(value: Any) -> int | None:
    """A path parameter usable as a row id (an int the id columns can hold), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


def pupil_of(session: Session, spec: Audited, params: dict[str, Any]) -> int | None:
    if "pupil_id" in params:
        return _key(params["pupil_id"])
    for name, query in _PUPIL_OF.items():
        if name in params:
            key = _key(params[name])
            return session.scalar(query(key)) if key is not None else None
    key = _key(params.get("request_id"))
    if key is not None and spec.record_type in _REQUEST_PUPIL:
        return session.scalar(_REQUEST_PUPIL[spec.record_type](key))
    return None


@dataclass(frozen=True)
class Actor:
    """Who acted, as the chain records them (a ``User`` without the rest of the row)."""

    id: int
    username: str
    la_id: int | None


# Usernames and LAs do not change once an account exists, so each is read once per database
# (per engine: tests and tools may serve more than one database from one process).
_ACTORS: WeakKeyDictionary[Engine, dict[int, Actor]] = WeakKeyDictionary()


def _actor(session: Session, engine: Engine, user_id: int | None) -> Actor | None:
    if user_id is None:
        return None
    known = _ACTORS.setdefault(engine, {})
    if user_id not in known:
        row = session.execute(
            select(User.id, User.username, User.la_id).where(User.id == user_id)
        ).first()
        if row is None:
            return None
        if len(known) > 10_000:
            known.clear()
        known[user_id] = Actor(row.id, row.username, row.la_id)
    return known[user_id]


def _acting_user_id(scope: Scope) -> int | None:
    """Who acted: the integration token's user its handler noted, else the signed-in user, else
    (signing in) the user the session now names."""
    state = scope.get("state") or {}
    noted = state.get(NOTED_ACTOR)
    if isinstance(noted, int):
        return noted
    user = scope.get("user")
    if user is not None and isinstance(getattr(user, "user_id", None), int):
        return user.user_id
    session = scope.get("session")
    if isinstance(session, dict) and isinstance(session.get("user_id"), int):
        return session["user_id"]
    return None


NOTED_ACTOR = "audit_actor_id"
NOTED_PUPIL = "audit_pupil_id"


def note_actor(scope_state: dict[str, Any], user_id: int) -> None:
    """For requests authenticated inside the handler (integration tokens): who acted."""
    scope_state[NOTED_ACTOR] = user_id


def note_pupil(scope_state: dict[str, Any], pupil_id: int) -> None:
    """For a page about one pupil that its address does not name (a search filtered to them)."""
    scope_state[NOTED_PUPIL] = pupil_id


def _outcome(action: str, status: int) -> str:
    if action in ("sign_in", "sign_out"):
        return "ok" if status < 400 else "refused"
    return str(status)


def write_entry(scope: Scope, spec: Audited, status: int) -> None:
    """One entry in its own transaction (blocking: run in a worker thread)."""
    services = scope["app"].state.services
    method = scope["method"]
    params = scope.get("path_params") or {}
    state = scope.get("state") or {}
    action = action_for(spec, method)
    with services.session_factory() as session:
        # PostgreSQL: autocommit, so the one-call append (casework.audit) commits on the server
        # and frees the chain's lock without waiting for this busy worker's next round trip.
        # SQLite: hold the write lock from the start, so the chain's head cannot go stale.
        if services.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        else:
            session.connection(execution_options={WRITE_INTENT: True})
        actor = _actor(session, services.engine, _acting_user_id(scope))
        record_id = params.get(spec.id_param) if spec.id_param else None
        audit.record(
            session,
            actor=actor,
            action=action,
            record_type=spec.record_type,
            record_id=record_id,
            pupil_id=pupil_of(session, spec, params) or _key(state.get(NOTED_PUPIL)),
            route=route_key(method, scope["path_template"]),
            outcome=_outcome(action, status),
            at=services.clock.now(),
            actor_username=None if actor else "anonymous",
        )
        session.commit()


class AuditMiddleware:
    """Write the request's audit entry as its response starts, before anything is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        spec = classify(scope["method"], scope.get("path_template", ""))
        if spec is NOT_AUDITED:
            await self.app(scope, receive, send)
            return
        written = failed = False

        async def send_recorded(message: Message) -> None:
            nonlocal written, failed
            if failed:
                return  # the reply was replaced: drop the rest of it
            if message["type"] == "http.response.start" and not written:
                written = True
                try:
                    await anyio.to_thread.run_sync(
                        partial(write_entry, scope, spec, message["status"])
                    )
                except Exception as exc:
                    # Type only: nothing from the request or record goes to the log.
                    log.error("audit entry not written: %s", type(exc).__name__)
                    failed = True
                    await _refuse_unrecorded(send)
                    return
            await send(message)

        await self.app(scope, receive, send_recorded)


UNRECORDED = b"The service could not record this request, so it was not answered. Try again."


async def _refuse_unrecorded(send: Send) -> None:
    """A reply that could not be audited is not sent: a plain server error goes instead."""
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(UNRECORDED)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": UNRECORDED, "more_body": False})
