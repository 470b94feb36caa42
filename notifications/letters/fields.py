"""The extra fields a letter asks its sender for (a meeting's date, time and place; a contract's
commitments), checked before anything is rendered. Values come from JSON or from Python; what
comes out is JSON (dates as ISO strings), ready for the letter's snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from casework.errors import FieldProblem, InvalidInput

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SESSIONS = ("AM", "PM")
LONGEST_TEXT = 600
MOST_ITEMS = 20


@dataclass(frozen=True)
class Field:
    """One extra field: its name, type, whether the sender must give it, and what it is."""

    name: str
    type: str  # date | time | text | text_list | actions | sessions | percent | count
    required: bool
    description: str


def _date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError("a date as YYYY-MM-DD")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("text, not empty")
    if len(value) > LONGEST_TEXT:
        raise ValueError(f"at most {LONGEST_TEXT} characters")
    return " ".join(value.split())


def _time(value: Any) -> str:
    if not isinstance(value, str) or not _TIME.match(value.strip()):
        raise ValueError("a time as HH:MM (24-hour clock)")
    return value.strip()


def _list(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError("a list with at least one item")
    if len(value) > MOST_ITEMS:
        raise ValueError(f"at most {MOST_ITEMS} items")
    return value


def _text_list(value: Any) -> list[str]:
    return [_text(item) for item in _list(value)]


def _actions(value: Any) -> list[dict[str, str]]:
    out = []
    for item in _list(value):
        if not isinstance(item, Mapping) or set(item) - {"action", "who", "by"}:
            raise ValueError('each action is {"action": ..., "who": ..., "by": ...}')
        out.append(
            {
                "action": _text(item.get("action")),
                "who": _text(item.get("who")),
                "by": _text(item["by"]) if item.get("by") else "",
            }
        )
    return out


def _sessions(value: Any) -> list[dict[str, str]]:
    out = []
    for item in _list(value):
        if not isinstance(item, Mapping) or set(item) != {"date", "session", "code"}:
            raise ValueError('each session is {"date": ..., "session": "AM"|"PM", "code": ...}')
        if item["session"] not in _SESSIONS:
            raise ValueError("each session is AM or PM")
        out.append(
            {
                "date": _date(item["date"]),
                "session": item["session"],
                "code": _text(item["code"]).upper(),
            }
        )
    return sorted(out, key=lambda s: (s["date"], s["session"]))


def _percent(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError("a percentage from 0 to 100")
    return round(float(value), 1)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a whole number, 0 or more")
    return value


CONVERTERS = {
    "date": _date,
    "time": _time,
    "text": _text,
    "text_list": _text_list,
    "actions": _actions,
    "sessions": _sessions,
    "percent": _percent,
    "count": _count,
}


def checked_extra(
    letter: str, fields: tuple[Field, ...], extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The extra fields as JSON values, or InvalidInput naming every field that is missing,
    unknown or malformed (``extra.<name>``). Optional fields not given are left out."""
    given = dict(extra or {})
    known = {f.name: f for f in fields}
    problems = [
        FieldProblem(
            f"extra.{name}",
            given[name],
            f"not a field of the {letter} letter"
            + (f"; its fields are {', '.join(known)}" if known else "; it takes none"),
        )
        for name in sorted(set(given) - set(known))
    ]
    out: dict[str, Any] = {}
    for spec in fields:
        value = given.get(spec.name)
        if value is None or value == "" or value == []:
            if spec.required:
                problems.append(
                    FieldProblem(f"extra.{spec.name}", None, f"required: {spec.description}")
                )
            continue
        try:
            out[spec.name] = CONVERTERS[spec.type](value)
        except ValueError as exc:
            problems.append(FieldProblem(f"extra.{spec.name}", value, str(exc)))
    if problems:
        raise InvalidInput(problems)
    return out
