"""Letters to parents on the case page: the case's letters (its exhibits) and sending one.

Each kind of letter asks for different extra fields, so sending is two steps: the case page
chooses the kind, and ``/cases/{id}/letters/new?kind=...`` asks for that kind's fields. Its
Preview button renders the letters (one per parent) through the same path as sending and writes
nothing; its Send button stores them and goes back to the case. The letters' HTML is our own
autoescaped templates' output, shown in a sandboxed ``iframe srcdoc`` so nothing in it runs or
reaches the page.
"""

from __future__ import annotations

import contextlib
import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import retry_on_conflict, unit_of_work
from api.pages.common import FormError, me, render, sentence, words
from casework.errors import Conflict, Forbidden, InvalidInput
from casework.models import Case, Contact, OutboxMessage
from casework.models.letters import EMAIL, PRINT
from notifications.letters.fields import Field
from notifications.letters.kinds import KINDS, LetterKind
from workflows.context import Context
from workflows.letters import (
    PreparedLetter,
    letters_of,
    may_request,
    preview_letter,
    request_letter,
    requestable_kinds,
)

FORM_ID = "letter-form"
KIND_ID = "letter-kind"
PREVIEW = "preview"
SEND = "send"
LIST_FORMAT = "one per line"
ACTIONS_FORMAT = "one per line: what will be done | who does it | by when (optional)"
SESSIONS_HINT = "One session per line: YYYY-MM-DD AM|PM CODE, for example 2024-11-04 AM N"

# Every extra field any kind asks for (the names are shared where the meaning is: a meeting's
# date is meeting_date in every invitation), as one form: unknown names are simply not read.
FIELD_NAMES = sorted({f.name for k in KINDS.values() for f in k.fields})
LetterForm = msgspec.defstruct(
    "LetterForm",
    [
        ("kind", Annotated[str, msgspec.Meta(max_length=40)], ""),
        ("action", Annotated[str, msgspec.Meta(max_length=20)], ""),
        *((name, Annotated[str, msgspec.Meta(max_length=20_000)], "") for name in FIELD_NAMES),
    ],
)

# How each type of field is asked for: the control and the hint that says how to write it.
CONTROLS: dict[str, tuple[str, str | None]] = {
    "date": ("date", "For example 2024-11-18"),
    "time": ("time", "24-hour clock, for example 15:30"),
    "text": ("text", None),
    "percent": ("number", "A percentage from 0 to 100, for example 86.5"),
    "count": ("number", "A whole number"),
    "text_list": ("textarea", f"Write them {LIST_FORMAT}"),
    "actions": ("textarea", f"Write them {ACTIONS_FORMAT}"),
    "sessions": ("textarea", SESSIONS_HINT),
}


def field_id(name: str) -> str:
    return f"letter-{name}"


def field_label(spec: Field) -> str:
    return words(spec.name)


def _field_view(spec: Field, value: str) -> dict[str, Any]:
    control, how = CONTROLS.get(spec.type, ("text", None))
    # The kinds' descriptions are written for the JSON API; the page says how to type lists.
    described = re.sub(r",? each \{[^}]*\}", "", spec.description)
    hint = sentence(described) + "." + (f" {how}." if how else "")
    return {
        "id": field_id(spec.name),
        "name": spec.name,
        "label": field_label(spec),
        "control": control,
        "hint": hint,
        "optional": not spec.required,
        "value": value,
        "inputmode": "decimal" if spec.type == "percent" else "numeric",
    }


def _recipient(contact: Contact | None) -> str:
    if contact is None:
        return ""
    return " ".join(p for p in (contact.title, contact.forename, contact.surname) if p)


def case_letters(ctx: Context, case: Case) -> dict[str, Any]:
    """The case's letters and what the user may send. Called by the case page inside its unit
    of work, after the case was read in scope."""
    letters = letters_of(ctx, case.id)
    contacts = {
        c.id: c
        for c in ctx.session.scalars(
            select(Contact).where(Contact.id.in_({x.contact_id for x in letters}))
        )
    }
    message_ids = {x.outbox_message_id for x in letters if x.outbox_message_id}
    statuses = (
        dict(
            ctx.session.execute(
                select(OutboxMessage.id, OutboxMessage.status).where(
                    OutboxMessage.id.in_(message_ids)
                )
            ).all()
        )
        if message_ids
        else {}
    )
    today = ctx.today()
    rows = []
    for letter in letters:
        kind = KINDS.get(letter.kind)
        rows.append(
            {
                "id": letter.id,
                "exhibit": letter.exhibit_number,
                "reference": letter.reference,
                "title": kind.title if kind else words(letter.kind),
                "to": _recipient(contacts.get(letter.contact_id)),
                "letter_date": letter.letter_date,
                "emailed": letter.delivery == EMAIL,
                "message_status": statuses.get(letter.outbox_message_id),
                "note": letter.delivery_note,
                "pages": letter.pages,
                "pdf": f"/api/cases/{case.id}/letters/{letter.id}/pdf",
                "html": f"/api/cases/{case.id}/letters/{letter.id}/html",
            }
        )
    # Today's print batch per school (the case's school, or an earlier one if it moved).
    batch_schools = sorted(
        {x.school_id for x in letters if x.delivery == PRINT and x.letter_date == today}
    )
    kinds = requestable_kinds(ctx.actor.role)
    return {
        "letters": rows,
        "print_batches": [
            f"/api/letters/print-batch?school_id={school_id}&date={today.isoformat()}"
            for school_id in batch_schools
        ],
        "today": today,
        "may_send": bool(kinds),
        "kind_options": [(k.key, k.title) for k in kinds],
    }


# --- the form ---------------------------------------------------------------------------------


def _extra(kind: LetterKind, form: Any) -> tuple[dict[str, Any], list[FormError]]:
    """The form's values as the letter service's ``extra``: empty fields left out (the service
    says which it requires), numbers as numbers, lists from their lines. Values that do not
    parse as numbers are passed on as written so the service names the field and the rule."""
    extra: dict[str, Any] = {}
    errors: list[FormError] = []
    for spec in kind.fields:
        raw = str(getattr(form, spec.name, "") or "")
        if not raw.strip():
            continue
        value: Any = raw.strip()
        if spec.type == "percent":
            with contextlib.suppress(ValueError):
                value = float(value)
        elif spec.type == "count":
            with contextlib.suppress(ValueError):
                value = int(value)
        elif spec.type == "text_list":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
        elif spec.type == "actions":
            value = []
            for number, line in enumerate(raw.splitlines(), start=1):
                if not line.strip():
                    continue
                parts = [part.strip() for part in line.split("|")]
                if len(parts) not in (2, 3) or not all(parts[:2]):
                    errors.append(
                        FormError(
                            field_id(spec.name),
                            f"{field_label(spec)}, line {number}: write it as {ACTIONS_FORMAT}",
                        )
                    )
                    continue
                value.append(
                    {"action": parts[0], "who": parts[1], "by": parts[2] if len(parts) > 2 else ""}
                )
        elif spec.type == "sessions":
            # Imported here: the case page imports this module for its Letters section.
            from api.pages.cases import parse_sessions

            sessions, _, problems = parse_sessions(raw, field_id(spec.name))
            errors.extend(problems)
            value = [
                {"date": s.day.isoformat(), "session": s.session, "code": s.code} for s in sessions
            ]
        extra[spec.name] = value
    return extra, errors


def _invalid(kind: LetterKind, exc: InvalidInput) -> list[FormError]:
    """Each problem at the field it names, else at the form (parents, addresses, elements)."""
    specs = {f.name: f for f in kind.fields}
    errors = []
    for p in exc.problems:
        name = p.field.removeprefix("extra.")
        if p.field.startswith("extra.") and name in specs:
            label = field_label(specs[name])
            message = (
                f"{label} is required: {p.rule.removeprefix('required: ')}"
                if p.rule.startswith("required: ")
                else f"{label}: {p.rule}"
            )
            errors.append(FormError(field_id(name), message))
        else:
            errors.append(FormError(FORM_ID, sentence(p.rule)))
    return errors


def _preview_view(item: PreparedLetter) -> dict[str, Any]:
    return {
        "exhibit": item.exhibit,
        "reference": item.data["reference"],
        "to": item.recipient_name,
        "address": item.data["recipient"]["address"],
        "emailed": item.delivery == EMAIL,
        "email": item.email,
        "note": item.note,
        "pages": item.pdf.pages,
        "html": item.html,
    }


def letter_form_page(
    request: Request,
    case_id: int,
    kind_key: str | None,
    *,
    values: dict[str, str] | None = None,
    errors: list[FormError] | None = None,
    previews: list[PreparedLetter] | None = None,
    status: int = 200,
) -> Template:
    errors = list(errors or [])
    values = values or {}
    with unit_of_work(request) as ctx:
        # The case first: outside the user's scope it is "Page not found", whatever the kind.
        case = ctx.case(case_id)
        kinds = requestable_kinds(ctx.actor.role)
        if not kinds:
            raise Forbidden("your role does not send letters to parents")
        kind = KINDS.get(kind_key or "")
        if kind_key and (kind is None or may_request(ctx.actor.role, kind)):
            errors.append(FormError(KIND_ID, "Choose one of the letters you may send"))
            kind, status = None, 400 if status == 200 else status
        context = {
            "me": me(ctx),
            "case": {"id": case.id, "reference": case.reference},
            "kind": kind,
            "kind_options": [(k.key, k.title) for k in kinds],
            "fields": [_field_view(f, values.get(f.name, "")) for f in kind.fields] if kind else [],
            "previews": [_preview_view(p) for p in previews or []],
            "errors": errors,
        }
    return render("letter_new.html", context, status=status)


class LetterPages(Controller):
    path = "/cases"
    include_in_schema = False

    @get("/{case_id:int}/letters/new", sync_to_thread=True)
    def new(
        self,
        request: Request,
        case_id: FromPath[int],
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Template:
        return letter_form_page(request, case_id, kind or None)

    @post("/{case_id:int}/letters/new", sync_to_thread=True)
    def submit(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[LetterForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        values = {name: getattr(data, name) for name in FIELD_NAMES}
        kind = KINDS.get(data.kind)

        def again(
            errors: list[FormError], status: int, previews: list[PreparedLetter] | None = None
        ) -> Template:
            return letter_form_page(
                request,
                case_id,
                data.kind or None,
                values=values,
                errors=errors,
                previews=previews,
                status=status,
            )

        if kind is None:
            # An unknown kind is named by the page itself; no kind at all, here.
            missing = [] if data.kind else [FormError(KIND_ID, "Choose a letter to send")]
            return again(missing, 400)
        extra, errors = _extra(kind, data)
        if errors:
            with unit_of_work(request) as ctx:
                ctx.case(case_id)  # out of scope: "Page not found", not the form's errors
            return again(errors, 422)
        try:
            if data.action == SEND:
                retry_on_conflict(
                    request,
                    lambda ctx: request_letter(ctx, _in_scope(ctx, case_id), kind.key, extra),
                )
                return Redirect(f"/cases/{case_id}#letters", status_code=303)
            with unit_of_work(request) as ctx:
                # Rendered and thrown away: the unit of work rolls back and nothing is stored.
                previews = preview_letter(ctx, _in_scope(ctx, case_id), kind.key, extra)
            return again([], 200, previews)
        except InvalidInput as exc:
            errors, status = _invalid(kind, exc), 422
        except Conflict as exc:
            errors, status = [FormError(FORM_ID, sentence(str(exc)))], 409
        except Forbidden as exc:
            errors, status = [FormError(FORM_ID, sentence(str(exc)))], 403
        return again(errors, status)


def _in_scope(ctx: Context, case_id: int) -> int:
    """``case_id`` once the case is found in the user's scope (NotFound before any refusal of
    the kind, so another school's user learns nothing about the case)."""
    return ctx.case(case_id).id
