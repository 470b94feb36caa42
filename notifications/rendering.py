"""Email templates: one Jinja2 environment, strict about missing fields, escaping HTML.

An email named ``NAME`` is two files under ``notifications/templates/email/``: ``NAME.txt``
(the plain-text part) and ``NAME.html`` (the HTML part). Both render from one context. An LA
profile may replace either with its own wording (notifications/overrides.py). A field
the context lacks raises ``MissingField`` naming the template and the field (StrictUndefined):
nothing half-filled is ever queued or sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import (
    Environment,
    TemplateError,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

from notifications import overrides

EMAIL_DIR = "email"
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")
_MISSING = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


class EmailTemplateError(ValueError):
    """An email template cannot be rendered: unknown, broken, or missing a field."""

    def __init__(self, template: str, problem: str):
        self.template = template
        self.problem = problem
        super().__init__(f"email template {template!r}: {problem}")


class MissingField(EmailTemplateError):
    """The context lacks a field the template uses."""

    def __init__(self, template: str, part: str, field: str, message: str):
        self.field = field
        super().__init__(template, f"{part} needs {field!r}, which the context lacks ({message})")


@dataclass(frozen=True)
class RenderedEmail:
    text: str
    html: str


# HTML parts are escaped; the text part is plain text and must not be.
_AUTOESCAPE = select_autoescape(enabled_extensions=("html",), default=False)


def environment(profile_key: str | None = None) -> Environment:
    """The environment for one LA profile: its own wording first (notifications/overrides.py)."""
    return overrides.environment(profile_key, autoescape=_AUTOESCAPE, keep_trailing_newline=True)


def render_email(
    template: str, context: Mapping[str, Any], profile_key: str | None = None
) -> RenderedEmail:
    """Both parts of the email ``template`` filled from ``context``, in the wording of the LA
    profile ``profile_key`` where it has its own."""
    if not _NAME.match(template):
        raise EmailTemplateError(template, "a template name is lower-case words and slashes")
    env = environment(profile_key)
    text = _render(env, template, "txt", context)
    html = _render(env, template, "html", context)
    return RenderedEmail(text, html)


def _render(env: Environment, template: str, extension: str, context: Mapping[str, Any]) -> str:
    path = f"{EMAIL_DIR}/{template}.{extension}"
    try:
        return env.get_template(path).render(context)
    except UndefinedError as exc:
        message = exc.message or "undefined"
        found = _MISSING.search(message)
        field = next((g for g in found.groups() if g), message) if found else message
        raise MissingField(template, path, field, message) from None
    except TemplateNotFound:
        raise EmailTemplateError(template, f"{path} does not exist") from None
    except TemplateError as exc:
        raise EmailTemplateError(template, f"{path}: {type(exc).__name__}: {exc}") from None
