"""Guards and triggers of the case state machine, on facts built by hand (no database).

Sources: RULES.md §1.1 (stages may be skipped, with a reason; holiday cases go straight to Enforce),
§2.1 (10 unauthorised sessions G/N/O/U within 10 school weeks), §2.5 (Notice to Improve), §4.1
(attendance contract before an ESO or prosecution), §4.2 (s447: consider an ESO before
prosecuting), the Knowsley handbook Level 2 / Step 1 and Appendix C (school actions and an Early
Help assessment before Level 2; "all techniques ... over a period of 6 weeks" or "not engaged ...
after 3 weeks") and CALENDARS.md for every date.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.durations import WeekdayCalendar, is_working_day
from casework.vocabulary import (
    CaseKind,
    Engagement,
    InterventionKind,
    InterventionOutcome,
    Outcome,
    Stage,
)
from config.profiles import load_profile
from workflows.facts import CaseFacts, InterventionFact, ListedSession, TriggerInput
from workflows.guards import GUARDS, Move
from workflows.machine import TRANSITIONS, TRIGGERS, fire, unmet_guards

NATIONAL = load_profile("national")
KNOWSLEY = load_profile("knowsley")
ESSEX = load_profile("essex")
TELFORD = load_profile("telford-and-wrekin")
# Not a shipped profile: one that asks for approval before Formalise, to reach that branch.
APPROVE_FORMALISE = msgspec.structs.replace(
    NATIONAL, approval_required_before=["formalise_support"]
)

K = InterventionKind
E = Engagement
O = InterventionOutcome  # noqa: E741
EXPECT, MONITOR, LISTEN = Stage.EXPECT.value, Stage.MONITOR.value, Stage.LISTEN.value
FACILITATE, FORMALISE = Stage.FACILITATE.value, Stage.FORMALISE.value
ENFORCE, CLOSED = Stage.ENFORCE.value, Stage.CLOSED.value
HOLIDAY, IRREGULAR = CaseKind.TERM_TIME_HOLIDAY, CaseKind.IRREGULAR_ATTENDANCE


class KnowsleyAutumn2024:
    """Knowsley 2024/25 autumn term (CALENDARS.md): Mon 2 Sep - Fri 20 Dec 2024, half term
    Mon 28 Oct - Fri 1 Nov; spring term from Mon 6 Jan 2025."""

    def is_school_day(self, day: date) -> bool:
        in_term = date(2024, 9, 2) <= day <= date(2024, 12, 20) or day >= date(2025, 1, 6)
        half_term = date(2024, 10, 28) <= day <= date(2024, 11, 1)
        return is_working_day(day) and in_term and not half_term


KNOWSLEY_CAL = KnowsleyAutumn2024()
_ids = itertools.count(1)
TODAY = date(2024, 11, 20)  # the clock fixture's Wednesday
NTI_ISSUED = date(2024, 11, 4)


def d(y: int, m: int, day: int) -> date:
    return date(y, m, day)


def iv(kind, on: date, engaged=E.NOT_APPLICABLE, outcome=O.PENDING, **details) -> InterventionFact:
    return InterventionFact(next(_ids), kind.value, on, engaged.value, outcome.value, details)


def facts(
    stage: str,
    *interventions: InterventionFact,
    profile=NATIONAL,
    today: date = TODAY,
    kind: CaseKind = IRREGULAR,
    approved: tuple[str, ...] = (),
    prosecution_started: bool = False,
    calendar=None,
    reason: str | None = None,
    rationales: dict[str, str] | None = None,
    outcome: str | None = None,
    sessions: tuple[ListedSession, ...] = (),
    register_window: tuple[ListedSession, ...] | None = None,
    notices_outstanding: tuple[str, ...] = (),
) -> CaseFacts:
    return CaseFacts(
        kind=kind,
        stage=stage,
        today=today,
        profile=profile,
        interventions=tuple(interventions),
        approved_stages=frozenset(approved),
        prosecution_started=prosecution_started,
        calendar=calendar or WeekdayCalendar(),
        given=TriggerInput(
            reason=reason, rationales=rationales or {}, outcome=outcome, sessions=sessions
        ),
        register_window=register_window,
        notices_outstanding=notices_outstanding,
    )


def sessions(code: str, *days_and_sessions: tuple[date, str]) -> tuple[ListedSession, ...]:
    return tuple(ListedSession(day, s, code) for day, s in days_and_sessions)


def week_of_4_nov(code: str = "O", count: int = 9) -> tuple[ListedSession, ...]:
    """Up to 10 sessions in the week of Mon 4 Nov 2024: Mon AM, Mon PM, Tue AM ... Fri PM."""
    slots = [(d(2024, 11, 4 + i // 2), "AM" if i % 2 == 0 else "PM") for i in range(10)]
    return sessions(code, *slots[:count])


def week_of_11_nov(code: str = "O", count: int = 9) -> tuple[ListedSession, ...]:
    slots = [(d(2024, 11, 11 + i // 2), "AM" if i % 2 == 0 else "PM") for i in range(10)]
    return sessions(code, *slots[:count])


# --- common evidence -------------------------------------------------------------------------

# Facilitate, national: one school action on Wed 2 Oct 2024 (week of 30 Sep). Six school weeks on
# a weekday calendar: weeks of 7 Oct (1), 14 (2), 21 (3), 28 Oct (4), 4 Nov (5), 11 Nov (6) ->
# Wed 13 Nov 2024.
CALL_2_OCT = iv(K.PHONE_CALL, d(2024, 10, 2), E.ENGAGED)
LETTER_3_OCT = iv(K.LETTER, d(2024, 10, 3))
EARLY_HELP_DONE = iv(K.EARLY_HELP_ASSESSMENT, d(2024, 10, 4), E.ENGAGED, O.COMPLETED)
# Non-engagement: a letter on Mon 4 Nov 2024 not engaged with. Three school weeks: 11 Nov (1),
# 18 Nov (2), 25 Nov (3) -> Mon 25 Nov 2024 (six would be Mon 16 Dec, well after).
LETTER_4_NOV_IGNORED = iv(K.LETTER, d(2024, 11, 4), E.NOT_ENGAGED)
# Support that did not work, for Formalise and the Notice to Improve.
AIM_NOT_ENGAGED = iv(K.ATTENDANCE_IMPROVEMENT_MEETING, d(2024, 10, 1), E.NOT_ENGAGED)
CONTRACT = iv(K.ATTENDANCE_CONTRACT, d(2024, 10, 8), E.PARTLY, O.NOT_IMPROVED)
# A Notice to Improve issued Mon 4 Nov 2024 for 6 school weeks: 11 Nov (1), 18 (2), 25 (3),
# 2 Dec (4), 9 Dec (5), 16 Dec (6) -> expires Mon 16 Dec 2024.
NTI_EXPIRES = "2024-12-16"


def nti(outcome=O.NOT_IMPROVED, on=NTI_ISSUED, expires=NTI_EXPIRES) -> InterventionFact:
    return iv(K.NOTICE_TO_IMPROVE, on, E.NOT_APPLICABLE, outcome, expires_on=expires)


ESO = iv(K.ESO_CONSIDERATION, d(2024, 12, 17), E.NOT_APPLICABLE, O.COMPLETED)
ENFORCE_READY = (CONTRACT, nti())

# Ten unauthorised sessions: Mon 2 Sep 2024 AM plus nine in the week of 4 Nov. Weeks of 2, 9, 16,
# 23, 30 Sep, 7, 14, 21, 28 Oct and 4 Nov: exactly 10 school weeks on a weekday calendar.
TEN_IN_TEN_WEEKS = sessions("O", (d(2024, 9, 2), "AM")) + week_of_4_nov()
# The same nine, but the first on Fri 30 Aug 2024 (week of 26 Aug: Mon is a bank holiday, Tue-Fri
# are working days, so it is a school week): 11 school weeks, and no 10-week window holds 10.
TEN_IN_ELEVEN_WEEKS = sessions("O", (d(2024, 8, 30), "AM")) + week_of_4_nov()
# Mon 2 Sep AM plus nine in the week of 11 Nov: 11 weeks on a weekday calendar, but Knowsley's
# October half term (28 Oct) has no sessions, so only 10 school weeks there.
TEN_ACROSS_HALF_TERM = sessions("O", (d(2024, 9, 2), "AM")) + week_of_11_nov()
MIXED_CODES = (
    sessions("G", (d(2024, 11, 4), "AM"), (d(2024, 11, 4), "PM"))
    + sessions("N", (d(2024, 11, 5), "AM"), (d(2024, 11, 5), "PM"))
    + sessions("O", (d(2024, 11, 6), "AM"), (d(2024, 11, 6), "PM"), (d(2024, 11, 7), "AM"))
    + (sessions("U", (d(2024, 11, 7), "PM"), (d(2024, 11, 8), "AM"), (d(2024, 11, 8), "PM")))
)


# --- expected results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    dest: str | None  # None: the trigger stays in its stage
    overridden: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    guards: frozenset[str]
    mentions: tuple[str, ...] = ()  # text each reason (together) must contain


def refused(*guards: str, mentions: tuple[str, ...] = ()) -> Refused:
    return Refused(frozenset(guards), mentions)


WHY = "recorded rationale"

TRIGGER_CASES = [
    # --- advance_to_monitor --------------------------------------------------------------------
    ("advance_to_monitor", facts(EXPECT), Allowed(MONITOR), "expect-to-monitor-no-skip"),
    ("advance_to_monitor", facts(MONITOR), refused("stage"), "monitor-already"),
    ("advance_to_monitor", facts(CLOSED), refused("stage"), "not-from-closed"),
    # --- advance_to_listen: skipping needs a rationale naming the skipped stage ------------------
    ("advance_to_listen_and_understand", facts(MONITOR), Allowed(LISTEN), "monitor-to-listen"),
    (
        "advance_to_listen_and_understand",
        facts(EXPECT),
        refused("skip_rationale", mentions=("skips Monitor",)),
        "expect-to-listen-skips-monitor",
    ),
    (
        "advance_to_listen_and_understand",
        facts(EXPECT, rationales={"skip_rationale": WHY}),
        Allowed(LISTEN, {"skip_rationale": WHY}),
        "skip-with-rationale",
    ),
    (
        "advance_to_listen_and_understand",
        facts(EXPECT, rationales={"skip_rationale": "   "}),
        refused("skip_rationale"),
        "blank-rationale-is-no-rationale",
    ),
    (
        "advance_to_listen_and_understand",
        facts(EXPECT, rationales={"attendance_contract": WHY}),
        refused("skip_rationale"),
        "rationale-under-another-guards-name-does-not-count",
    ),
    # --- advance_to_facilitate ----------------------------------------------------------------
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 13)),
        Allowed(FACILITATE),
        "national-one-action-6-weeks-due-date",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 12)),
        refused("school_action_period", mentions=("2 October 2024", "13 November 2024")),
        "national-day-before-6-weeks",
    ),
    # Knowsley calendar: weeks of 7 (1), 14 (2), 21 Oct (3), [28 Oct half term], 4 Nov (4),
    # 11 Nov (5), 18 Nov (6) -> Wed 20 Nov 2024
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 20), calendar=KNOWSLEY_CAL),
        Allowed(FACILITATE),
        "half-term-skipped-due-date",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 19), calendar=KNOWSLEY_CAL),
        refused("school_action_period", mentions=("20 November 2024",)),
        "half-term-skipped-day-before",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, LETTER_4_NOV_IGNORED, today=d(2024, 11, 25)),
        Allowed(FACILITATE),
        "not-engaged-3-weeks-due-date",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, LETTER_4_NOV_IGNORED, today=d(2024, 11, 22)),
        refused("school_action_period", mentions=("16 December 2024", "3 school weeks")),
        "not-engaged-day-before-3-weeks",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            iv(K.HOME_VISIT, d(2024, 11, 4), E.DECLINED),
            today=d(2024, 11, 25),
        ),
        Allowed(FACILITATE),
        "declined-counts-as-not-engaged",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            LETTER_4_NOV_IGNORED,
            iv(K.MEETING_WITH_PARENT, d(2024, 11, 20), E.ENGAGED),
            today=d(2024, 11, 25),
        ),
        refused("school_action_period"),
        "engaged-since-refusal-resets",
    ),
    # Knowsley calendar: letter Mon 21 Oct ignored; 3 school weeks: [28 Oct], 4 Nov (1),
    # 11 Nov (2), 18 Nov (3) -> Mon 18 Nov; 6 weeks would be Mon 9 Dec. Knowsley profile also
    # needs a second school action and Early Help.
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            iv(K.LETTER, d(2024, 10, 21), E.NOT_ENGAGED),
            iv(K.PHONE_CALL, d(2024, 10, 22), E.NOT_ENGAGED),
            EARLY_HELP_DONE,
            profile=KNOWSLEY,
            calendar=KNOWSLEY_CAL,
            today=d(2024, 11, 18),
        ),
        Allowed(FACILITATE),
        "knowsley-not-engaged-over-half-term-due-date",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            iv(K.LETTER, d(2024, 10, 21), E.NOT_ENGAGED),
            iv(K.PHONE_CALL, d(2024, 10, 22), E.NOT_ENGAGED),
            EARLY_HELP_DONE,
            profile=KNOWSLEY,
            calendar=KNOWSLEY_CAL,
            today=d(2024, 11, 15),
        ),
        refused("school_action_period", mentions=("9 December 2024",)),
        "knowsley-not-engaged-over-half-term-day-before",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            CALL_2_OCT,
            LETTER_3_OCT,
            EARLY_HELP_DONE,
            profile=KNOWSLEY,
            today=d(2024, 11, 13),
        ),
        Allowed(FACILITATE),
        "knowsley-two-actions-and-early-help",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, EARLY_HELP_DONE, profile=KNOWSLEY, today=d(2024, 11, 13)),
        refused("level_1_school_actions", mentions=("2 school action(s)", "1 recorded")),
        "knowsley-needs-two-actions",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, LETTER_3_OCT, profile=KNOWSLEY, today=d(2024, 11, 13)),
        refused("early_help", mentions=("Early Help",)),
        "knowsley-needs-early-help",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            CALL_2_OCT,
            LETTER_3_OCT,
            iv(K.EARLY_HELP_ASSESSMENT, d(2024, 10, 4), E.ENGAGED, O.PENDING),
            profile=KNOWSLEY,
            today=d(2024, 11, 13),
        ),
        refused("early_help"),
        "knowsley-early-help-still-pending",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            CALL_2_OCT,
            LETTER_3_OCT,
            iv(K.EARLY_HELP_ASSESSMENT, d(2024, 10, 4), E.NOT_APPLICABLE, O.DECLINED),
            profile=KNOWSLEY,
            today=d(2024, 11, 13),
        ),
        Allowed(FACILITATE),
        "knowsley-early-help-outcome-declined",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            CALL_2_OCT,
            LETTER_3_OCT,
            iv(K.EARLY_HELP_ASSESSMENT, d(2024, 10, 4), E.DECLINED, O.PENDING),
            profile=KNOWSLEY,
            today=d(2024, 11, 13),
        ),
        Allowed(FACILITATE),
        "knowsley-family-declined-early-help",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 13), profile=ESSEX),
        Allowed(FACILITATE),
        "essex-like-national-no-early-help",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            iv(K.REFERRAL, d(2024, 10, 2), agency="school nurse"),
            EARLY_HELP_DONE,
            today=d(2024, 11, 13),
        ),
        refused(
            "level_1_school_actions",
            "school_action_period",
            mentions=("0 recorded", "no school action recorded, so 6 school weeks has not run"),
        ),
        "referral-and-early-help-are-not-school-actions",
    ),
    (
        "advance_to_facilitate_support",
        facts(LISTEN, profile=KNOWSLEY),
        refused("level_1_school_actions", "early_help", "school_action_period"),
        "knowsley-nothing-recorded",
    ),
    (
        "advance_to_facilitate_support",
        facts(
            LISTEN,
            profile=KNOWSLEY,
            rationales={
                "level_1_school_actions": WHY,
                "early_help": WHY,
                "school_action_period": WHY,
            },
        ),
        Allowed(
            FACILITATE,
            {"level_1_school_actions": WHY, "early_help": WHY, "school_action_period": WHY},
        ),
        "knowsley-all-overridden-by-rationale",
    ),
    (
        "advance_to_facilitate_support",
        facts(EXPECT, CALL_2_OCT, today=d(2024, 11, 13)),
        refused("skip_rationale", mentions=("Monitor, Listen and understand",)),
        "from-expect-skips-two",
    ),
    # --- advance_to_formalise -----------------------------------------------------------------
    (
        "advance_to_formalise_support",
        facts(FACILITATE, AIM_NOT_ENGAGED),
        Allowed(FORMALISE),
        "aim-not-engaged",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, iv(K.EARLY_HELP_ASSESSMENT, d(2024, 10, 4), E.DECLINED)),
        Allowed(FORMALISE),
        "early-help-declined",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, iv(K.HOME_VISIT, d(2024, 10, 4), E.ENGAGED, O.NOT_IMPROVED)),
        Allowed(FORMALISE),
        "engaged-but-not-improved",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE),
        refused("support_did_not_work", mentions=("no voluntary support",)),
        "no-support",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, iv(K.PHONE_CALL, d(2024, 10, 4), E.NOT_ENGAGED)),
        refused("support_did_not_work", mentions=("no voluntary support",)),
        "a-phone-call-is-not-voluntary-support",
    ),
    (
        "advance_to_formalise_support",
        facts(
            FACILITATE, iv(K.ATTENDANCE_IMPROVEMENT_MEETING, d(2024, 10, 1), E.ENGAGED, O.IMPROVED)
        ),
        refused("support_did_not_work", mentions=("none is recorded as not engaged",)),
        "support-worked",
    ),
    (
        "advance_to_formalise_support",
        facts(
            FACILITATE,
            iv(K.ATTENDANCE_IMPROVEMENT_MEETING, d(2024, 10, 1), E.PARTLY, O.SOME_IMPROVEMENT),
        ),
        refused("support_did_not_work"),
        "some-improvement-is-not-failure",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, AIM_NOT_ENGAGED, profile=KNOWSLEY),
        Allowed(FORMALISE),
        "knowsley-no-approval-before-formalise",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, AIM_NOT_ENGAGED, profile=APPROVE_FORMALISE),
        refused("supervisor_approval", mentions=("manager must approve", "Formalise support")),
        "profile-asking-approval-refuses",
    ),
    (
        "advance_to_formalise_support",
        facts(FACILITATE, AIM_NOT_ENGAGED, profile=APPROVE_FORMALISE, approved=(FORMALISE,)),
        Allowed(FORMALISE),
        "profile-asking-approval-approved",
    ),
    # --- issue_notice_to_improve ----------------------------------------------------------------
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=TEN_IN_TEN_WEEKS),
        Allowed(None),
        "ten-sessions-exactly-ten-school-weeks",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=TEN_IN_ELEVEN_WEEKS),
        refused("threshold_met", mentions=("10 unauthorised sessions", "is 9")),
        "ten-sessions-spanning-eleven-school-weeks",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=TEN_ACROSS_HALF_TERM),
        refused("threshold_met"),
        "eleven-calendar-weeks-without-term-dates",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=TEN_ACROSS_HALF_TERM, calendar=KNOWSLEY_CAL),
        Allowed(None),
        "half-term-week-not-counted",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=MIXED_CODES),
        Allowed(None),
        "any-mix-of-G-N-O-U",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=week_of_4_nov("N", 10)),
        Allowed(None),
        "N-counts-in-national-profile",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=week_of_4_nov("C", 10)),
        refused("threshold_met", mentions=("is 0",)),
        "authorised-C-does-not-count",
    ),
    (
        "issue_notice_to_improve",
        facts(
            FORMALISE,
            AIM_NOT_ENGAGED,
            sessions=week_of_4_nov("O", 9) + sessions("M", (d(2024, 11, 8), "PM")),
        ),
        refused("threshold_met", mentions=("is 9",)),
        "nine-unauthorised-and-one-medical",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, sessions=week_of_4_nov("O", 9)),
        refused("threshold_met"),
        "nine-sessions",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, sessions=TEN_IN_TEN_WEEKS),
        refused("support_offered", mentions=("follows support",)),
        "no-support-offered",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, kind=HOLIDAY, sessions=week_of_4_nov("G", 10)),
        Allowed(None),
        "holiday-needs-no-earlier-support",
    ),
    # With the pupil's registers held, the threshold is judged on them, not on a list.
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, register_window=week_of_4_nov("O", 10)),
        Allowed(None),
        "registers-show-ten",
    ),
    (
        "issue_notice_to_improve",
        facts(
            FORMALISE,
            AIM_NOT_ENGAGED,
            sessions=TEN_IN_TEN_WEEKS,
            register_window=week_of_4_nov("O", 9),
        ),
        refused("threshold_met", mentions=("in the pupil's registers", "is 9")),
        "registers-show-nine-and-a-list-cannot-outvote-them",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, register_window=()),
        refused("threshold_met", mentions=("in the pupil's registers", "is 0")),
        "registers-held-with-nothing-counted",
    ),
    (
        "issue_notice_to_improve",
        facts(FORMALISE, AIM_NOT_ENGAGED, rationales={"threshold_met": WHY}),
        Allowed(None, {"threshold_met": WHY}),
        "threshold-overridden-by-rationale",
    ),
    (
        "issue_notice_to_improve",
        facts(ENFORCE, AIM_NOT_ENGAGED, sessions=TEN_IN_TEN_WEEKS),
        refused("stage"),
        "only-at-formalise",
    ),
    # --- advance_to_enforce ---------------------------------------------------------------------
    (
        "advance_to_enforce",
        facts(FORMALISE, *ENFORCE_READY, today=d(2024, 12, 16)),
        Allowed(ENFORCE),
        "contract-and-expired-notice-not-improved",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, *ENFORCE_READY, today=d(2024, 12, 13)),
        refused("notice_to_improve_expired", mentions=("runs until 16 December 2024",)),
        "notice-still-running",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, CONTRACT, nti(O.IMPROVED), today=d(2024, 12, 16)),
        refused("notice_to_improve_expired", mentions=("improved",)),
        "notice-outcome-improved",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, CONTRACT, nti(O.SOME_IMPROVEMENT), today=d(2024, 12, 16)),
        refused("notice_to_improve_expired", mentions=("improved",)),
        "notice-outcome-some-improvement",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, CONTRACT, nti(O.PENDING), today=d(2024, 12, 16)),
        refused("notice_to_improve_expired", mentions=("not been recorded",)),
        "notice-outcome-not-recorded",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, CONTRACT, today=d(2024, 12, 16)),
        refused("notice_to_improve_expired", mentions=("no Notice to Improve",)),
        "no-notice",
    ),
    (
        "advance_to_enforce",
        facts(
            FORMALISE,
            CONTRACT,
            nti(O.NOT_IMPROVED, on=d(2024, 9, 2), expires="2024-10-14"),
            nti(O.PENDING, on=d(2024, 12, 2), expires="2025-01-20"),
            today=d(2024, 12, 16),
        ),
        refused("notice_to_improve_expired", mentions=("runs until 20 January 2025",)),
        "the-latest-notice-decides",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, nti(), today=d(2024, 12, 16)),
        refused("attendance_contract", mentions=("attendance contract",)),
        "no-contract",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, nti(), today=d(2024, 12, 16), rationales={"attendance_contract": WHY}),
        Allowed(ENFORCE, {"attendance_contract": WHY}),
        "no-contract-with-rationale",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, *ENFORCE_READY, today=d(2024, 12, 16), profile=KNOWSLEY),
        refused("supervisor_approval", mentions=("manager must approve the move to Enforce",)),
        "knowsley-asks-approval",
    ),
    (
        "advance_to_enforce",
        facts(
            FORMALISE,
            *ENFORCE_READY,
            today=d(2024, 12, 16),
            profile=KNOWSLEY,
            rationales={"supervisor_approval": WHY},
        ),
        refused("supervisor_approval"),
        "approval-cannot-be-overridden",
    ),
    (
        "advance_to_enforce",
        facts(
            FORMALISE, *ENFORCE_READY, today=d(2024, 12, 16), profile=KNOWSLEY, approved=(ENFORCE,)
        ),
        Allowed(ENFORCE),
        "knowsley-approved",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, *ENFORCE_READY, today=d(2024, 12, 16), profile=TELFORD),
        refused("supervisor_approval"),
        "telford-asks-approval",
    ),
    (
        "advance_to_enforce",
        facts(FORMALISE, *ENFORCE_READY, today=d(2024, 12, 16), profile=ESSEX),
        Allowed(ENFORCE),
        "essex-asks-no-approval",
    ),
    (
        "advance_to_enforce",
        facts(MONITOR, kind=HOLIDAY),
        Allowed(ENFORCE),
        "holiday-straight-to-enforce-national",
    ),
    (
        "advance_to_enforce",
        facts(MONITOR, kind=HOLIDAY, profile=KNOWSLEY),
        refused("supervisor_approval"),
        "holiday-knowsley-still-needs-approval",
    ),
    (
        "advance_to_enforce",
        facts(MONITOR, kind=HOLIDAY, profile=KNOWSLEY, approved=(ENFORCE,)),
        Allowed(ENFORCE),
        "holiday-knowsley-approved",
    ),
    (
        "advance_to_enforce",
        facts(MONITOR),
        refused(
            "skip_rationale",
            "attendance_contract",
            "notice_to_improve_expired",
            mentions=("skips Listen and understand, Facilitate support, Formalise support",),
        ),
        "irregular-from-monitor-needs-everything",
    ),
    ("advance_to_enforce", facts(ENFORCE), refused("stage"), "already-enforce"),
    # --- step downs ---------------------------------------------------------------------------
    *[
        (
            f"step_down_to_{dest.value}",
            facts(ENFORCE, reason="attendance improved after the meeting"),
            Allowed(dest.value),
            f"enforce-down-to-{dest.value}",
        )
        for dest in (Stage.EXPECT, Stage.MONITOR, Stage.LISTEN, Stage.FACILITATE, Stage.FORMALISE)
    ],
    *[
        (
            f"step_down_to_{dest}",
            facts(ENFORCE),
            refused("reason_given", mentions=("reason",)),
            f"down-to-{dest}-needs-reason",
        )
        for dest in (EXPECT, MONITOR, LISTEN, FACILITATE, FORMALISE)
    ],
    (
        "step_down_to_monitor",
        facts(FACILITATE, reason="  "),
        refused("reason_given"),
        "blank-reason-is-no-reason",
    ),
    (
        "step_down_to_monitor",
        facts(FACILITATE, reason="improving"),
        Allowed(MONITOR),
        "two-stages-down-needs-no-rationale",
    ),
    ("step_down_to_monitor", facts(MONITOR, reason="x"), refused("stage"), "not-to-same-stage"),
    ("step_down_to_formalise", facts(MONITOR, reason="x"), refused("stage"), "not-upwards"),
    ("step_down_to_expect", facts(CLOSED, reason="x"), refused("stage"), "not-from-closed"),
    # --- start_prosecution ----------------------------------------------------------------------
    ("start_prosecution", facts(ENFORCE, ESO), Allowed(None), "eso-considered"),
    (
        "start_prosecution",
        facts(ENFORCE),
        refused("eso_considered", mentions=("s447",)),
        "no-eso-consideration",
    ),
    (
        "start_prosecution",
        facts(ENFORCE, rationales={"eso_considered": WHY}),
        refused("eso_considered"),
        "eso-cannot-be-overridden",
    ),
    (
        "start_prosecution",
        facts(ENFORCE, ESO, prosecution_started=True),
        refused("prosecution_not_started", mentions=("already started",)),
        "only-once",
    ),
    ("start_prosecution", facts(FORMALISE, ESO), refused("stage"), "only-at-enforce"),
    # --- close and reopen -----------------------------------------------------------------------
    *[
        (
            "close",
            facts(stage.value, outcome=Outcome.IMPROVED.value, reason="95% for a half term"),
            Allowed(CLOSED),
            f"close-from-{stage.value}",
        )
        for stage in Stage
        if stage != Stage.CLOSED
    ],
    (
        "close",
        facts(MONITOR, outcome="left_roll", reason="moved to a school in Wales"),
        Allowed(CLOSED),
        "close-left-roll",
    ),
    (
        "close",
        facts(MONITOR, reason="r"),
        refused("outcome_given", mentions=("improved",)),
        "close-needs-outcome",
    ),
    (
        "close",
        facts(MONITOR, outcome="fined", reason="r"),
        refused("outcome_given"),
        "close-needs-a-known-outcome",
    ),
    ("close", facts(MONITOR, outcome="improved"), refused("reason_given"), "close-needs-reason"),
    ("close", facts(MONITOR), refused("outcome_given", "reason_given"), "close-needs-both"),
    ("close", facts(CLOSED, outcome="improved", reason="r"), refused("stage"), "close-twice"),
    ("reopen", facts(CLOSED, reason="absence returned"), Allowed(MONITOR), "reopen-to-monitor"),
    ("reopen", facts(CLOSED), refused("reason_given"), "reopen-needs-reason"),
    ("reopen", facts(MONITOR, reason="x"), refused("stage"), "reopen-only-closed"),
]

# Stage values that are identifiers, not English: a reason must use the labels instead.
_STAGE_IDENTIFIERS = [s.value for s in Stage if "_" in s.value]


def assert_plain_english(reason: str) -> None:
    assert isinstance(reason, str)
    assert reason.strip()
    assert "None" not in reason
    assert "{" not in reason and "}" not in reason
    for identifier in _STAGE_IDENTIFIERS:
        assert identifier not in reason


@pytest.mark.parametrize(
    ("trigger", "case_facts", "expected"),
    [pytest.param(t, f, e, id=f"{t}:{name}") for t, f, e, name in TRIGGER_CASES],
)
def test_trigger(trigger, case_facts, expected):
    model = fire(case_facts, trigger)
    unmet = unmet_guards(case_facts, trigger)
    if isinstance(expected, Allowed):
        assert unmet == []
        assert len(model.moves) == 1
        move = model.moves[-1]
        assert (move.trigger, move.source, move.dest) == (trigger, case_facts.stage, expected.dest)
        assert move.overridden == expected.overridden
    else:
        assert model.moves == []
        assert {u.guard for u in unmet} == expected.guards
        text = " | ".join(u.reason for u in unmet)
        for fragment in expected.mentions:
            assert fragment in text
        for u in unmet:
            assert_plain_english(u.reason)
            assert u.overridable == (GUARDS[u.guard].overridable if u.guard in GUARDS else False)


def test_every_trigger_has_an_allowed_and_a_refused_case():
    allowed = {t for t, _, e, _ in TRIGGER_CASES if isinstance(e, Allowed)}
    refused_ = {t for t, _, e, _ in TRIGGER_CASES if isinstance(e, Refused)}
    assert set(TRIGGERS) <= allowed
    assert set(TRIGGERS) <= refused_


def test_an_unknown_trigger_is_never_fired():
    assert fire(facts(MONITOR), "advance_to_nowhere").moves == []


def test_non_engagement_clock_restarts_at_a_later_refusal():
    # Tue 1 Oct: call, not engaged; Thu 3 Oct: meeting, engaged; Mon 7 Oct: letter, not engaged.
    # From Mon 7 Oct, three school weeks: 14 Oct (1), 21 Oct (2), 28 Oct (3) -> Mon 28 Oct, with
    # no engagement since. (Six weeks of school action from Tue 1 Oct run to Tue 12 Nov.)
    case_facts = facts(
        LISTEN,
        iv(K.PHONE_CALL, d(2024, 10, 1), E.NOT_ENGAGED),
        iv(K.MEETING_WITH_PARENT, d(2024, 10, 3), E.ENGAGED),
        iv(K.LETTER, d(2024, 10, 7), E.NOT_ENGAGED),
        today=d(2024, 10, 28),
    )
    assert unmet_guards(case_facts, "advance_to_facilitate_support") == []


# --- each guard on its own ----------------------------------------------------------------------

GUARD_CASES = [
    # (guard, facts, move, None if met else fragment of the reason)
    ("skip_rationale", facts(EXPECT), Move("t", EXPECT, MONITOR), None),
    (
        "skip_rationale",
        facts(EXPECT),
        Move("t", EXPECT, FACILITATE),
        "skips Monitor, Listen and understand",
    ),
    ("skip_rationale", facts(ENFORCE), Move("t", ENFORCE, EXPECT), None),  # down is not a skip
    ("skip_rationale", facts(MONITOR), Move("t", MONITOR, CLOSED), None),
    ("skip_rationale", facts(MONITOR, kind=HOLIDAY), Move("t", MONITOR, ENFORCE), None),
    (
        "skip_rationale",
        facts(MONITOR, kind=HOLIDAY),
        Move("t", MONITOR, FORMALISE),
        "skips Listen and understand, Facilitate support",
    ),
    ("reason_given", facts(MONITOR, reason="why"), Move("t", MONITOR, EXPECT), None),
    ("reason_given", facts(MONITOR, reason=" \n"), Move("t", MONITOR, EXPECT), "reason"),
    ("outcome_given", facts(MONITOR, outcome="moved_away"), Move("close", MONITOR, CLOSED), None),
    (
        "outcome_given",
        facts(MONITOR, outcome="Improved"),
        Move("close", MONITOR, CLOSED),
        "needs an outcome",
    ),
    ("level_1_school_actions", facts(LISTEN, CALL_2_OCT), Move("t", LISTEN, FACILITATE), None),
    (
        "level_1_school_actions",
        facts(LISTEN, CALL_2_OCT, profile=KNOWSLEY),
        Move("t", LISTEN, FACILITATE),
        "1 recorded",
    ),
    ("early_help", facts(LISTEN, profile=NATIONAL), Move("t", LISTEN, FACILITATE), None),
    ("early_help", facts(LISTEN, profile=KNOWSLEY), Move("t", LISTEN, FACILITATE), "Early Help"),
    (
        "early_help",
        facts(LISTEN, EARLY_HELP_DONE, profile=KNOWSLEY),
        Move("t", LISTEN, FACILITATE),
        None,
    ),
    (
        "school_action_period",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 13)),
        Move("t", LISTEN, FACILITATE),
        None,
    ),
    (
        "school_action_period",
        facts(LISTEN, CALL_2_OCT, today=d(2024, 11, 12)),
        Move("t", LISTEN, FACILITATE),
        "run to 13 November 2024",
    ),
    (
        "support_did_not_work",
        facts(FACILITATE, AIM_NOT_ENGAGED),
        Move("t", FACILITATE, FORMALISE),
        None,
    ),
    (
        "support_did_not_work",
        facts(FACILITATE),
        Move("t", FACILITATE, FORMALISE),
        "no voluntary support",
    ),
    (
        "supervisor_approval",
        facts(FORMALISE, profile=KNOWSLEY),
        Move("t", FORMALISE, FACILITATE),
        None,
    ),  # stepping down needs no approval
    (
        "supervisor_approval",
        facts(FORMALISE, profile=KNOWSLEY),
        Move("t", FORMALISE, ENFORCE),
        "approve the move to Enforce",
    ),
    (
        "supervisor_approval",
        facts(FORMALISE, profile=KNOWSLEY, approved=(ENFORCE,)),
        Move("t", FORMALISE, ENFORCE),
        None,
    ),
    (
        "supervisor_approval",
        facts(FORMALISE, profile=KNOWSLEY, approved=(FORMALISE,)),
        Move("t", FORMALISE, ENFORCE),
        "approve",
    ),  # approval is for one stage only
    (
        "threshold_met",
        facts(FORMALISE, sessions=TEN_IN_TEN_WEEKS),
        Move("t", FORMALISE, None),
        None,
    ),
    (
        "threshold_met",
        facts(FORMALISE, sessions=TEN_IN_ELEVEN_WEEKS),
        Move("t", FORMALISE, None),
        "within 10 school weeks",
    ),
    ("support_offered", facts(FORMALISE, AIM_NOT_ENGAGED), Move("t", FORMALISE, None), None),
    (
        "support_offered",
        facts(FORMALISE, CALL_2_OCT),
        Move("t", FORMALISE, None),
        "none is recorded",
    ),
    ("attendance_contract", facts(FORMALISE, CONTRACT), Move("t", FORMALISE, ENFORCE), None),
    ("attendance_contract", facts(FORMALISE, kind=HOLIDAY), Move("t", FORMALISE, ENFORCE), None),
    ("attendance_contract", facts(FORMALISE), Move("t", FORMALISE, ENFORCE), "no attendance"),
    (
        "notice_to_improve_expired",
        facts(FORMALISE, nti(), today=d(2024, 12, 16)),
        Move("t", FORMALISE, ENFORCE),
        None,
    ),
    (
        "notice_to_improve_expired",
        facts(FORMALISE, nti(), today=d(2024, 12, 15)),
        Move("t", FORMALISE, ENFORCE),
        "runs until 16 December 2024",
    ),
    (
        "notice_to_improve_expired",
        facts(FORMALISE, kind=HOLIDAY),
        Move("t", FORMALISE, ENFORCE),
        None,
    ),
    ("eso_considered", facts(ENFORCE, ESO), Move("start_prosecution", ENFORCE, None), None),
    (
        "eso_considered",
        facts(ENFORCE, CONTRACT),
        Move("start_prosecution", ENFORCE, None),
        "education supervision order",
    ),
    ("prosecution_not_started", facts(ENFORCE), Move("start_prosecution", ENFORCE, None), None),
    (
        "prosecution_not_started",
        facts(ENFORCE, prosecution_started=True),
        Move("start_prosecution", ENFORCE, None),
        "already started",
    ),
    ("no_notice_outstanding", facts(ENFORCE), Move("close", ENFORCE, CLOSED), None),
    (
        "no_notice_outstanding",
        facts(ENFORCE, notices_outstanding=("PN-340-24-00002",)),
        Move("close", ENFORCE, CLOSED),
        "PN-340-24-00002",
    ),
]


@pytest.mark.parametrize(
    ("name", "case_facts", "move", "expected"),
    [
        pytest.param(*row, id=f"{row[0]}-{'met' if row[3] is None else 'unmet'}-{n}")
        for n, row in enumerate(GUARD_CASES)
    ],
)
def test_guard(name, case_facts, move, expected):
    reason = GUARDS[name].check(case_facts, move)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason
        assert_plain_english(reason)


def test_every_guard_has_a_met_and_an_unmet_case():
    met = {name for name, _, _, expected in GUARD_CASES if expected is None}
    unmet = {name for name, _, _, expected in GUARD_CASES if expected is not None}
    assert set(GUARDS) <= met
    assert set(GUARDS) <= unmet


@pytest.mark.parametrize(
    ("name", "overridable"),
    [
        ("skip_rationale", True),
        ("level_1_school_actions", True),
        ("early_help", True),
        ("school_action_period", True),
        ("support_did_not_work", True),
        ("threshold_met", True),
        ("support_offered", True),
        ("attendance_contract", True),
        ("notice_to_improve_expired", True),
        # legal safeguards and record-keeping: no rationale sets these aside
        ("supervisor_approval", False),
        ("eso_considered", False),
        ("prosecution_not_started", False),
        ("no_notice_outstanding", False),
        ("reason_given", False),
        ("outcome_given", False),
    ],
)
def test_which_guards_a_rationale_can_override(name, overridable):
    assert GUARDS[name].overridable is overridable


# For each guard: a trigger and facts where that guard is the only one unmet (dates as above).
ONLY_ONE_UNMET = {
    "skip_rationale": ("advance_to_listen_and_understand", dict(stage=EXPECT)),
    "level_1_school_actions": (
        "advance_to_facilitate_support",
        dict(
            stage=LISTEN, ivs=(CALL_2_OCT, EARLY_HELP_DONE), profile=KNOWSLEY, today=d(2024, 11, 13)
        ),
    ),
    "early_help": (
        "advance_to_facilitate_support",
        dict(stage=LISTEN, ivs=(CALL_2_OCT, LETTER_3_OCT), profile=KNOWSLEY, today=d(2024, 11, 13)),
    ),
    "school_action_period": (
        "advance_to_facilitate_support",
        dict(stage=LISTEN, ivs=(CALL_2_OCT,), today=d(2024, 11, 12)),
    ),
    "support_did_not_work": ("advance_to_formalise_support", dict(stage=FACILITATE)),
    "threshold_met": (
        "issue_notice_to_improve",
        dict(stage=FORMALISE, ivs=(AIM_NOT_ENGAGED,), sessions=week_of_4_nov("O", 9)),
    ),
    "support_offered": (
        "issue_notice_to_improve",
        dict(stage=FORMALISE, sessions=TEN_IN_TEN_WEEKS),
    ),
    "attendance_contract": (
        "advance_to_enforce",
        dict(stage=FORMALISE, ivs=(nti(),), today=d(2024, 12, 16)),
    ),
    "notice_to_improve_expired": (
        "advance_to_enforce",
        dict(stage=FORMALISE, ivs=ENFORCE_READY, today=d(2024, 12, 13)),
    ),
    "supervisor_approval": (
        "advance_to_enforce",
        dict(stage=FORMALISE, ivs=ENFORCE_READY, profile=KNOWSLEY, today=d(2024, 12, 16)),
    ),
    "eso_considered": ("start_prosecution", dict(stage=ENFORCE)),
    "prosecution_not_started": (
        "start_prosecution",
        dict(stage=ENFORCE, ivs=(ESO,), prosecution_started=True),
    ),
    "reason_given": ("reopen", dict(stage=CLOSED)),
    "outcome_given": ("close", dict(stage=MONITOR, reason="improved to 96%")),
    "no_notice_outstanding": (
        "close",
        dict(
            stage=MONITOR,
            reason="improved to 96%",
            outcome="improved",
            notices_outstanding=("PN-340-24-00002",),
        ),
    ),
}


def _only_one_unmet(name: str, rationales: dict[str, str]) -> tuple[str, CaseFacts]:
    trigger, spec = ONLY_ONE_UNMET[name]
    spec = dict(spec)
    stage, ivs = spec.pop("stage"), spec.pop("ivs", ())
    return trigger, facts(stage, *ivs, rationales=rationales, **spec)


def test_every_guard_has_an_only_one_unmet_case():
    assert set(ONLY_ONE_UNMET) == set(GUARDS)


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_a_rationale_under_the_guards_own_name_sets_aside_exactly_the_overridable(name):
    trigger, alone = _only_one_unmet(name, {})
    assert [u.guard for u in unmet_guards(alone, trigger)] == [name]
    assert fire(alone, trigger).moves == []

    other = "skip_rationale" if name != "skip_rationale" else "attendance_contract"
    trigger, elsewhere = _only_one_unmet(name, {other: WHY})
    assert [u.guard for u in unmet_guards(elsewhere, trigger)] == [name]
    assert fire(elsewhere, trigger).moves == []

    trigger, explained = _only_one_unmet(name, {name: WHY})
    model = fire(explained, trigger)
    if GUARDS[name].overridable:
        assert unmet_guards(explained, trigger) == []
        assert model.moves[-1].overridden == {name: WHY}
    else:
        assert [u.guard for u in unmet_guards(explained, trigger)] == [name]
        assert model.moves == []


# --- fire and unmet_guards agree, whatever the facts ----------------------------------------

_CONDITIONS = {t["trigger"]: t["conditions"] for t in TRANSITIONS}

intervention_facts = st.builds(
    lambda n, kind, days, engaged, outcome, expires: InterventionFact(
        n,
        kind.value,
        date(2024, 11, 20) - timedelta(days=days),
        engaged.value,
        outcome.value,
        {"expires_on": expires.isoformat()} if kind == K.NOTICE_TO_IMPROVE else {},
    ),
    st.integers(1, 10**6),
    st.sampled_from(list(InterventionKind)),
    st.integers(0, 150),
    st.sampled_from(list(Engagement)),
    st.sampled_from(list(InterventionOutcome)),
    st.dates(date(2024, 9, 1), date(2025, 3, 1)),
)
listed = st.builds(
    ListedSession,
    st.dates(date(2024, 9, 2), date(2024, 11, 20)),
    st.sampled_from(["AM", "PM"]),
    st.sampled_from(list("GNOUCMI")),
)
texts = st.sampled_from([None, "", "   ", "because the family asked"])


@settings(max_examples=150, deadline=None)
@given(
    profile=st.sampled_from([NATIONAL, KNOWSLEY, ESSEX, TELFORD]),
    kind=st.sampled_from(list(CaseKind)),
    stage=st.sampled_from([s.value for s in Stage]),
    today=st.dates(date(2024, 11, 1), date(2025, 2, 28)),
    interventions=st.lists(intervention_facts, max_size=8),
    approved=st.frozensets(st.sampled_from([FORMALISE, ENFORCE])),
    prosecution_started=st.booleans(),
    reason=texts,
    outcome=st.one_of(st.none(), st.sampled_from([*[o.value for o in Outcome], "fined"])),
    rationale_names=st.frozensets(st.sampled_from(sorted(GUARDS))),
    rationale_text=st.sampled_from(["  ", "bypassed: agreed at the AIM"]),
    listed_sessions=st.lists(listed, max_size=14),
)
def test_fire_moves_exactly_when_no_guard_is_unmet(
    profile,
    kind,
    stage,
    today,
    interventions,
    approved,
    prosecution_started,
    reason,
    outcome,
    rationale_names,
    rationale_text,
    listed_sessions,
):
    case_facts = CaseFacts(
        kind=kind,
        stage=stage,
        today=today,
        profile=profile,
        interventions=tuple(interventions),
        approved_stages=approved,
        prosecution_started=prosecution_started,
        given=TriggerInput(
            reason=reason,
            rationales={name: rationale_text for name in rationale_names},
            outcome=outcome,
            sessions=tuple(listed_sessions),
        ),
    )
    for trigger in TRIGGERS:
        model = fire(case_facts, trigger)
        unmet = unmet_guards(case_facts, trigger)
        for u in unmet:
            assert_plain_english(u.reason)
        assert bool(model.moves) == (not unmet), trigger
        if not model.moves:
            continue
        [move] = model.moves
        assert move.source == stage
        assert move.dest is None or move.dest in {s.value for s in Stage}
        # the rationales recorded are exactly those that set an unmet overridable guard aside
        expected_overrides = {
            name: case_facts.given.rationale_for(name)
            for name in _CONDITIONS[trigger]
            if GUARDS[name].check(case_facts, Move(trigger, stage, move.dest)) is not None
        }
        assert all(GUARDS[name].overridable for name in expected_overrides)
        assert move.overridden == expected_overrides


def test_a_date_the_calendar_cannot_count_is_a_refusal_not_a_crash():
    # A calendar with no term dates and no pattern knows no year: the school-action guard
    # cannot count its six school weeks, so it refuses saying why (never an exception).
    from casework.calendars import TermCalendar

    case_facts = facts(
        LISTEN,
        iv(K.PHONE_CALL, d(2024, 10, 1), E.ENGAGED),
        iv(K.LETTER, d(2024, 10, 3), E.ENGAGED),
        calendar=TermCalendar("Hillcrest Primary"),
    )
    unmet = {u.guard: u.reason for u in unmet_guards(case_facts, "advance_to_facilitate_support")}
    assert "school's calendar" in unmet["school_action_period"]
    assert (
        "Hillcrest Primary's calendar has no term dates for 2024/25"
        in unmet["school_action_period"]
    )
