"""The audit log page: an LA manager (or administrator) searches who read or changed records in
their LA, by pupil (id or UPN), user, days and record, newest first; a pupil's access history
downloads as CSV. Everyone else is refused ("Not allowed").

The search is ``casework.audit_search`` over the LA's entries; this page and the CSV are audited
in turn (``api.audit``), so looking at who looked is itself on the record.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.audit import note_pupil
from api.controllers.audit import allowed, pupil_history_response
from api.deps import unit_of_work
from api.pages.common import DATE_HINT, DATE_RULE, FormError, me, parse_day, render, words
from casework.audit_search import (
    FilterProblem,
    build_query,
    search,
)
from casework.models import Pupil
from casework.vocabulary import Role

Text = Annotated[str, QueryParameter(max_length=100)]
RECORD_TYPES = (
    "pupil",
    "school",
    "family",
    "case",
    "register",
    "pack",
    "letter",
    "attachment",
    "leave_request",
    "penalty_request",
    "penalty_notice",
    "proposal",
    "referral",
    "approval",
    "import",
    "message",
    "user",
    "token",
    "audit_log",
    "unclassified",
)
ACTION_WORDS = {
    "read": "Looked at",
    "write": "Changed",
    "export": "Exported",
    "download": "Downloaded",
    "purge": "Purged",
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "refused": "Refused",
}
FIELD_IDS = {
    "pupil": "pupil",
    "user": "user",
    "from": "from",
    "to": "to",
    "record_type": "record_type",
    "record_id": "record_id",
}


def _day(field: str, text: str, errors: list[FormError]) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_day(text)
    except ValueError:
        errors.append(FormError(field, f"{field.capitalize()} '{text}': {DATE_RULE}"))
        return None


def _outcome_words(outcome: str) -> tuple[str, str]:
    """The outcome in words and its tag colour: an HTTP status, or a command's own word."""
    if outcome.isdigit():
        status = int(outcome)
        if status < 400:
            return "Done", "govuk-tag--green"
        if status in (401, 403, 404, 429):
            return f"Refused ({status})", "govuk-tag--red"
        if status < 500:
            return f"Not accepted ({status})", "govuk-tag--yellow"
        return f"Failed ({status})", "govuk-tag--grey"
    if outcome == "refused":
        return "Refused", "govuk-tag--red"
    return ("Done" if outcome == "ok" else words(outcome)), "govuk-tag--green"


def _row(entry) -> dict[str, Any]:
    outcome, tag = _outcome_words(entry.outcome)
    return {
        "id": entry.id,
        "at": entry.at,
        "user": entry.actor_username,
        "action": ACTION_WORDS.get(entry.action, words(entry.action)),
        "record": words(entry.record_type)
        + (f" {entry.record_id}" if entry.record_id else " (list)"),
        "pupil_id": entry.pupil_id,
        "route": entry.route,
        "outcome": outcome,
        "tag": tag,
    }


def _address(filters: dict[str, str], page: int = 1, base: str = "/audit") -> str:
    query = {**filters, "page": page if page > 1 else ""}
    found = urlencode({k: v for k, v in query.items() if v})
    return base + (f"?{found}" if found else "")


class AuditPages(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def search_page(
        self,
        request: Request,
        pupil: Text = "",
        user: Text = "",
        from_: Annotated[str, QueryParameter(name="from", max_length=30)] = "",
        to: Text = "",
        record_type: Text = "",
        record_id: Text = "",
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        filters = {
            "pupil": pupil,
            "user": user,
            "from": from_,
            "to": to,
            "record_type": record_type,
            "record_id": record_id,
        }
        errors: list[FormError] = []
        since, until = _day("from", from_, errors), _day("to", to, errors)
        with unit_of_work(request) as ctx:
            allowed(ctx)
            query, problems = build_query(
                ctx.session,
                ctx.actor.la_id,
                pupil=pupil,
                user=user,
                since=since,
                until=until,
                record_type=record_type,
                record_id=record_id,
            )
            errors += [_form_error(p) for p in problems]
            found = None if errors else search(ctx.session, query, page=page)
            found_pupil = ctx.session.get(Pupil, query.pupil_id) if query.pupil_id else None
            if found_pupil:
                note_pupil(request.scope["state"], found_pupil.id)  # this read is about them
            # Administrators see no pupil's record elsewhere, so here not even a name: the id.
            named = Role(ctx.actor.role) is Role.LA_MANAGER
            pupil_row = (
                {
                    "name": f"{found_pupil.legal_forename} {found_pupil.legal_surname}"
                    if named
                    else f"pupil {found_pupil.id}",
                    "upn": found_pupil.upn if named else None,
                }
                if found_pupil
                else None
            )
            context = {
                "me": me(ctx),
                "active_section": "audit",
                "filters": filters,
                "date_hint": DATE_HINT,
                "record_types": [(t, words(t)) for t in RECORD_TYPES],
                "pupil": pupil_row,
                "rows": [_row(e) for e in found.entries] if found else [],
                "total": found.total if found else 0,
                "page": found.page if found else 1,
                "pages": found.pages if found else 1,
                "previous": _address(filters, found.page - 1) if found and found.page > 1 else None,
                "next": _address(filters, found.page + 1)
                if found and found.page < found.pages
                else None,
                "csv": _address(
                    {
                        "from": since.isoformat() if since else "",
                        "to": until.isoformat() if until else "",
                    },
                    base=f"/audit/pupils/{query.pupil_id}/history.csv",
                )
                if pupil_row and found
                else None,
                "errors": errors,
            }
        return render("audit.html", context, status=400 if errors else 200)

    @get("/pupils/{pupil_id:int}", sync_to_thread=True)
    def pupil_this_year(self, request: Request, pupil_id: FromPath[int]) -> Redirect:
        """From the pupil's page: who has looked at their record since 1 January."""
        with unit_of_work(request) as ctx:
            allowed(ctx)
            start = f"1 1 {ctx.today().year}"
        return Redirect(_address({"pupil": str(pupil_id), "from": start}), status_code=303)

    @get("/pupils/{pupil_id:int}/history.csv", sync_to_thread=True)
    def pupil_history_csv(
        self,
        request: Request,
        pupil_id: FromPath[int],
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: Annotated[date | None, QueryParameter()] = None,
    ) -> Response:
        with unit_of_work(request) as ctx:
            allowed(ctx)
            return pupil_history_response(ctx, pupil_id, from_, to)


def _form_error(problem: FilterProblem) -> FormError:
    label = {"record_type": "Record type", "record_id": "Record id"}.get(
        problem.field, problem.field.capitalize()
    )
    return FormError(FIELD_IDS[problem.field], f"{label} '{problem.value}': {problem.rule}")
