"""The court pack's completeness check (workflows/packs/completeness.py), table-driven.

The 6-month limit is the last day of the offence period plus 6 calendar months (MCA 1980 s127):
14 Sep 2026 -> 14 Mar 2027; 31 Aug 2026 -> 28 Feb 2027 (no 31st); 31 Aug 2023 -> 29 Feb 2024
(a leap year); 17 Jan 2025 -> 17 Jul 2025. The warning shows from 56 days before the limit: for
17 Jul 2025 that is from 22 May 2025 (9 days left of May, 30 of June, 17 of July), and the limit
blocks from the day after it, 18 Jul 2025.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from workflows.facts import InterventionFact
from workflows.packs.completeness import (
    LIMIT_WARNING_DAYS,
    Offence,
    PackFacts,
    PanelDecision,
    RecordedTests,
    Route,
    check,
    limit_for,
)

START, END = date(2024, 11, 4), date(2025, 1, 17)
TODAY = date(2025, 1, 20)
SUPPORT = frozenset(
    {
        "meeting_with_parent",
        "home_visit",
        "attendance_concern_meeting",
        "early_help_assessment",
        "team_around_the_family",
        "attendance_improvement_meeting",
        "referral",
        "attendance_contract",
    }
)


def iv(n: int, kind: str, on: date, engaged="engaged", outcome="completed") -> InterventionFact:
    return InterventionFact(n, kind, on, engaged, outcome)


EVIDENCE = (
    iv(1, "early_help_assessment", date(2024, 10, 1), "declined", "declined"),
    iv(2, "home_visit", date(2024, 11, 6)),
    iv(3, "attendance_contract", date(2024, 11, 7), "not_engaged", "not_improved"),
    iv(4, "notice_to_improve", date(2024, 11, 20), "not_applicable", "not_improved"),
    iv(5, "education_supervision_order_consideration", date(2025, 1, 20)),
    iv(6, "interview_under_caution", date(2025, 1, 20)),
    iv(7, "letter", date(2024, 11, 20)),
)
TESTS = RecordedTests(
    offence=Offence.S444_1,
    start=START,
    end=END,
    evidential={},
    public_interest={},
    evidential_met=True,
    public_interest_met=True,
    panel_decision=PanelDecision.PROSECUTE,
    panel_on=TODAY,
)
COMPLETE = PackFacts(
    route=Route.PROSECUTION,
    offence=Offence.S444_1,
    start=START,
    end=END,
    today=TODAY,
    stage="enforce",
    holiday_case=False,
    interventions=EVIDENCE,
    parents=2,
    possible=90,
    attended=70,
    unauthorised=20,
    unmarked=0,
    letters=2,
    support_kinds=SUPPORT,
    neglect_at_or_below_percent=75,
    tests=TESTS,
    court="Example Magistrates' Court",
)


def without(*kinds: str) -> tuple[InterventionFact, ...]:
    return tuple(i for i in EVIDENCE if i.kind not in kinds)


def keyed(items) -> dict[str, str]:
    return {i.key: i.text for i in items}


@pytest.mark.parametrize(
    ("end", "limit"),
    [
        (date(2026, 9, 14), date(2027, 3, 14)),
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2023, 8, 31), date(2024, 2, 29)),
        (date(2025, 1, 17), date(2025, 7, 17)),
        (date(2024, 12, 31), date(2025, 6, 30)),
    ],
)
def test_the_limit_is_six_calendar_months_after_the_last_day(end, limit):
    assert limit_for(end) == limit


def test_a_complete_record_has_nothing_missing():
    found = check(COMPLETE)
    assert (found.blocking, found.warnings, found.ready) == ((), (), True)
    assert found.limit == date(2025, 7, 17)


@pytest.mark.parametrize(
    ("today", "blocking", "warning"),
    [
        # 17 Jul 2025 - 57 days = 21 May 2025: not yet near.
        (date(2025, 5, 21), None, None),
        # 22 May 2025 is 56 days before: the warning starts.
        (date(2025, 5, 22), None, "the 6-month limit for this period passes on 17 July 2025"),
        (date(2025, 7, 17), None, "the 6-month limit for this period passes on 17 July 2025"),
        (
            date(2025, 7, 18),
            "the 6-month limit for this period passed on 17 July 2025: an information can no "
            "longer be laid for it",
            None,
        ),
    ],
)
def test_the_time_limit(today, blocking, warning):
    assert date(2025, 7, 17) - date(2025, 5, 22) == timedelta(days=LIMIT_WARNING_DAYS)
    found = check(replace(COMPLETE, today=today))
    assert keyed(found.blocking).get("time_limit") == blocking
    assert keyed(found.warnings).get("time_limit") == warning


@pytest.mark.parametrize(
    ("changes", "blocking"),
    [
        (
            {"stage": "formalise_support"},
            {"stage": "the case is at Formalise support: a pre-court pack is built at Enforce"},
        ),
        (
            {"possible": 0, "attended": 0, "unauthorised": 0},
            {"register": "no register marks are held for the offence period"},
        ),
        (
            {"unauthorised": 0},
            {
                "unauthorised": "no unauthorised absence is recorded in the offence period (only "
                "unauthorised absence is evidence)"
            },
        ),
        ({"parents": 0}, {"parents": "no parent with parental responsibility is named"}),
        ({"court": " "}, {"court": "the magistrates' court is not named"}),
        (
            {"interventions": without("attendance_contract")},
            {"attendance_contract": "no attendance contract and no rationale recorded"},
        ),
        (
            {"interventions": without("notice_to_improve")},
            {"notice_to_improve": "no Notice to Improve and no rationale for none recorded"},
        ),
        (
            {
                "interventions": (
                    *without("notice_to_improve"),
                    iv(9, "notice_to_improve", date(2024, 11, 20), "not_applicable", "pending"),
                )
            },
            {"notice_to_improve_outcome": "the outcome of the Notice to Improve is not recorded"},
        ),
        (
            {"interventions": without("education_supervision_order_consideration")},
            {
                "eso": "no consideration of an education supervision order is recorded (s447 "
                "Education Act 1996)"
            },
        ),
        ({"tests": None}, {"tests": "the evidential and public-interest tests are not recorded"}),
        (
            {"tests": replace(TESTS, end=date(2025, 1, 10))},
            {
                "tests": "the tests were recorded for s444(1) from 4 November 2024 to 10 January "
                "2025, not for this offence and period"
            },
        ),
        (
            {"tests": replace(TESTS, evidential_met=False)},
            {
                "evidential_test": "the evidential test is recorded as not met: a case that fails "
                "it must not proceed"
            },
        ),
        (
            {"tests": replace(TESTS, public_interest_met=False)},
            {"public_interest_test": "the public-interest test is recorded as not met"},
        ),
        (
            {"tests": replace(TESTS, panel_decision=None)},
            {"panel": "the pre-proceedings panel's decision is not recorded"},
        ),
        (
            {"tests": replace(TESTS, panel_decision=PanelDecision.EDUCATION_SUPERVISION_ORDER)},
            {
                "panel": "the pre-proceedings panel decided: apply for an education supervision "
                "order"
            },
        ),
    ],
)
def test_each_blocking_item_is_named(changes, blocking):
    found = check(replace(COMPLETE, **changes))
    assert keyed(found.blocking) == blocking
    assert not found.ready


@pytest.mark.parametrize(
    ("changes", "warnings"),
    [
        ({"unmarked": 1}, {"unmarked": "1 open session in the period has no register mark"}),
        ({"unmarked": 4}, {"unmarked": "4 open sessions in the period have no register mark"}),
        (
            {"interventions": without("home_visit")},
            {"meeting": "no home visit or meeting recorded"},
        ),
        (
            {"letters": 0, "interventions": without("letter")},
            {"letters": "no letter to the parents is recorded"},
        ),
        (
            {"interventions": without("early_help_assessment")},
            {"early_help": "no Early Help assessment offered or considered is recorded"},
        ),
        (
            {"interventions": without("interview_under_caution")},
            {"interview": "no interview under caution and no reason for none recorded"},
        ),
    ],
)
def test_each_warning_is_named(changes, warnings):
    found = check(replace(COMPLETE, **changes))
    assert found.blocking == ()
    assert keyed(found.warnings) == warnings


def test_an_interview_is_needed_for_s444_1a_unless_a_reason_is_recorded():
    no_interview = without("interview_under_caution")
    aggravated = replace(
        COMPLETE,
        offence=Offence.S444_1A,
        interventions=no_interview,
        tests=replace(TESTS, offence=Offence.S444_1A, evidential={"knowledge": "yes"}),
    )
    assert keyed(check(aggravated).blocking) == {
        "interview": "no interview under caution and no reason for none recorded"
    }
    reasoned = replace(aggravated, tests=replace(aggravated.tests, no_interview_reason="refused"))
    assert check(reasoned).ready and check(reasoned).warnings == ()
    unanswered = replace(aggravated, tests=replace(aggravated.tests, evidential={}))
    assert keyed(check(unanswered).blocking)["tests"] == (
        "the s444(1A) question (the parent knew) is not answered"
    )


def test_rationales_stand_in_for_the_contract_and_the_notice():
    found = check(
        replace(
            COMPLETE,
            interventions=without("attendance_contract", "notice_to_improve"),
            contract_rationale="the parents would not meet",
            notice_to_improve_rationale="support not appropriate",
        )
    )
    assert found.ready


def test_a_holiday_case_needs_no_support_contract_or_notice():
    bare = (
        iv(5, "education_supervision_order_consideration", TODAY),
        iv(6, "interview_under_caution", TODAY),
        iv(7, "letter", TODAY),
        iv(8, "meeting_with_parent", TODAY),
    )
    found = check(replace(COMPLETE, holiday_case=True, interventions=bare))
    assert found.blocking == ()
    assert found.warnings == ()


NEGLECT = replace(
    COMPLETE,
    route=Route.EDUCATIONAL_NEGLECT,
    tests=None,
    possible=100,
    attended=75,
    unauthorised=25,
)


@pytest.mark.parametrize(
    ("possible", "attended", "blocking"),
    [
        (100, 75, None),  # exactly 75 %: at or below
        (100, 40, None),
        (
            1000,
            751,
            "attendance in the period is 75.1 %, above the 75 % at or below which educational "
            "neglect is referred",
        ),
    ],
)
def test_the_neglect_route_needs_attendance_at_or_below_the_profiles_number(
    possible, attended, blocking
):
    found = check(replace(NEGLECT, possible=possible, attended=attended))
    assert keyed(found.blocking).get("attendance") == blocking


def test_the_neglect_route_needs_no_tests_but_support_refused():
    assert check(NEGLECT).ready
    engaged = tuple(replace(i, family_engaged="engaged", outcome="completed") for i in EVIDENCE)
    assert keyed(check(replace(NEGLECT, interventions=engaged)).blocking) == {
        "support_refused": "no support refused or not engaged with by the family is recorded"
    }
    assert keyed(check(replace(NEGLECT, interventions=())).blocking) == {
        "engagement": "no attempts to engage the family are recorded"
    }
    # A neglect referral is not time-limited and is made from Formalise support too.
    late = replace(NEGLECT, today=date(2026, 1, 1), stage="formalise_support")
    assert check(late).ready and check(late).warnings == ()
