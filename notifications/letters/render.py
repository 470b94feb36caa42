"""Letter templates to HTML: one Jinja2 environment, autoescaped and strict.

A letter renders from one JSON snapshot (``letter``: dates as ISO strings), the same snapshot
stored with it, so the stored data always re-renders to the stored HTML. A field the template
uses and the snapshot lacks stops the render (StrictUndefined) with InvalidInput naming it;
``missing_elements`` then checks that every element the kind requires is there and holds text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from html.parser import HTMLParser
from typing import Any

from jinja2 import Environment, Undefined, UndefinedError

from casework.errors import InvalidInput
from notifications import overrides
from notifications.letters.kinds import LetterKind
from notifications.overrides import lookup
from notifications.penalty_notice import CODE_MEANINGS, SESSION_NAMES, long_date, money

_MISSING = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def letter_date(value: date | str) -> str:
    """4 November 2024."""
    return long_date(_as_date(value))


def day_date(value: date | str) -> str:
    """Monday 4 November 2024: meeting dates carry the weekday, as people check it."""
    day = _as_date(value)
    return f"{_WEEKDAYS[day.weekday()]} {long_date(day)}"


def clock_time(value: str) -> str:
    """14:30 as 2:30pm, 09:00 as 9am (GOV.UK style)."""
    hours, minutes = (int(part) for part in value.split(":"))
    suffix = "am" if hours < 12 else "pm"
    shown = hours % 12 or 12
    return f"{shown}{suffix}" if minutes == 0 else f"{shown}:{minutes:02d}{suffix}"


def percent(value: float) -> str:
    return f"{value:.1f}%"


def _strict(function):
    """A filter given a missing field fails as the template would (StrictUndefined), instead of
    raising its own error about the value's type."""

    def filtered(value, *args):
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        return function(value, *args)

    filtered.__name__ = function.__name__
    return filtered


def environment(profile_key: str | None = None) -> Environment:
    """The environment for one LA profile: its own wording first (notifications/overrides.py)."""
    return overrides.environment(profile_key, _letter_filters)


def _letter_filters(env: Environment) -> None:
    filters = {
        "long_date": letter_date,
        "day_date": day_date,
        "clock_time": clock_time,
        "money": money,
        "percent": percent,
        "session_name": lookup(SESSION_NAMES, "session"),
        "code_meaning": lookup(CODE_MEANINGS, "attendance code"),
    }
    env.filters.update({name: _strict(f) for name, f in filters.items()})


def render_letter(
    kind: LetterKind, letter: Mapping[str, Any], profile_key: str | None = None
) -> str:
    """The letter as a standalone HTML document in the wording of the LA profile
    ``profile_key`` where it has its own, or InvalidInput naming the missing field."""
    try:
        return environment(profile_key).get_template(kind.template).render(letter=letter)
    except UndefinedError as exc:
        message = exc.message or "undefined"
        found = _MISSING.search(message)
        name = next((g for g in found.groups() if g), message) if found else message
        raise InvalidInput.one(
            name, None, f"the {kind.key} letter needs {name!r}, which was not given ({message})"
        ) from None


# Elements with no end tag: never pushed on the open-element stack.
_VOID = frozenset({"br", "hr", "meta", "img", "input", "link", "col", "wbr"})


class _ElementText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        key = dict(attrs).get("data-element")
        if key is not None:
            self.text.setdefault(key, [])
        self.open.append((tag, key))

    def handle_endtag(self, tag):
        if not any(open_tag == tag for open_tag, _ in self.open):
            return
        while self.open:
            open_tag, _ = self.open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, key in self.open:
            if key is not None:
                self.text[key].append(data)


def element_texts(html: str) -> dict[str, str]:
    """The text inside each data-element wrapper, whitespace collapsed."""
    parser = _ElementText()
    parser.feed(html)
    parser.close()
    return {key: " ".join("".join(parts).split()) for key, parts in parser.text.items()}


def missing_elements(html: str, required: Mapping[str, str]) -> list[str]:
    """The required elements absent from ``html`` or holding no text, in ``required``'s order."""
    found = element_texts(html)
    return [key for key in required if not found.get(key)]
