"""LA profiles: each LA's levels, durations, thresholds and approvals, read from TOML.

A profile may ``extends`` another (usually ``national``); tables are merged key by key, so an LA
file names only what differs. Code reads these values; no LA's numbers live in code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from casework.durations import Duration, TermUnit, Unit, unit_named
from casework.vocabulary import InterventionKind, Stage

PROFILE_DIR = Path(__file__).parent / "profiles"


# Every unit a profile may name: ``Unit`` and the term units (sessions, end of half term).
UnitName = Literal[tuple(u.value for u in (*Unit, *TermUnit))]  # type: ignore[valid-type]


class DurationSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A period in a profile: ``{ amount = 3, unit = "school_weeks" }``. Units are ``Unit``'s
    and ``TermUnit``'s; "end_of_half_term" is a date, not a count, so its amount must be 0
    (``casework.durations.add`` refuses any other)."""

    amount: Annotated[int, msgspec.Meta(ge=0)]
    unit: UnitName

    def __post_init__(self) -> None:
        if self.unit == TermUnit.END_OF_HALF_TERM.value and self.amount != 0:
            raise ValueError(
                f"'end_of_half_term' is the last school day of the current half term and takes "
                f"amount = 0, not {self.amount}"
            )

    def duration(self) -> Duration:
        return Duration(self.amount, unit_named(self.unit))


class Level(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    number: int
    name: str
    stages: list[str]
    description: str = ""


class FacilitateRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    school_action_kinds: list[str]
    min_school_actions: int
    require_early_help: bool
    school_action_period: DurationSpec
    non_engagement_period: DurationSpec


class FormaliseRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    support_kinds: list[str]


class NoticeToImproveRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    threshold_sessions: int
    threshold_school_weeks: int
    counted_codes: list[str]
    period: DurationSpec


class ClockRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A clock on a case: what starts it, how long it runs, what stops it.

    Happenings are ``stage_entered:<stage>``, ``stage_exited:<stage>``,
    ``intervention:<kind>`` (recorded), ``outcome:<kind>`` (its outcome recorded),
    ``case_closed`` and ``case_reopened``. Without a ``period`` the date comes from the record
    that starts the clock (a Notice to Improve's own expiry date).
    """

    label: str
    armed_by: list[str]
    cancelled_by: list[str]
    period: DurationSpec | None = None
    # When the period starts after the happening, e.g. a posted penalty notice is deemed
    # received on the 2nd working day after posting and its 28 days run from then.
    start_offset: DurationSpec | None = None
    # A new start replaces a pending clock of the same kind (a second AIM resets the review).
    rearm: bool = True
    enabled: bool = True


class Profile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: str
    name: str
    levels: list[Level]
    approval_required_before: list[str]
    statutory_stages: list[str]
    facilitate: FacilitateRules
    formalise: FormaliseRules
    notice_to_improve: NoticeToImproveRules
    clocks: dict[str, ClockRule] = {}
    # Owners are reminded this many school days before a deadline falls due.
    reminder_school_days: int = 2
    extends: str | None = None

    @property
    def active_clocks(self) -> dict[str, ClockRule]:
        return {kind: rule for kind, rule in self.clocks.items() if rule.enabled}

    def level_for(self, stage: str) -> Level | None:
        for level in self.levels:
            if stage in level.stages:
                return level
        return None


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _raw(key: str, seen: tuple[str, ...] = ()) -> dict:
    if key in seen:
        raise ValueError(f"profile {key} extends itself through {' -> '.join(seen)}")
    path = PROFILE_DIR / f"{key}.toml"
    if not path.exists():
        raise KeyError(f"no LA profile named {key!r} in {PROFILE_DIR}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"LA profile {key!r} ({path.name}) is not valid TOML: {exc}") from exc
    parent = data.get("extends")
    return _merge(_raw(parent, (*seen, key)), data) if parent else data


@cache
def load_profile(key: str) -> Profile:
    try:
        profile = msgspec.convert(_raw(key), Profile)
    except msgspec.ValidationError as exc:
        raise ValueError(f"LA profile {key!r} is invalid: {exc}") from exc
    problems = _unknown_names(profile)
    if problems:
        raise ValueError(f"LA profile {key!r} is invalid: " + "; ".join(problems))
    return profile


def _unknown_names(profile: Profile) -> list[str]:
    """Misspelt stage or intervention names would silently switch a rule off: refuse them."""
    stages = {s.value for s in Stage}
    kinds = {k.value for k in InterventionKind}
    named = {
        "levels.stages": [s for level in profile.levels for s in level.stages],
        "approval_required_before": profile.approval_required_before,
        "statutory_stages": profile.statutory_stages,
    }
    problems = [
        f"{where} names {name!r}, which is not a stage ({', '.join(sorted(stages))})"
        for where, names in named.items()
        for name in names
        if name not in stages
    ]
    problems += [
        f"clocks.{kind}.{where} names {happening!r}, which is not a happening"
        for kind, rule in profile.clocks.items()
        for where, happenings in (("armed_by", rule.armed_by), ("cancelled_by", rule.cancelled_by))
        for happening in happenings
        if not _is_happening(happening, stages, kinds)
    ]
    for where, names in (
        ("facilitate.school_action_kinds", profile.facilitate.school_action_kinds),
        ("formalise.support_kinds", profile.formalise.support_kinds),
    ):
        problems += [
            f"{where} names {n!r}, which is not an intervention" for n in names if n not in kinds
        ]
    return problems


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def _is_happening(text: str, stages: set[str], kinds: set[str]) -> bool:
    name, _, subject = text.partition(":")
    if name in ("case_closed", "case_reopened"):
        return not subject
    if name in ("stage_entered", "stage_exited"):
        return subject in stages
    if name in ("intervention", "outcome"):
        return subject in kinds
    return False
