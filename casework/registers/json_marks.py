"""Daily marks pushed as JSON by an integration: ``[{"upn", "date", "session", "code"}, …]``.

Each item becomes a :class:`MarkRow` (its ``line`` is the item's number, from 1) or a
:class:`Problem` naming the item, the field, the value and the rule. Same-session duplicates with
different codes are refused; an identical duplicate is kept once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from casework.errors import InvalidInput
from casework.registers.codes import classify
from casework.registers.marks import session_name
from casework.registers.records import FileRejected, MarkRow, Problem
from casework.upn import upn_problem

MAX_ITEMS = 1_000_000


def parse_marks_json(items: Any) -> tuple[list[MarkRow], list[Problem]]:
    if not isinstance(items, list):
        raise FileRejected.one("marks", type(items).__name__, "marks is a list of objects")
    if len(items) > MAX_ITEMS:
        raise FileRejected.one("marks", len(items), f"at most {MAX_ITEMS:,} marks per push")
    rows: list[MarkRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, date, str], tuple[int, str]] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(number, "marks[]", item, "each mark is an object"))
            continue
        row = _row(number, item, problems)
        if row is None:
            continue
        key = (row.upn, row.day, row.session)
        earlier = seen.get(key)
        if earlier is not None:
            if earlier[1] != row.code:
                problems.append(
                    Problem(
                        number,
                        "code",
                        row.code,
                        f"{row.day} {row.session} for this UPN is already given as "
                        f"{earlier[1]} in item {earlier[0]}",
                    )
                )
            continue
        seen[key] = (number, row.code)
        rows.append(row)
    return rows, problems


def _row(number: int, item: dict[str, Any], problems: list[Problem]) -> MarkRow | None:
    found = len(problems)
    upn = str(item.get("upn") or "").strip().upper()
    if reason := upn_problem(upn):
        problems.append(Problem(number, "upn", item.get("upn"), reason))
    day = None
    try:
        day = date.fromisoformat(str(item.get("date")))
    except ValueError:
        problems.append(Problem(number, "date", item.get("date"), "a date is YYYY-MM-DD"))
    session = None
    try:
        session = session_name(item.get("session"))
    except InvalidInput as invalid:
        problems.append(Problem(number, "session", item.get("session"), invalid.problems[0].rule))
    code = item.get("code")
    if day is not None:
        try:
            classify(code, on=day)
        except InvalidInput as invalid:
            problems.append(Problem(number, "code", code, invalid.problems[0].rule))
    if len(problems) > found or day is None or session is None:
        return None
    return MarkRow(number, upn, day, session, str(code).strip().upper())
