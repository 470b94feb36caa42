"""Domain errors. Each carries what the API needs to explain itself without leaking data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: which field, the value given, and the rule in plain English."""

    field: str
    value: Any
    rule: str


class CaseworkError(Exception):
    """Base class for errors a user can act on."""


class InvalidInput(CaseworkError):
    """Input broke one or more rules; nothing was changed."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.rule}" for p in problems))

    @classmethod
    def one(cls, field: str, value: Any, rule: str) -> InvalidInput:
        return cls([FieldProblem(field, value, rule)])


class NotFound(CaseworkError):
    """The record does not exist or is outside the signed-in user's scope (never say which)."""

    def __init__(self, what: str, ident: object):
        self.what = what
        self.ident = ident
        super().__init__(f"{what} {ident} not found")


class Forbidden(CaseworkError):
    """The user can see the record but their role may not make this change."""


class Conflict(CaseworkError):
    """The record changed since the caller read it (optimistic locking)."""


@dataclass
class UnmetGuard:
    """A failed guard: its name, its reason in plain English, whether a rationale overrides it."""

    guard: str
    reason: str
    overridable: bool = False


class TransitionRefused(CaseworkError):
    """A trigger is not allowed now; ``unmet`` says why, guard by guard."""

    def __init__(self, trigger: str, stage: str, unmet: list[UnmetGuard]):
        self.trigger = trigger
        self.stage = stage
        self.unmet = unmet
        super().__init__(f"{trigger} refused at {stage}: " + "; ".join(u.reason for u in unmet))


class NoticeRefused(CaseworkError):
    """A penalty notice cannot be drafted or issued: the checks each parent's notice fails."""

    def __init__(self, refusals: dict[str, list[UnmetGuard]]):
        self.refusals = refusals
        super().__init__(
            "; ".join(
                f"{who}: " + "; ".join(u.reason for u in unmet) for who, unmet in refusals.items()
            )
        )
