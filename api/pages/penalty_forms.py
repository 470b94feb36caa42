"""The forms the penalty-notice and leave pages read, and the small pieces those pages share to
read them: dates, pounds and record versions in, and what a service refuses out, as errors
pointed at the form's fields.

What is allowed is the scoped services' decision, and what a page shows is its own module's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm.exc import StaleDataError

from api.deps import unit_of_work
from api.pages.common import DATE_RULE, FormError, is_number, parse_day, sentence
from casework.errors import Conflict, Forbidden, InvalidInput, NoticeRefused
from workflows.context import Context
from workflows.penalties.rules import OVERRIDABLE

T = TypeVar("T")

DATE_FORMAT = DATE_RULE
# Pounds, with or without pence: "80", "80.00", "£160". Nothing else ("80p", "80.5", "eighty").
POUNDS = re.compile(r"£?(\d{1,7})(?:\.(\d{2}))?")
PAGE = "main-content"  # base.html's <main>: where an error with no form on the page points

Short = Annotated[str, msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Query = Annotated[str, QueryParameter(max_length=40)]
# A handler's ``data``: the form as posted by a browser.
Form = Annotated[T, Body(media_type=RequestEncodingType.URL_ENCODED)]

# What an officer writes to set aside a check the LA may use its discretion on (the issue
# form's rationale_<guard> fields, and the rationales a notice records).
RATIONALE_LABELS = {
    "threshold_met": "The LA's discretion to issue below the threshold",
    "notice_to_improve": "Why no Notice to Improve is needed",
}
# The headteacher's decision on a leave request: the decision form's choices.
LEAVE_DECISION_WORDS = {
    "authorised": "Authorised",
    "partly_authorised": "Partly authorised",
    "refused": "Refused",
}


class Versioned(msgspec.Struct):
    """A form changing a record as it was read: the version it was read at."""

    expected_version: Short = ""


class ReasonForm(Versioned):
    """Declining a request, or cancelling a draft notice."""

    reason: Text = ""


class NoteForm(Versioned):
    note: Text = ""


class WithdrawForm(Versioned):
    ground: Short = ""
    note: Text = ""


class PaymentForm(Versioned):
    paid_on: Short = ""
    amount: Short = ""
    method: Short = ""
    finance_reference: Short = ""


class IssueDraftForm(Versioned):
    posted_on: Short = ""


# Issuing from a request: the date of posting, the parents chosen, a note and one rationale field
# per check the LA may set aside.
IssueForm = msgspec.defstruct(
    "IssueForm",
    [
        ("contact_ids", str | list[str], msgspec.field(default_factory=list)),
        ("note", Text, ""),
        *((f"rationale_{name}", Text, "") for name in sorted(OVERRIDABLE)),
    ],
    bases=(IssueDraftForm,),
)


class RequestForm(msgspec.Struct):
    reason: Short = ""
    summary: Text = ""
    leave_request_id: Short = ""


class LeaveForm(msgspec.Struct):
    school_id: Short = ""
    contact_id: Short = ""
    applied_on: Short = ""
    first_day: Short = ""
    last_day: Short = ""
    reason: Text = ""


class LeaveDecisionForm(msgspec.Struct):
    decision: Short = ""
    exceptional_circumstances: Short = ""
    reasons: Text = ""
    decided_on: Short = ""
    decided_by_name: Name = ""
    decided_by_position: Name = ""
    authorised_from: Short = ""
    authorised_to: Short = ""


class LeaveTakenForm(msgspec.Struct):
    first_absent: Short = ""
    last_absent: Short = ""


# --- reading a form ----------------------------------------------------------------------------


def submitted(form: str, data: msgspec.Struct) -> dict[str, Any]:
    """What was posted, to show again, marked with the form it came from."""
    return {"form": form, **msgspec.structs.asdict(data)}


def read_date(
    text: str, field: str, label: str, errors: list[FormError], *, optional: bool = False
) -> date | None:
    text = text.strip()
    if not text and optional:
        return None
    try:
        return parse_day(text)
    except ValueError:
        errors.append(FormError(field, f"{label}: {DATE_FORMAT}"))
        return None


def pounds_to_pence(text: str) -> int | None:
    """ "80" or "80.00" (or "£80.00") as 8000 pence; None for anything else."""
    found = POUNDS.fullmatch(text.strip())
    if found is None:
        return None
    return int(found.group(1)) * 100 + int(found.group(2) or 0)


def version(text: str) -> int | None:
    return int(text) if is_number(text) else None


def contact_name(contact) -> str:
    """A parent as the forms list them."""
    return " ".join(x for x in (contact.title, contact.forename, contact.surname) if x)


# --- errors ------------------------------------------------------------------------------------


def field_ids(fields: dict[str, tuple[str, str]]) -> set[str]:
    """The ids of the fields a form shows, from its ``{service field: (id, label)}``."""
    return {field for field, _ in fields.values()}


def problems(
    exc: InvalidInput, fields: dict[str, tuple[str, str]], fallback: str
) -> list[FormError]:
    """The service's broken rules, each pointed at the field the page shows for it."""
    found = []
    for p in exc.problems:
        if p.field in fields:
            field, label = fields[p.field]
            found.append(FormError(field, f"{label}: {p.rule}"))
        else:
            found.append(FormError(fallback, sentence(p.rule)))
    return found


def anchor(errors: list[FormError], known: set[str], fallback: str) -> list[FormError]:
    """Point each error at a field the page shows, else at ``fallback``."""
    return [e if e.field in known else FormError(fallback, e.message) for e in errors]


@dataclasses.dataclass(frozen=True)
class Saved:
    """What became of a change: what it returned, or the errors to show and the status."""

    value: Any = None
    errors: list[FormError] = dataclasses.field(default_factory=list)
    status: int = 303


def save(
    request: Request,
    change: Callable[[Context], Any],
    *,
    fields: dict[str, tuple[str, str]],
    fallback: str,
    stale: str,
    invalid: Callable[[InvalidInput], list[FormError]] | None = None,
    refused: Callable[[NoticeRefused], list[FormError]] | None = None,
) -> Saved:
    """Run ``change`` in a writing unit of work and commit it.

    A refusal comes back as errors to show: broken rules at their ``fields`` (or as ``invalid``
    says), each parent's failed checks (or as ``refused`` says), a change saved first (``stale``
    when the database, not the service, noticed it) and a role not allowed; the rest point at
    ``fallback``."""
    try:
        with unit_of_work(request, write=True) as ctx:
            value = change(ctx)
            ctx.commit()
    except InvalidInput as exc:
        errors = invalid(exc) if invalid else problems(exc, fields, fallback)
        return Saved(errors=errors, status=422)
    except NoticeRefused as exc:
        errors = (
            refused(exc)
            if refused
            else [
                FormError(fallback, f"{who}: {u.reason}")
                for who, unmet in exc.refusals.items()
                for u in unmet
            ]
        )
        return Saved(errors=errors, status=409)
    except (Conflict, StaleDataError) as exc:
        message = sentence(str(exc)) if isinstance(exc, Conflict) else stale
        return Saved(errors=[FormError(fallback, message)], status=409)
    except Forbidden as exc:
        return Saved(errors=[FormError(fallback, sentence(str(exc)))], status=403)
    return Saved(value=value)


@dataclasses.dataclass(frozen=True)
class PageForms:
    """The forms on one record's page (a notice's, a leave request's): each form's fields, how
    to show the page again and where a change that is saved goes."""

    page: Callable[..., Template]  # (request, record id, *, errors, submitted, status)
    done_url: str  # with {id} and {done}
    fields: dict[str, dict[str, tuple[str, str]]]  # form name: its fields (see ``problems``)
    stale: str

    def again(
        self,
        request: Request,
        record_id: int,
        form: str,
        data: msgspec.Struct,
        errors: list[FormError],
        status: int = 422,
    ) -> Template:
        """The page again, with what was submitted to ``form`` and the error summary."""
        shown = submitted(form, data)
        return self.page(request, record_id, errors=errors, submitted=shown, status=status)

    def change(
        self,
        request: Request,
        record_id: int,
        form: str,
        data: msgspec.Struct,
        change: Callable[[Context], Any],
        done: str,
    ) -> Response | Template:
        """Run ``change`` for ``form``; a refusal shows the page again with the error summary."""
        saved = save(request, change, fields=self.fields[form], fallback=form, stale=self.stale)
        if saved.errors:
            return self.again(request, record_id, form, data, saved.errors, saved.status)
        return Redirect(self.done_url.format(id=record_id, done=done), status_code=303)
