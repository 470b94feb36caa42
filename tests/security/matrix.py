"""The authorization matrix, written down: every route of the app → who may use it, on what.

Each entry names the kind of record the path points at (``None``: no record) and the roles that
may use the route on a record in their scope. The test turns each entry into cells, one per
caller by (no record | own record | other record), and expects:

- public routes: answer anyone without a server error (a wrong password or an unknown feed
  secret is the route's own answer);
- no session (or an integration's token on a session route, or a session on a token route): 401;
- a role outside the entry's roles: 403 on its own records and on record-less routes (404 where
  the entry says ``hidden``; 400/422 where a page checks its form first, ``form_first``);
- a record outside the caller's scope: exactly the answer for a record that does not exist, and
  that answer a refusal (404; 403 only when the role is refused whatever the record; 400/422 when
  the input is refused before any lookup; a page's redirect) — so existence never leaks;
- otherwise "allowed": any answer but 401, 403, 404 or a server error (a 400/409/422 means the
  request got past the guard to validation or a business rule). On a record-less route a 404
  is allowed: it is about a record the body names.

A route the app serves without an entry here, or an entry for a route it no longer serves,
fails the suite (tests/security/test_authorization_matrix.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from casework.vocabulary import Role

SCHOOL = Role.SCHOOL_STAFF
TRADED = Role.TRADED_OFFICER
STATUTORY = Role.STATUTORY_OFFICER
MANAGER = Role.LA_MANAGER
ADMIN = Role.ADMIN

# Everyone who signs in with a password (an integration only presents its token).
SIGNED_IN = frozenset({SCHOOL, TRADED, STATUTORY, MANAGER, ADMIN})
CASEWORK = frozenset({SCHOOL, TRADED, STATUTORY, MANAGER})
OFFICERS = frozenset({STATUTORY, MANAGER})


@dataclass(frozen=True)
class Rule:
    record: str | None
    roles: frozenset[Role] = field(default=SIGNED_IN)
    public: bool = False
    # Integration routes: a bearer token instead of a session.
    token: bool = False
    # The cell needs its own session (signing out would end the shared one).
    own_session: bool = False
    # A request body that passes validation, so the role check is what answers (the default is
    # the smallest body the OpenAPI schema accepts, or an empty form for a page).
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Path parameters of a route that names no record (a file name, say).
    path: dict[str, Any] = field(default_factory=dict)
    # A known gap, reported: the cells that break the rule are expected failures until it is
    # mended (and the suite says so when one starts passing).
    gap: str | None = None
    # A page that checks its form before the change's role check (which the API twin of the
    # same change shows): an invalid form answers 400/422 to everyone, changing nothing.
    form_first: bool = False
    # Roles outside ``roles`` are told "not found" rather than "forbidden" (the route's own
    # choice: the same answer as for a record that does not exist).
    hidden: bool = False

    def with_(self, **changes: Any) -> Rule:
        return replace(self, **changes)


def public(record: str | None = None) -> Rule:
    return Rule(record, public=True)


def signed_in(*, own_session: bool = False) -> Rule:
    return Rule(None, own_session=own_session)


def only(*roles: Role) -> Rule:
    return Rule(None, frozenset(roles))


def scoped(record: str, *roles: Role) -> Rule:
    """A route on one record: 404 outside the caller's scope; ``roles`` (default: everyone signed
    in) may use it inside."""
    return Rule(record, frozenset(roles) if roles else SIGNED_IN)


def token(record: str | None = None) -> Rule:
    return Rule(record, frozenset({Role.INTEGRATION}), token=True)


PROPOSAL_FORM = {"expected_version": "1", "reason": "Authorization matrix check"}
# One mark for a pupil no school has: the importer's role is checked before the rows are.
MARKS_PUSH = {
    "school_id": 1,
    "marks": [{"upn": "A123456789012", "date": "2024-11-18", "session": "AM", "code": "/"}],
}

# "METHOD /path" exactly as Litestar lists it (path parameters with their types).
MATRIX: dict[str, Rule] = {
    # --- service, sign-in and the API description -------------------------------------------
    "GET /health": public(),
    "GET /feeds/{token:str}": public("feed"),
    "GET /static/{file_path:path}": public("static"),
    "HEAD /static/{file_path:path}": public("static"),
    "GET /schema": public(),
    "GET /schema/elements": public(),
    "GET /schema/oauth2-redirect.html": public(),
    "GET /schema/openapi.json": public(),
    "GET /schema/openapi.yaml": public(),
    "GET /schema/openapi.yml": public(),
    "GET /schema/rapidoc": public(),
    "GET /schema/redoc": public(),
    "GET /schema/swagger": public(),
    "GET /schema/{path:str}": public("schema_page"),
    "POST /api/auth/login": public(),
    "POST /api/auth/logout": signed_in(own_session=True),
    "GET /api/auth/me": signed_in(),
    "GET /login": public(),
    "POST /login": public(),
    "POST /logout": signed_in(own_session=True),
    # The second step of signing in: the session holds a pending sign-in, not a user.
    "GET /login/code": public(),
    "POST /login/code": public(),
    "GET /login/two-factor": public(),
    "POST /login/two-factor": public(),
    # One's own account: password and two-factor set-up.
    "GET /account": signed_in(),
    "POST /account/password": signed_in(own_session=True),
    "GET /account/two-factor": signed_in(),
    "POST /account/two-factor": signed_in(own_session=True),
    # --- schools, pupils, families -----------------------------------------------------------
    "GET /api/schools": signed_in(),
    "GET /api/schools/{school_id:int}": scoped("school"),
    "GET /api/schools/{school_id:int}/calendar": scoped("school"),
    "GET /api/schools/{school_id:int}/calendar/add": scoped("school"),
    "GET /api/schools/{school_id:int}/calendar/measure": scoped("school"),
    "POST /api/schools/{school_id:int}/calendar/overrides": scoped("school", SCHOOL, ADMIN),
    # Register reports list only the caller's pupils: an administrator gets empty reports.
    "GET /api/schools/{school_id:int}/registers/absence-map": scoped("school"),
    "GET /api/schools/{school_id:int}/registers/absentees": scoped("school"),
    "GET /api/schools/{school_id:int}/registers/persistent-absentees": scoped("school"),
    "POST /api/calendar/years": only(ADMIN),
    "GET /api/pupils": signed_in(),
    "POST /api/pupils": only(SCHOOL, MANAGER),
    "GET /api/pupils/{pupil_id:int}": scoped("pupil"),
    "GET /api/pupils/{pupil_id:int}/attendance-certificate": scoped("pupil"),
    "GET /api/pupils/{pupil_id:int}/registration-certificate": scoped("pupil"),
    "GET /api/families/{family_id:int}": scoped("family"),
    "GET /api/statistics/absence": signed_in(),
    # --- cases ----------------------------------------------------------------------------------
    "GET /api/cases": signed_in(),
    "POST /api/cases": only(*CASEWORK),
    "GET /api/cases/{case_id:int}": scoped("case"),
    "GET /api/cases/{case_id:int}/actions": scoped("case"),
    "GET /api/cases/{case_id:int}/events": scoped("case"),
    "GET /api/cases/{case_id:int}/interventions": scoped("case"),
    "POST /api/cases/{case_id:int}/interventions": scoped("case", *CASEWORK),
    "POST /api/cases/{case_id:int}/interventions/{intervention_id:int}/outcome": scoped(
        "intervention", *CASEWORK
    ),
    "POST /api/cases/{case_id:int}/approvals": scoped("case", *CASEWORK),
    # Whoever may issue a Notice to Improve; with no decision open it is a 422 past the guard.
    "POST /api/cases/{case_id:int}/penalty-decision": scoped("case", *CASEWORK),
    "POST /api/cases/{case_id:int}/assignment": scoped("case", *CASEWORK),
    "POST /api/cases/{case_id:int}/referrals": scoped("case", *CASEWORK),
    "POST /api/cases/{case_id:int}/transitions": scoped("case", *CASEWORK),
    "GET /api/cases/{case_id:int}/attachments": scoped("case"),
    "POST /api/cases/{case_id:int}/attachments": scoped("case", *CASEWORK),
    "GET /api/cases/{case_id:int}/attachments/{attachment_id:int}": scoped("attachment"),
    "GET /api/cases/{case_id:int}/letters": scoped("case"),
    "POST /api/cases/{case_id:int}/letters": scoped("case", *CASEWORK),
    "GET /api/cases/{case_id:int}/letters/{letter_id:int}/html": scoped("letter"),
    "GET /api/cases/{case_id:int}/letters/{letter_id:int}/pdf": scoped("letter"),
    "GET /api/cases/{case_id:int}/packs": scoped("case", *OFFICERS),
    "POST /api/cases/{case_id:int}/packs": scoped("case", *OFFICERS),
    "POST /api/cases/{case_id:int}/packs/check": scoped("case", *OFFICERS),
    "POST /api/cases/{case_id:int}/packs/tests": scoped("case", *OFFICERS),
    "GET /api/cases/{case_id:int}/packs/{pack_id:int}/pdf": scoped("pack", *OFFICERS),
    "GET /api/cases/{case_id:int}/packs/{pack_id:int}/zip": scoped("pack", *OFFICERS),
    "POST /api/cases/{case_id:int}/packs/{pack_id:int}/sign-off": scoped("pack", *OFFICERS),
    "GET /api/deadlines": signed_in(),
    "GET /api/deadlines/cases/{case_id:int}": scoped("case"),
    "GET /api/deadlines/schools/{school_id:int}": scoped("school"),
    "POST /api/deadlines/feed": signed_in(),
    "DELETE /api/deadlines/feed": signed_in(),
    "GET /api/approvals": signed_in(),
    "POST /api/approvals/{approval_id:int}/decision": scoped("approval", MANAGER),
    "GET /api/referrals": signed_in(),
    "POST /api/referrals/{referral_id:int}/accept": scoped("referral", *CASEWORK),
    "POST /api/referrals/{referral_id:int}/return": scoped("referral", *CASEWORK),
    "GET /api/proposals": signed_in(),
    "POST /api/proposals/{proposal_id:int}/accept": scoped("proposal", SCHOOL, TRADED, MANAGER),
    "POST /api/proposals/{proposal_id:int}/dismiss": scoped("proposal", SCHOOL, TRADED, MANAGER),
    "GET /api/workflow": signed_in(),
    # --- users --------------------------------------------------------------------------------
    "GET /api/users": signed_in(),
    "POST /api/users": only(ADMIN).with_(
        body={
            "username": "matrix.check",
            "full_name": "Matrix Check",
            "position": "Tester",
            "email": "matrix.check@example.org",
            "role": "school_staff",
            "password": "a long enough synthetic passphrase",
            "school_ids": [1],
        }
    ),
    "GET /api/me/notifications": signed_in(),
    "PUT /api/me/notifications": signed_in(),
    # --- registers and imports ----------------------------------------------------------------
    "GET /api/imports": signed_in(),
    "POST /api/imports/csv": only(SCHOOL, MANAGER, ADMIN),
    "POST /api/imports/ctf": only(SCHOOL, MANAGER, ADMIN),
    "POST /api/imports/marks": only(SCHOOL, MANAGER, ADMIN).with_(body=MARKS_PUSH),
    "GET /api/imports/running": signed_in(),
    "GET /api/imports/{batch_id:int}": scoped("batch"),
    "GET /api/integration": token(),
    "POST /api/integration/csv": token(),
    "POST /api/integration/ctf": token(),
    "POST /api/integration/marks": token().with_(body=MARKS_PUSH),
    "GET /api/integration/running": token(),
    "GET /api/integration/{batch_id:int}": token("batch"),
    # --- leave and penalty notices ------------------------------------------------------------
    "GET /api/leave-requests": signed_in(),
    "POST /api/leave-requests": only(*CASEWORK),
    "GET /api/leave-requests/{request_id:int}": scoped("leave"),
    "POST /api/leave-requests/{request_id:int}/decision": scoped("leave", SCHOOL, TRADED),
    "POST /api/leave-requests/{request_id:int}/taken": scoped("leave", SCHOOL, TRADED),
    "GET /api/penalty-notices": signed_in(),
    "POST /api/penalty-notices": only(*OFFICERS),
    "POST /api/penalty-notices/enquiries": only(*OFFICERS),
    "GET /api/penalty-notices/history": signed_in(),
    "GET /api/penalty-notices/queues": signed_in(),
    "GET /api/penalty-notices/register.csv": signed_in(),
    "GET /api/penalty-notices/report": signed_in(),
    "GET /api/penalty-notices/threshold": signed_in(),
    "GET /api/penalty-notices/requests": signed_in(),
    "POST /api/penalty-notices/requests": only(*CASEWORK),
    "GET /api/penalty-notices/requests/{request_id:int}": scoped("penalty_request"),
    "POST /api/penalty-notices/requests/{request_id:int}/decline": scoped(
        "penalty_request", *OFFICERS
    ),
    "POST /api/penalty-notices/requests/{request_id:int}/issue": scoped(
        "penalty_request", *OFFICERS
    ),
    "GET /api/penalty-notices/{notice_id:int}": scoped("notice"),
    "GET /api/penalty-notices/{notice_id:int}/notice": scoped("notice"),
    "POST /api/penalty-notices/{notice_id:int}/cancellation": scoped("notice", *OFFICERS),
    "POST /api/penalty-notices/{notice_id:int}/issue": scoped("notice", *OFFICERS),
    "POST /api/penalty-notices/{notice_id:int}/payments": scoped("notice", *OFFICERS),
    "POST /api/penalty-notices/{notice_id:int}/prosecution": scoped("notice", *OFFICERS),
    "POST /api/penalty-notices/{notice_id:int}/withdrawal": scoped("notice", *OFFICERS),
    # --- letters and email --------------------------------------------------------------------
    "GET /api/letters/kinds": signed_in(),
    "GET /api/letters/print-batch": signed_in(),
    "GET /api/outbox": signed_in(),
    "GET /api/outbox/{message_id:int}": scoped("message"),
    "POST /api/outbox/{message_id:int}/retry": scoped("message", MANAGER),
    "GET /api/mail": only(MANAGER, ADMIN),
    # The development mailbox's files (a name no message has: "not found" to those allowed).
    "GET /api/mail/{name:str}": only(MANAGER, ADMIN).with_(path={"name": "no-such.eml"}),
    # --- pages: work, caseload, cases ---------------------------------------------------------
    "GET /": signed_in(),
    "GET /caseload": only(*CASEWORK),
    "GET /caseload/export.csv": only(*CASEWORK),
    "GET /cases/{case_id:int}": scoped("case"),
    "POST /cases/{case_id:int}/actions": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/approvals": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/approvals/{approval_id:int}/decision": scoped(
        "approval", MANAGER
    ).with_(body={"decision": "refuse", "reason": "Authorization matrix check"}),
    "POST /cases/{case_id:int}/documents": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/handover": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/penalty-decision": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/interventions": scoped("case", *CASEWORK),
    "GET /cases/{case_id:int}/letters/new": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/letters/new": scoped("case", *CASEWORK),
    "GET /cases/{case_id:int}/pack": scoped("case", *OFFICERS),
    "POST /cases/{case_id:int}/pack/build": scoped("case", *OFFICERS),
    "POST /cases/{case_id:int}/pack/tests": scoped("case", *OFFICERS),
    "POST /cases/{case_id:int}/pack/{pack_id:int}/sign-off": scoped("pack", *OFFICERS),
    "POST /cases/{case_id:int}/penalty-notice-requests": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/referral": scoped("case", *CASEWORK),
    "POST /cases/{case_id:int}/referrals/{referral_id:int}/decision": scoped("referral", *CASEWORK),
    "POST /proposals/{proposal_id:int}/accept": scoped("proposal", SCHOOL, TRADED, MANAGER).with_(
        body=PROPOSAL_FORM
    ),
    "POST /proposals/{proposal_id:int}/dismiss": scoped("proposal", SCHOOL, TRADED, MANAGER).with_(
        body=PROPOSAL_FORM
    ),
    # --- pages: pupils, schools, registers, reports -------------------------------------------
    "GET /pupils/{pupil_id:int}": scoped("pupil"),
    "GET /pupils/{pupil_id:int}/attendance-certificate": scoped("pupil"),
    "GET /pupils/{pupil_id:int}/registration-certificate": scoped("pupil"),
    "POST /pupils/{pupil_id:int}/cases": scoped("pupil", *CASEWORK),
    "GET /pupils/{pupil_id:int}/leave": scoped("pupil"),
    "POST /pupils/{pupil_id:int}/leave": scoped("pupil", *CASEWORK),
    "GET /schools": only(*CASEWORK),
    "GET /schools/{school_id:int}": scoped("school", *CASEWORK),
    # As in the API: the register pages list only the caller's pupils.
    "GET /schools/{school_id:int}/registers": scoped("school"),
    "GET /schools/{school_id:int}/registers/absence-map": scoped("school"),
    "GET /schools/{school_id:int}/registers/absentees": scoped("school"),
    "GET /schools/{school_id:int}/registers/persistent-absentees": scoped("school"),
    "GET /reports": only(TRADED, STATUTORY, MANAGER),
    # --- pages: imports, leave, penalty notices, outbox ---------------------------------------
    "GET /imports": only(SCHOOL, MANAGER, ADMIN),
    "POST /imports": only(SCHOOL, MANAGER, ADMIN),
    # An htmx fragment: a plain request is sent to the imports page.
    "GET /imports/progress": only(SCHOOL, MANAGER, ADMIN).with_(headers={"HX-Request": "true"}),
    "GET /imports/{batch_id:int}": scoped("batch", SCHOOL, MANAGER, ADMIN),
    "GET /leave/{leave_id:int}": scoped("leave"),
    "POST /leave/{leave_id:int}/decision": scoped("leave", SCHOOL, TRADED).with_(form_first=True),
    "POST /leave/{leave_id:int}/taken": scoped("leave", SCHOOL, TRADED).with_(
        body={"first_absent": "18/11/2024", "last_absent": "19/11/2024"}
    ),
    # Schools see their own pupils' notices; deciding and issuing is the LA's.
    "GET /penalty-notices": only(*CASEWORK),
    "GET /penalty-notices/register": only(*CASEWORK),
    "GET /penalty-notices/register.csv": only(*CASEWORK),
    "GET /penalty-notices/reports": only(*CASEWORK),
    "GET /penalty-notices/requests/{request_id:int}": scoped("penalty_request", *CASEWORK),
    "POST /penalty-notices/requests/{request_id:int}/decline": scoped(
        "penalty_request", *OFFICERS
    ).with_(body={"expected_version": "1", "reason": "Authorization matrix check"}),
    "POST /penalty-notices/requests/{request_id:int}/issue": scoped(
        "penalty_request", *OFFICERS
    ).with_(form_first=True),
    "GET /penalty-notices/{notice_id:int}": scoped("notice", *CASEWORK),
    "GET /penalty-notices/{notice_id:int}/notice": scoped("notice", *CASEWORK),
    "POST /penalty-notices/{notice_id:int}/cancel": scoped("notice", *OFFICERS),
    "POST /penalty-notices/{notice_id:int}/issue": scoped("notice", *OFFICERS).with_(
        body={"expected_version": "1", "posted_on": "20/11/2024"}
    ),
    "POST /penalty-notices/{notice_id:int}/payment": scoped("notice", *OFFICERS).with_(
        body={"expected_version": "1", "paid_on": "20/11/2024", "amount": "80", "method": "card"}
    ),
    "POST /penalty-notices/{notice_id:int}/prosecute": scoped("notice", *OFFICERS),
    "POST /penalty-notices/{notice_id:int}/withdraw": scoped("notice", *OFFICERS),
    "GET /outbox": only(MANAGER, ADMIN),
    "POST /outbox/{message_id:int}/retry": scoped("message", MANAGER),
    # --- pages: administration ----------------------------------------------------------------
    "GET /admin": only(ADMIN),
    "GET /admin/calendars": only(ADMIN),
    "GET /admin/profile": only(ADMIN),
    "GET /admin/roles": only(ADMIN),
    "GET /admin/schools": only(ADMIN),
    "GET /admin/schools/{school_id:int}/calendar": scoped("school", ADMIN),
    "POST /admin/schools/{school_id:int}/calendar": scoped("school", ADMIN),
    "GET /admin/schools/{school_id:int}/calendar/{entry_id:int}/withdraw": scoped(
        "calendar_entry", ADMIN
    ),
    "POST /admin/schools/{school_id:int}/calendar/{entry_id:int}/withdraw": scoped(
        "calendar_entry", ADMIN
    ),
    "GET /admin/users": only(ADMIN),
    "POST /admin/users": only(ADMIN),
    "GET /admin/users/new": only(ADMIN),
    "GET /admin/users/{user_id:int}": scoped("user", ADMIN),
    "POST /admin/users/{user_id:int}": scoped("user", ADMIN),
    "POST /admin/users/{user_id:int}/active": scoped("user", ADMIN),
    "POST /admin/users/{user_id:int}/unlock": scoped("user", ADMIN),
    "POST /admin/users/{user_id:int}/second-factor-reset": scoped("user", ADMIN),
    "POST /api/users/{user_id:int}/unlock": scoped("user", ADMIN),
    "POST /api/users/{user_id:int}/second-factor-reset": scoped("user", ADMIN),
    "GET /admin/tokens": only(ADMIN),
    "GET /admin/tokens/new": only(ADMIN),
    "POST /admin/tokens": only(ADMIN),
    "POST /admin/tokens/{token_id:int}/revoke": scoped("token", ADMIN),
    # --- the audit log: managers and administrators, about any pupil of their LA --------------
    "GET /audit": only(MANAGER, ADMIN),
    "GET /audit/pupils/{pupil_id:int}": scoped("la_pupil", MANAGER, ADMIN),
    "GET /audit/pupils/{pupil_id:int}/history.csv": scoped("la_pupil", MANAGER, ADMIN),
    "GET /api/audit": only(MANAGER, ADMIN),
    "GET /api/audit/pupils/{pupil_id:int}": scoped("la_pupil", MANAGER, ADMIN),
    "GET /api/audit/pupils/{pupil_id:int}/history.csv": scoped("la_pupil", MANAGER, ADMIN),
    # --- a subject access export: everything held about one pupil of the LA (anyone else is
    # told the pupil is not found: workflows/subject_access.py) --------------------------------
    "GET /pupils/{pupil_id:int}/subject-access": scoped("la_pupil", MANAGER, ADMIN).with_(
        hidden=True
    ),
    "POST /pupils/{pupil_id:int}/subject-access": scoped("la_pupil", MANAGER, ADMIN).with_(
        hidden=True
    ),
    "POST /api/pupils/{pupil_id:int}/subject-access-export": scoped(
        "la_pupil", MANAGER, ADMIN
    ).with_(hidden=True),
}
