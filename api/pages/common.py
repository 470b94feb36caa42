"""What every page shares: rendering, words for the domain's values, form errors, error pages.

Nothing here queries the database beyond what the scoped services and queries already do, and
nothing is logged except an exception's type: pages carry personal data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from litestar import Request
from litestar.exceptions import NotFoundException, ValidationException
from litestar.response import Template

from casework.errors import Forbidden, NotFound
from casework.models import LocalAuthority
from casework.vocabulary import STAGE_LABELS, Role, year_group
from workflows.context import Context
from workflows.policy import CASEWORK_ROLES

log = logging.getLogger("casework.pages")

LONDON = ZoneInfo("Europe/London")

ROLE_WORDS = {
    Role.SCHOOL_STAFF.value: "School staff",
    Role.TRADED_OFFICER.value: "Traded attendance officer",
    Role.STATUTORY_OFFICER.value: "Statutory attendance officer",
    Role.LA_MANAGER.value: "Local authority manager",
    Role.ADMIN.value: "Administrator",
}

# Values whose words are not just the value with spaces; anything else is shown that way.
WORDS: dict[str, str] = {
    **{stage.value: label for stage, label in STAGE_LABELS.items()},
    **ROLE_WORDS,
    "irregular_attendance": "Irregular attendance",
    "term_time_holiday": "Term-time holiday",
    "pupil_check_in": "Pupil check-in",
    "early_help_assessment": "Early Help assessment",
    "team_around_the_family": "Team Around the Family",
    "attendance_improvement_meeting": "Attendance Improvement Meeting (AIM)",
    "notice_to_improve": "Notice to Improve",
    "notice_to_improve_issued": "Notice to Improve issued",
    "education_supervision_order_consideration": "Education supervision order considered",
    "children_missing_education": "Child missing education",
    "not_applicable": "Not applicable",
    "school": "School",
    "traded": "Traded attendance service",
    "statutory": "Statutory team",
}


def words(value: Any) -> str:
    """A stored value (stage, kind, outcome, role, ...) as words a person reads."""
    if value is None or value == "":
        return ""
    text = str(value)
    return WORDS.get(text) or text.replace("_", " ").capitalize()


def day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON) if value.tzinfo else value
    return f"{local.day} {local:%B %Y}, {local:%H:%M}"


def sentence(text: str) -> str:
    """A rule from a service ("describe what happened") as a sentence's start."""
    return text[:1].upper() + text[1:] if text else text


def configure(engine: Any) -> None:
    """Filters the templates use (registered on the Jinja environment at start-up)."""
    from casework.analytics.totals import percent_text

    # The GOV.UK Design System's macros (govuk-frontend-jinja) beside Casework's own templates.
    env = engine.engine
    env.loader = ChoiceLoader(
        [
            env.loader,
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    engine.engine.filters.update(
        words=words,
        day=day,
        when=when,
        year_group=year_group,
        sentence=sentence,
        percent=percent_text,
    )


# How a date is asked for: as people in England write one. ISO dates (what a pre-filled field
# holds) are accepted too.
DATE_HINT = "For example, 18 11 2024"
DATE_RULE = "enter a real date, for example 18 11 2024"
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip


# The largest id or count a form may name: what the database's integer columns hold.
LARGEST_NUMBER = 2**31 - 1


def is_number(text: str) -> bool:
    """A form's whole number (an id, a version, a count): ASCII digits only (``str.isdigit``
    also takes "³", which ``int`` refuses) and small enough for the database to look up."""
    text = text.strip()
    return text.isascii() and text.isdigit() and int(text) <= LARGEST_NUMBER


def parse_day(text: str) -> date:
    """A date as typed: 18 11 2024, 18/11/2024, 18-11-2024, 18.11.2024, 18 November 2024,
    18 Nov 2024 or 2024-11-18. ValueError for anything else, or a day that does not exist."""
    cleaned = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        return date.fromisoformat(cleaned)
    parts = [p for p in re.split(r"[\s/.,-]+", cleaned) if p]
    if len(parts) != 3:
        raise ValueError(f"not a date: {text!r}")
    day, month, year = parts
    number = _MONTHS.get(month.lower()) if not month.isdigit() else int(month)
    if number is None or not day.isdigit() or not (year.isdigit() and len(year) == 4):
        raise ValueError(f"not a date: {text!r}")
    return date(int(year), number, int(day))


@dataclass(frozen=True)
class FormError:
    """One problem with what was submitted: the id of the field to link to, and what is wrong."""

    field: str
    message: str


def field_errors(errors: list[FormError]) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field, error.message)
    return found


def render(template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Template:
    context = dict(context or {})
    errors = context.setdefault("errors", [])
    context.setdefault("field_errors", field_errors(errors))
    return Template(template_name=template, context=context, status_code=status)


# The service navigation: (section, address, label, the roles that see it). A page names its
# section as ``active_section`` in its context to be marked as the current one.
NAVIGATION: tuple[tuple[str, str, str, frozenset[Role]], ...] = (
    ("work", "/", "My work", frozenset(CASEWORK_ROLES)),
    ("caseload", "/caseload", "Caseload", frozenset(CASEWORK_ROLES)),
    ("schools", "/schools", "Schools", frozenset(CASEWORK_ROLES)),
    ("penalties", "/penalty-notices", "Penalty notices", frozenset(CASEWORK_ROLES)),
    (
        "reports",
        "/reports",
        "Reports",
        frozenset({Role.LA_MANAGER, Role.STATUTORY_OFFICER, Role.TRADED_OFFICER}),
    ),
    ("imports", "/imports", "Imports", frozenset({Role.SCHOOL_STAFF, Role.LA_MANAGER, Role.ADMIN})),
    ("outbox", "/outbox", "Outbox", frozenset({Role.LA_MANAGER, Role.ADMIN})),
    ("audit", "/audit", "Audit", frozenset({Role.LA_MANAGER, Role.ADMIN})),
    ("admin", "/admin", "Admin", frozenset({Role.ADMIN})),
)


def navigation(role: str) -> list[dict[str, str]]:
    """The sections a role sees, in order, for the page header."""
    return [
        {"section": section, "href": href, "text": text}
        for section, href, text, roles in NAVIGATION
        if Role(role) in roles
    ]


def me(ctx: Context) -> dict[str, Any]:
    """Who is signed in, for the page header: their name, position and role in words, whether
    they do casework (an administrator manages users and settings instead), and the sections
    of the service they see."""
    actor = ctx.actor
    return {
        "name": actor.full_name,
        "position": actor.position,
        "role": ROLE_WORDS.get(actor.role, words(actor.role)),
        "casework": actor.role in CASEWORK_ROLES,
        "nav": navigation(actor.role),
    }


def la_name(ctx: Context) -> str:
    # Context.build has already loaded the user's LA, so this is answered from the session.
    la = ctx.session.get(LocalAuthority, ctx.actor.la_id)
    return la.name if la else "the local authority"


# Error pages for HTML requests to these pages (the JSON API keeps its problem documents).


def not_found_page(_: Request, __: Exception) -> Template:
    return render("not_found.html", {"signed_in": True}, status=404)


def forbidden_page(_: Request, exc: Forbidden) -> Template:
    return render(
        "problem.html",
        {"signed_in": True, "title": "Not allowed", "detail": sentence(str(exc))},
        status=403,
    )


def bad_request_page(_: Request, exc: ValidationException) -> Template:
    problems = [
        f"{item.get('key') or 'the page address'}: {item.get('message', 'not valid')}"
        for item in (exc.extra or [])
        if isinstance(item, dict)
    ]
    return render(
        "problem.html",
        {
            "signed_in": True,
            "title": "There is a problem with the request",
            "detail": "Go back and try again.",
            "problems": problems,
        },
        status=400,
    )


def server_error_page(request: Request, exc: Exception) -> Template:
    # The type only: exception text can carry personal data from a record.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.scope["path"])
    return render(
        "problem.html",
        {
            "signed_in": True,
            "title": "Sorry, there is a problem with the service",
            "detail": "Try again later. The problem has been logged.",
        },
        status=500,
    )


ERROR_PAGES = {
    NotFound: not_found_page,
    NotFoundException: not_found_page,
    Forbidden: forbidden_page,
    ValidationException: bad_request_page,
    Exception: server_error_page,
}
