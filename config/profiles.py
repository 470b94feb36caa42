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
# Attendance registers are kept at least 6 years (the 2024 Regulations; as
# ``casework.registers.store.DEFAULT_RETENTION_YEARS``, which imports models and so not here).
MIN_REGISTER_YEARS = 6


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


class PaymentDetails(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where and how a parent pays (all payments go to the LA, RULES.md §2.3)."""

    address: list[str]
    methods: list[str]


class MailIdentity(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[mail]`` table: who the LA's automatic emails come from and where replies go."""

    from_address: str
    from_name: str
    reply_to: str | None = None

    def __post_init__(self) -> None:
        from email_validator import EmailNotValidError, validate_email

        for name in ("from_address", "reply_to"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                validate_email(value, check_deliverability=False, allow_smtputf8=False)
            except EmailNotValidError as exc:
                raise ValueError(f"mail.{name} {value!r} is not an email address: {exc}") from None
        if not self.from_name.strip() or any(c in self.from_name for c in "\r\n"):
            raise ValueError("mail.from_name must be one line of text")


def _one_line_text(where: str, value: str) -> None:
    if not value.strip() or any(c in value for c in "\r\n"):
        raise ValueError(f"{where} must be one line of text")


class LetterSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[letters]`` table: how the LA's letters to parents look and who signs them
    (``notifications/letters``). Every letter carries the letterhead; letters from the LA (a
    Notice to Improve, a contract, a penalty-notice warning) are signed by the signatory."""

    letterhead: list[str]  # the LA's name, service and address, one line each, postcode last
    phone: str
    email: str
    signatory_name: str
    signatory_position: str
    # At the foot of every letter: how to get it read aloud, translated or in large print.
    reading_age_note: str
    # Notice to Improve (RULES.md §2.5): what "sufficient improvement" means unless the officer
    # says otherwise for this family, and when a penalty notice may come before the period ends.
    sufficient_improvement: str
    early_penalty_grounds: str
    # Support the LA can still offer, listed in a Notice to Improve and an attendance contract.
    further_support: list[str]

    def __post_init__(self) -> None:
        if not any(line.strip() for line in self.letterhead):
            raise ValueError("letters.letterhead needs at least one line")
        for line in self.letterhead:
            _one_line_text("letters.letterhead", line)
        for name in ("phone", "email", "signatory_name", "signatory_position"):
            _one_line_text(f"letters.{name}", getattr(self, name))
        for name in ("reading_age_note", "sufficient_improvement", "early_penalty_grounds"):
            if not getattr(self, name).strip():
                raise ValueError(f"letters.{name} must be given")
        if not any(item.strip() for item in self.further_support):
            raise ValueError("letters.further_support needs at least one kind of support")


class PenaltyNoticeRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[penalty_notices]`` table: the National Framework's amounts and windows (RULES.md
    §2.2-2.3). Amounts are in pence; windows are days beginning with the day of receipt."""

    first_discounted_pence: Annotated[int, msgspec.Meta(ge=0)]
    first_full_pence: Annotated[int, msgspec.Meta(ge=0)]
    repeat_full_pence: Annotated[int, msgspec.Meta(ge=0)]
    discount_days: Annotated[int, msgspec.Meta(ge=1)]
    payment_days: Annotated[int, msgspec.Meta(ge=1)]
    deemed_receipt: DurationSpec
    limit_years: Annotated[int, msgspec.Meta(ge=1)]
    most_in_limit: Annotated[int, msgspec.Meta(ge=1)]
    payment: PaymentDetails
    # The LA profile's trigger for a lateness notice: [analytics] late_u_marks U marks within
    # late_u_school_weeks school weeks. False: lateness is counted only toward the threshold.
    lateness_notices: bool = True

    def __post_init__(self) -> None:
        if self.discount_days >= self.payment_days:
            raise ValueError("discount_days must be shorter than payment_days")


# Stages a flag may propose a new case at, for a pupil without an open case. Support first
# (RULES.md §1.1): the analytics only ever suggest the early stages; moving further is a person's
# decision through the case's own guards.
PROPOSABLE_STAGES = ("monitor", "listen_and_understand")

# Filled from [notice_to_improve] (one source for the threshold); refused inside [analytics].
_THRESHOLD_FIELDS = ("threshold_sessions", "threshold_school_weeks", "counted_codes")

Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class AnalyticsRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[analytics]`` table: the numbers behind the attendance flags
    (``casework.analytics.flags``), plus the penalty-notice threshold copied from
    ``[notice_to_improve]`` when the profile loads (so the threshold is written once)."""

    persistent_percent: Percent
    severe_percent: Percent
    concern_below_percent: Percent
    neglect_at_or_below_percent: Percent
    late_u_marks: PositiveInt
    late_u_school_weeks: PositiveInt
    continuous_absence_days: list[PositiveInt]
    illness_days: Annotated[float, msgspec.Meta(gt=0)]
    trend_drop_points: Annotated[float, msgspec.Meta(gt=0, le=100)]
    # Each trend compares the last n school weeks with the n before.
    trend_school_weeks: list[PositiveInt] = msgspec.field(default_factory=lambda: [3, 6])
    # flag key -> the stage a new case is proposed at (PROPOSABLE_STAGES only; "" switches off a
    # proposal inherited from the national profile).
    propose: dict[str, str] = {}
    # Flags that, on an open case, raise a decision for the officer with this deadline.
    decision_flags: list[str] = []
    # From [notice_to_improve]; not written here.
    threshold_sessions: int = 0
    threshold_school_weeks: int = 0
    counted_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.continuous_absence_days)) != len(self.continuous_absence_days):
            raise ValueError("continuous_absence_days lists a number twice")
        if len(set(self.trend_school_weeks)) != len(self.trend_school_weeks):
            raise ValueError("trend_school_weeks lists a number twice")


class ClockRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A clock on a case: what starts it, how long it runs, what stops it.

    Happenings are ``stage_entered:<stage>``, ``stage_exited:<stage>``,
    ``intervention:<kind>`` (recorded), ``outcome:<kind>`` (its outcome recorded),
    ``case_closed``, ``case_reopened``, ``prosecution_started`` (the information laid),
    ``penalty_considered`` (a met threshold considered and support continuing), and
    ``flag_raised:<flag>`` / ``flag_cleared:<flag>`` from the daily scan. Without a ``period``
    the date comes from the record that starts the clock (a Notice to Improve's own expiry date).
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
    # Remind this many calendar days ahead instead of the profile's school days: a court's time
    # limit runs through the holidays, and a month's warning is what lets a case be prepared.
    remind_days_before: Annotated[int, msgspec.Meta(ge=1)] | None = None
    enabled: bool = True


class RetentionRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[retention]`` table: how long each kind of record is kept before the retention
    purge (``workflows.retention``) deletes it. Values below a legal or working minimum are
    refused when the profile loads, naming the field, the value and the rule."""

    # Attendance registers, from the end of each academic year (2024 Regulations: at least 6).
    registers_years: Annotated[int, msgspec.Meta(ge=1)]
    # A closed case (and everything hanging off it) goes this many years after closure ...
    closed_case_years: Annotated[int, msgspec.Meta(ge=1)]
    # ... or this many for a case that reached enforcement (a penalty notice issued, a court
    # pack built): never fewer than the penalty-notice look-back ([penalty_notices] limit_years).
    enforcement_case_years: Annotated[int, msgspec.Meta(ge=1)]
    # ... and in either case not before the child reaches this age (0: no age rule).
    case_until_age: Annotated[int, msgspec.Meta(ge=0, le=120)]
    # Emails the outbox delivered, and ones it gave up on (kept longer: someone may retry).
    sent_message_days: Annotated[int, msgspec.Meta(ge=1)]
    failed_message_days: Annotated[int, msgspec.Meta(ge=1)]
    # Sign-in attempts (the throttle looks back minutes; the rest is for investigating abuse).
    sign_in_attempt_days: Annotated[int, msgspec.Meta(ge=1)]
    # Register import batches with their validation (problem) reports.
    import_batch_years: Annotated[int, msgspec.Meta(ge=1)]
    # A pupil with no case, no register and no enrolment left, this long after leaving.
    pupil_after_leaving_years: Annotated[int, msgspec.Meta(ge=1)]

    def __post_init__(self) -> None:
        if self.registers_years < MIN_REGISTER_YEARS:
            raise ValueError(
                f"retention.registers_years = {self.registers_years} is refused: attendance "
                f"registers must be kept at least {MIN_REGISTER_YEARS} years from the end of "
                f"each academic year (the 2024 Regulations)"
            )
        if self.enforcement_case_years < self.closed_case_years:
            raise ValueError(
                f"retention.enforcement_case_years = {self.enforcement_case_years} is refused: "
                f"an enforcement case is kept at least as long as any closed case "
                f"(closed_case_years = {self.closed_case_years})"
            )
        if self.failed_message_days < self.sent_message_days:
            raise ValueError(
                f"retention.failed_message_days = {self.failed_message_days} is refused: a "
                f"failed email is kept at least as long as a sent one "
                f"(sent_message_days = {self.sent_message_days})"
            )


class SecurityRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ``[security]`` table: the roles that must sign in with a second factor (a TOTP code
    from an authenticator app) as well as a password; a user of such a role without one sets it
    up right after the password step (``workflows.sign_in``). Empty nationally."""

    two_factor_required_for: list[str] = []

    def __post_init__(self) -> None:
        from casework.vocabulary import Role

        roles = {role.value for role in Role} - {Role.INTEGRATION.value}
        for name in self.two_factor_required_for:
            if name not in roles:
                raise ValueError(
                    f"security.two_factor_required_for names {name!r}, which is not a role "
                    f"that signs in (give some of {', '.join(sorted(roles))})"
                )


class Profile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: str
    name: str
    levels: list[Level]
    approval_required_before: list[str]
    statutory_stages: list[str]
    facilitate: FacilitateRules
    formalise: FormaliseRules
    notice_to_improve: NoticeToImproveRules
    analytics: AnalyticsRules
    penalty_notices: PenaltyNoticeRules
    mail: MailIdentity
    letters: LetterSettings
    retention: RetentionRules
    clocks: dict[str, ClockRule] = {}
    security: SecurityRules = msgspec.field(default_factory=SecurityRules)
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
    raw = _raw(key)
    written = [f for f in _THRESHOLD_FIELDS if f in (raw.get("analytics") or {})]
    if written:
        raise ValueError(
            f"LA profile {key!r} is invalid: analytics.{written[0]} is set in "
            f"[notice_to_improve], not [analytics]"
        )
    try:
        profile = msgspec.convert(raw, Profile)
    except msgspec.ValidationError as exc:
        raise ValueError(f"LA profile {key!r} is invalid: {exc}") from exc
    threshold = profile.notice_to_improve
    profile = msgspec.structs.replace(
        profile,
        analytics=msgspec.structs.replace(
            profile.analytics,
            threshold_sessions=threshold.threshold_sessions,
            threshold_school_weeks=threshold.threshold_school_weeks,
            counted_codes=tuple(threshold.counted_codes),
        ),
    )
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
        if not _is_happening(happening, stages, kinds, _flag_names(profile))
    ]
    for where, names in (
        ("facilitate.school_action_kinds", profile.facilitate.school_action_kinds),
        ("formalise.support_kinds", profile.formalise.support_kinds),
    ):
        problems += [
            f"{where} names {n!r}, which is not an intervention" for n in names if n not in kinds
        ]
    return problems + _analytics_problems(profile) + _retention_problems(profile)


def _retention_problems(profile: Profile) -> list[str]:
    """Penalty notices count toward a limit over ``limit_years``: an enforcement case kept
    fewer years would let a parent be given more notices than the law allows."""
    kept, limit = profile.retention.enforcement_case_years, profile.penalty_notices.limit_years
    if kept < limit:
        return [
            f"retention.enforcement_case_years = {kept} is refused: enforcement cases are kept "
            f"at least penalty_notices.limit_years ({limit})"
        ]
    return []


def _analytics_problems(profile: Profile) -> list[str]:
    # Imported here: casework.analytics.flags imports this module.
    from casework.analytics.flags import flag_keys
    from casework.registers.codes import CODES, StatClass

    problems = []
    threshold = profile.notice_to_improve
    if threshold.threshold_sessions < 1 or threshold.threshold_school_weeks < 1:
        problems.append("notice_to_improve threshold numbers must be at least 1")
    problems += [
        f"notice_to_improve.counted_codes names {code!r}, which is not a 2024 "
        f"unauthorised-absence code (RULES.md §2.1)"
        for code in threshold.counted_codes
        if code not in CODES or CODES[code].stat_class is not StatClass.UNAUTHORISED_ABSENCE
    ]
    rules = profile.analytics
    keys = flag_keys(rules)
    for flag, stage in rules.propose.items():
        if stage == "":
            continue  # an LA switching off a proposal it inherits
        if flag not in keys:
            problems.append(f"analytics.propose names {flag!r}, which is not a flag")
        if stage not in PROPOSABLE_STAGES:
            problems.append(
                f"analytics.propose.{flag} is {stage!r}: a flag may only propose a case at "
                f"{' or '.join(PROPOSABLE_STAGES)} (support first)"
            )
    problems += [
        f"analytics.decision_flags names {flag!r}, which is not a flag"
        for flag in rules.decision_flags
        if flag not in keys
    ]
    armed = {h for rule in profile.active_clocks.values() for h in rule.armed_by}
    problems += [
        f"analytics.decision_flags names {flag!r} but no clock is armed_by "
        f"'flag_raised:{flag}': the decision would have no deadline"
        for flag in rules.decision_flags
        if f"flag_raised:{flag}" not in armed
    ]
    return problems


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


# What happens to a penalty notice, as clock happenings ``penalty_notice:<step>``.
PENALTY_NOTICE_HAPPENINGS = ("issued", "paid", "withdrawn", "prosecution_decided")
# workflows/packs/service.py: the tests recorded for an offence period (its 6-month limit).
COURT_PACK_HAPPENINGS = ("tests_recorded",)


def _flag_names(profile: Profile) -> set[str]:
    from casework.analytics.flags import flag_keys

    return set(flag_keys(profile.analytics))


def _is_happening(text: str, stages: set[str], kinds: set[str], flags: set[str]) -> bool:
    name, _, subject = text.partition(":")
    if name in ("flag_raised", "flag_cleared"):  # the daily scan (workflows/scan.py)
        return subject in flags
    if name in ("case_closed", "case_reopened", "prosecution_started", "penalty_considered"):
        return not subject
    if name in ("stage_entered", "stage_exited"):
        return subject in stages
    if name in ("intervention", "outcome"):
        return subject in kinds
    if name == "penalty_notice":  # workflows/penalties/notices.py
        return subject in PENALTY_NOTICE_HAPPENINGS
    if name == "court_pack":
        return subject in COURT_PACK_HAPPENINGS
    return False
