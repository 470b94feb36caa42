"""The National Framework's rules for penalty notices (RULES.md §2), from tables worked out by
hand: when a posted notice is received and must be paid, what is due on which day, the limit of
two notices per parent per child in three years, and the checks before a notice is issued."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.durations import WeekdayCalendar
from config.profiles import load_profile
from workflows.facts import InterventionFact, ListedSession
from workflows.penalties.rules import (
    NoticeFacts,
    NoticeReason,
    PriorNotice,
    Threshold,
    amount_due,
    amounts,
    limit_period_end,
    payment_windows,
    place_in_limit,
    unmet_checks,
)

NATIONAL = load_profile("national")
RULES = NATIONAL.penalty_notices
NTI = NATIONAL.notice_to_improve
COUNTED = tuple(NTI.counted_codes)
THRESHOLD = Threshold(
    NTI.threshold_sessions, NTI.threshold_school_weeks, COUNTED, "unauthorised sessions"
)
LATE = Threshold(
    NATIONAL.analytics.late_u_marks, NATIONAL.analytics.late_u_school_weeks, ("U",), "late (U)"
)
SHIPPED = la_calendar("knowsley")
KNOWSLEY = TermCalendar("Knowsley test school", SHIPPED.years, pattern=SHIPPED.pattern)
ENGLAND = holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2032))


def test_the_profile_holds_the_national_framework():
    # The numbers every table below relies on (RULES.md §2.2, §2.3; Knowsley's lateness rule).
    assert (RULES.first_discounted_pence, RULES.first_full_pence) == (8000, 16000)
    assert RULES.repeat_full_pence == 16000
    assert (RULES.discount_days, RULES.payment_days) == (21, 28)
    assert (RULES.limit_years, RULES.most_in_limit) == (3, 2)
    assert (THRESHOLD.sessions, THRESHOLD.school_weeks) == (10, 10)
    assert (LATE.sessions, LATE.school_weeks) == (14, 10)


# --- payment windows ----------------------------------------------------------------------------

# (posted_on, received_on, discount_until, pay_by). Receipt is the 2nd working day after posting
# (weekends and England's bank holidays skipped); the 21 and 28 days begin with the day of
# receipt, so they end 20 and 27 days after it; the decision is due the day after pay_by.
WINDOWS = [
    pytest.param(
        # Thu 14 Nov 2024: Fri 15 (1), Mon 18 (2). 18 Nov + 20 = Sun 8 Dec; + 27 = Sun 15 Dec.
        date(2024, 11, 14),
        date(2024, 11, 18),
        date(2024, 12, 8),
        date(2024, 12, 15),
        id="thursday",
    ),
    pytest.param(
        # Fri 15 Nov 2024: Mon 18 (1), Tue 19 (2). 19 Nov + 20 = Mon 9 Dec; + 27 = Mon 16 Dec.
        date(2024, 11, 15),
        date(2024, 11, 19),
        date(2024, 12, 9),
        date(2024, 12, 16),
        id="friday",
    ),
    pytest.param(
        # Sat 16 Nov 2024: Sun is not a working day; Mon 18 (1), Tue 19 (2): as if posted Fri.
        date(2024, 11, 16),
        date(2024, 11, 19),
        date(2024, 12, 9),
        date(2024, 12, 16),
        id="saturday",
    ),
    pytest.param(
        # Fri 23 Aug 2024: Mon 26 Aug is the summer bank holiday; Tue 27 (1), Wed 28 (2).
        # 28 Aug + 20 = Tue 17 Sep; + 27 = Tue 24 Sep.
        date(2024, 8, 23),
        date(2024, 8, 28),
        date(2024, 9, 17),
        date(2024, 9, 24),
        id="before-summer-bank-holiday",
    ),
    pytest.param(
        # Fri 20 Dec 2024: Mon 23 (1), Tue 24 Dec (2). 24 Dec + 20 = Mon 13 Jan 2025;
        # + 27 = Mon 20 Jan 2025.
        date(2024, 12, 20),
        date(2024, 12, 24),
        date(2025, 1, 13),
        date(2025, 1, 20),
        id="friday-before-christmas",
    ),
    pytest.param(
        # Mon 23 Dec 2024: Tue 24 (1), Wed 25 and Thu 26 are bank holidays, Fri 27 Dec (2).
        # 27 Dec + 20 = Thu 16 Jan 2025; + 27 = Thu 23 Jan 2025.
        date(2024, 12, 23),
        date(2024, 12, 27),
        date(2025, 1, 16),
        date(2025, 1, 23),
        id="monday-before-christmas",
    ),
    pytest.param(
        # Tue 24 Dec 2024: 25, 26 bank holidays; Fri 27 (1), Mon 30 Dec (2).
        # 30 Dec + 20 = Sun 19 Jan 2025; + 27 = Sun 26 Jan 2025.
        date(2024, 12, 24),
        date(2024, 12, 30),
        date(2025, 1, 19),
        date(2025, 1, 26),
        id="christmas-eve",
    ),
    pytest.param(
        # Tue 31 Dec 2024: Wed 1 Jan is New Year's Day; Thu 2 (1), Fri 3 Jan 2025 (2).
        # 3 Jan + 20 = Thu 23 Jan; + 27 = Thu 30 Jan.
        date(2024, 12, 31),
        date(2025, 1, 3),
        date(2025, 1, 23),
        date(2025, 1, 30),
        id="new-years-eve",
    ),
    pytest.param(
        # Thu 17 Apr 2025: Good Friday 18 Apr and Easter Monday 21 Apr; Tue 22 (1), Wed 23 (2).
        # 23 Apr + 20 = Tue 13 May; + 27 = Tue 20 May.
        date(2025, 4, 17),
        date(2025, 4, 23),
        date(2025, 5, 13),
        date(2025, 5, 20),
        id="maundy-thursday",
    ),
    pytest.param(
        # Wed 16 Apr 2025: Thu 17 (1), Good Friday and Easter Monday skipped, Tue 22 Apr (2).
        # 22 Apr + 20 = Mon 12 May; + 27 = Mon 19 May.
        date(2025, 4, 16),
        date(2025, 4, 22),
        date(2025, 5, 12),
        date(2025, 5, 19),
        id="wednesday-before-easter",
    ),
    pytest.param(
        # Good Friday 18 Apr 2025 itself: Mon 21 is Easter Monday; Tue 22 (1), Wed 23 (2).
        date(2025, 4, 18),
        date(2025, 4, 23),
        date(2025, 5, 13),
        date(2025, 5, 20),
        id="good-friday",
    ),
]


@pytest.mark.parametrize(("posted", "received", "discount_until", "pay_by"), WINDOWS)
def test_a_first_notice_windows_begin_with_deemed_receipt(posted, received, discount_until, pay_by):
    windows = payment_windows(posted, 1, RULES)
    assert windows.posted_on == posted
    assert windows.received_on == received
    assert windows.discount_until == discount_until
    assert windows.pay_by == pay_by
    assert windows.decision_from == pay_by + timedelta(days=1)


@pytest.mark.parametrize(("posted", "received", "discount_until", "pay_by"), WINDOWS)
def test_a_second_notice_has_the_same_28_days_and_no_discount(
    posted, received, discount_until, pay_by
):
    windows = payment_windows(posted, 2, RULES)
    assert windows.received_on == received
    assert windows.discount_until is None
    assert windows.pay_by == pay_by


def test_days_left_counts_today_and_stops_at_zero():
    # Posted Thu 14 Nov 2024: pay by Sun 15 Dec 2024.
    windows = payment_windows(date(2024, 11, 14), 1, RULES)
    assert windows.days_left(date(2024, 12, 15)) == 1  # the last day to pay
    assert windows.days_left(date(2024, 12, 14)) == 2
    assert windows.days_left(date(2024, 12, 16)) == 0
    assert windows.days_left(date(2025, 3, 1)) == 0


# --- amounts ------------------------------------------------------------------------------------

# Posted Thu 14 Nov 2024, received Mon 18 Nov (day 1): day 21 is Sun 8 Dec, day 22 Mon 9 Dec,
# day 28 Sun 15 Dec, day 29 Mon 16 Dec.
POSTED = date(2024, 11, 14)


@pytest.mark.parametrize(
    ("ordinal", "paid_on", "due"),
    [
        pytest.param(1, date(2024, 11, 18), (8000, True), id="first-day-1"),
        pytest.param(1, date(2024, 12, 8), (8000, True), id="first-day-21-last-discount-day"),
        pytest.param(1, date(2024, 12, 9), (16000, False), id="first-day-22"),
        pytest.param(1, date(2024, 12, 15), (16000, False), id="first-day-28-last-day"),
        pytest.param(1, date(2024, 12, 16), None, id="first-day-29-too-late"),
        pytest.param(2, date(2024, 11, 18), (16000, False), id="second-day-1-no-discount"),
        pytest.param(2, date(2024, 12, 8), (16000, False), id="second-day-21-no-discount"),
        pytest.param(2, date(2024, 12, 15), (16000, False), id="second-day-28"),
        pytest.param(2, date(2024, 12, 16), None, id="second-day-29-too-late"),
    ],
)
def test_the_amount_due_on_each_day(ordinal, paid_on, due):
    windows = payment_windows(POSTED, ordinal, RULES)
    assert amount_due(windows, ordinal, RULES, paid_on) == due


def test_amounts_of_first_and_second_notices():
    assert amounts(1, RULES) == (8000, 16000)
    assert amounts(2, RULES) == (None, 16000)


# --- the limit ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "years", "ends"),
    [
        # 3 years beginning with Mon 2 Sep 2024 end the day before the anniversary.
        pytest.param(date(2024, 9, 2), 3, date(2027, 9, 1), id="ordinary"),
        pytest.param(date(2025, 1, 1), 3, date(2027, 12, 31), id="new-year"),
        # 2027 has no 29 Feb: the anniversary is taken as 1 Mar 2027, so the period ends 28 Feb.
        pytest.param(date(2024, 2, 29), 3, date(2027, 2, 28), id="29-february"),
        # 2028 has one: the anniversary is 29 Feb 2028.
        pytest.param(date(2024, 2, 29), 4, date(2028, 2, 28), id="29-february-to-leap-year"),
        pytest.param(date(2024, 3, 1), 3, date(2027, 2, 28), id="1-march"),
    ],
)
def test_limit_period_end(first, years, ends):
    assert limit_period_end(first, years) == ends


def _p(reference: str, issued_on: date, status: str = "paid", by: str = "this LA"):
    return PriorNotice(reference, issued_on, status, by)


A = "PN-340-24-00001"
B = "PN-340-25-00002"
C = "PN-340-28-00003"
W = "PN-340-24-00009"


@pytest.mark.parametrize(
    ("prior", "issue_on", "ordinal", "period_first", "period_ends"),
    [
        pytest.param([], date(2024, 9, 2), 1, None, None, id="first-notice"),
        # First issued Mon 2 Sep 2024: its period ends Wed 1 Sep 2027, so a notice that day is
        # a second; on Thu 2 Sep 2027 no period is running and a notice is a new first.
        pytest.param(
            [_p(A, date(2024, 9, 2))],
            date(2027, 9, 1),
            2,
            A,
            date(2027, 9, 1),
            id="second-on-the-last-day-of-the-period",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2))],
            date(2027, 9, 2),
            1,
            None,
            None,
            id="new-first-on-the-anniversary",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2), "issued")],
            date(2024, 11, 20),
            2,
            A,
            date(2027, 9, 1),
            id="an-unpaid-notice-still-running-counts",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2), "prosecution")],
            date(2024, 11, 20),
            2,
            A,
            date(2027, 9, 1),
            id="a-prosecuted-notice-counts",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2), by="reported by Sefton")],
            date(2024, 11, 20),
            2,
            A,
            date(2027, 9, 1),
            id="another-las-notice-counts",
        ),
        pytest.param(
            [_p(W, date(2024, 9, 2), "withdrawn")],
            date(2024, 11, 20),
            1,
            None,
            None,
            id="a-withdrawn-notice-does-not-count",
        ),
        pytest.param(
            [_p(W, date(2024, 9, 2), "cancelled")],
            date(2024, 11, 20),
            1,
            None,
            None,
            id="a-cancelled-draft-does-not-count",
        ),
        # Withdrawn 2 Sep 2024, then B on Fri 10 Jan 2025: B opens the period (to Sun 9 Jan
        # 2028) and a notice now is its second.
        pytest.param(
            [_p(W, date(2024, 9, 2), "withdrawn"), _p(B, date(2025, 1, 10))],
            date(2025, 6, 2),
            2,
            B,
            date(2028, 1, 9),
            id="after-a-withdrawn-first-the-next-opens-the-period",
        ),
        # Notices at year 0 (A, Mon 2 Sep 2024) and year 2 (Wed 2 Sep 2026) fill A's period,
        # which ends Wed 1 Sep 2027. At year 3.5 (Thu 2 Mar 2028) no period is running: the
        # year-2 notice was the second of A's period and opened none, so this is a new first.
        pytest.param(
            [_p(A, date(2024, 9, 2)), _p(B, date(2026, 9, 2))],
            date(2028, 3, 2),
            1,
            None,
            None,
            id="year-3.5-after-notices-at-0-and-2-is-a-new-first",
        ),
        # ...and once that notice (C) is issued it opens a period to Fri 1 Mar 2031: the next
        # is C's second even though B (year 2) is less than three years before it.
        pytest.param(
            [_p(A, date(2024, 9, 2)), _p(B, date(2026, 9, 2)), _p(C, date(2028, 3, 2))],
            date(2028, 6, 1),
            2,
            C,
            date(2031, 3, 1),
            id="the-year-3.5-notice-opens-the-next-period",
        ),
    ],
)
def test_place_in_limit(prior, issue_on, ordinal, period_first, period_ends):
    verdict = place_in_limit(prior, issue_on, RULES)
    assert verdict.refusal is None
    assert verdict.ordinal == ordinal
    assert (verdict.period_first.reference if verdict.period_first else None) == period_first
    assert verdict.period_ends == period_ends


@pytest.mark.parametrize(
    ("prior", "issue_on", "named", "not_named", "possible_from"),
    [
        # A (Mon 2 Sep 2024) and B (Fri 10 Jan 2025): no third before Thu 2 Sep 2027.
        pytest.param(
            [_p(A, date(2024, 9, 2)), _p(B, date(2025, 1, 10))],
            date(2027, 9, 1),
            [f"{A} (2 September 2024, this LA)", f"{B} (10 January 2025, this LA)"],
            [],
            "2 September 2027",
            id="third-on-the-last-day-of-the-period",
        ),
        # W withdrawn does not count: B opens the period (to 9 Jan 2028) and C is its second.
        pytest.param(
            [
                _p(W, date(2024, 9, 2), "withdrawn"),
                _p(B, date(2025, 1, 10)),
                _p(C, date(2025, 3, 3)),
            ],
            date(2025, 6, 2),
            [f"{B} (10 January 2025", f"{C} (3 March 2025"],
            [W],
            "10 January 2028",
            id="withdrawn-first-then-two-more",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2), "prosecution"), _p(B, date(2025, 1, 10), "issued")],
            date(2025, 6, 2),
            [A, B],
            [],
            "2 September 2027",
            id="prosecuted-and-unpaid-count",
        ),
        pytest.param(
            [_p(A, date(2024, 9, 2), by="reported by Sefton"), _p(B, date(2025, 1, 10))],
            date(2025, 6, 2),
            [f"{A} (2 September 2024, reported by Sefton)", B],
            [],
            "2 September 2027",
            id="one-reported-by-another-la",
        ),
        pytest.param(
            [
                _p(A, date(2024, 9, 2), "cancelled"),
                _p(B, date(2025, 1, 10)),
                _p(C, date(2025, 3, 3)),
            ],
            date(2025, 6, 2),
            [B, C],
            [A],
            "10 January 2028",
            id="cancelled-draft-not-listed",
        ),
    ],
)
def test_a_third_notice_within_three_years_is_refused(
    prior, issue_on, named, not_named, possible_from
):
    verdict = place_in_limit(prior, issue_on, RULES)
    assert verdict.ordinal is None
    assert verdict.refusal is not None
    for text in named:
        assert text in verdict.refusal
    for text in not_named:
        assert text not in verdict.refusal
    assert f"no further notice can be issued before {possible_from}" in verdict.refusal
    assert "prosecution under section 444" in verdict.refusal


def test_a_third_notice_is_possible_the_day_the_period_ends():
    prior = [_p(A, date(2024, 9, 2)), _p(B, date(2025, 1, 10))]
    assert place_in_limit(prior, date(2027, 9, 1), RULES).ordinal is None
    verdict = place_in_limit(prior, date(2027, 9, 2), RULES)
    # B was inside A's period, so it opens nothing: a notice on 2 Sep 2027 is a new first.
    assert (verdict.ordinal, verdict.refusal) == (1, None)


# --- the checks before issue ----------------------------------------------------------------------

NOV_4 = date(2024, 11, 4)  # Monday; the week of 4 Nov 2024 is a full school week in Knowsley
HOLIDAY_WEEK = tuple(
    ListedSession(NOV_4 + timedelta(days=d), half, "G") for d in range(5) for half in ("AM", "PM")
)
BASE = NoticeFacts(
    reason=NoticeReason.HOLIDAY,
    issue_on=date(2024, 11, 14),
    date_of_birth=date(2015, 3, 2),
    sessions=HOLIDAY_WEEK,
    counted_codes=COUNTED,
    threshold=THRESHOLD,
    calendar=WeekdayCalendar(),
    rules=RULES,
    parent_name="Ms Dana Ashdown",
    parental_responsibility=True,
)


def _unmet(facts: NoticeFacts) -> list[str]:
    return [u.guard for u in unmet_checks(facts)]


def _reason(facts: NoticeFacts, guard: str) -> str:
    return next(u.reason for u in unmet_checks(facts) if u.guard == guard)


def _coded(sessions, code: str):
    return tuple(replace(s, code=code) for s in sessions)


def test_a_holiday_case_needs_no_notice_to_improve():
    assert unmet_checks(BASE) == []


def test_no_sessions_is_refused():
    facts = replace(BASE, sessions=())
    assert _unmet(facts) == ["sessions_given", "threshold_met"]
    assert "list the sessions of absence" in _reason(facts, "sessions_given")


@pytest.mark.parametrize(
    ("born", "refused", "says"),
    [
        # 5th birthday Tue 1 Oct 2024: of CSA from the next prescribed day, 31 Dec 2024.
        pytest.param(date(2019, 10, 1), True, "it begins on 31 December 2024", id="too-young"),
        # 5th birthday 31 Aug 2024 is itself a prescribed day: of CSA from that day.
        pytest.param(date(2019, 8, 31), False, None, id="fifth-birthday-on-31-august"),
        # 16 on 31 Aug 2024: the school leaving date was the last Friday in June 2024, 28 Jun.
        pytest.param(date(2008, 8, 31), True, "it ended on 28 June 2024", id="past-leaving-date"),
        # 16 on 1 Sep 2024: of CSA until the last Friday in June 2025 (27 Jun).
        pytest.param(date(2008, 9, 1), False, None, id="september-birthday-still-of-csa"),
    ],
)
def test_only_a_pupil_of_compulsory_school_age(born, refused, says):
    facts = replace(BASE, date_of_birth=born)
    if not refused:
        assert "compulsory_school_age" not in _unmet(facts)
        return
    assert _unmet(facts) == ["compulsory_school_age"]
    reason = _reason(facts, "compulsory_school_age")
    assert "not of compulsory school age on 4 November 2024" in reason
    assert says in reason
    # Not the LA's discretion: a rationale cannot set it aside.
    with_rationale = replace(facts, rationales={"compulsory_school_age": "please"})
    assert _unmet(with_rationale) == ["compulsory_school_age"]


def _register(**changes: str) -> dict[tuple[date, str], str]:
    held = {(s.day, s.session): s.code for s in HOLIDAY_WEEK}
    for key, code in changes.items():
        day, half = key.split("_")
        held[(date.fromisoformat(day), half.upper())] = code
    return held


@pytest.mark.parametrize(
    ("register", "says"),
    [
        # Wed 6 Nov AM is M (medical appointment) in the register: authorised absence.
        pytest.param(
            {**_register(), (date(2024, 11, 6), "AM"): "M"},
            "6 November 2024 AM is marked M in the register",
            id="medical-appointment",
        ),
        pytest.param(
            {k: v for k, v in _register().items() if k != (date(2024, 11, 8), "PM")},
            "8 November 2024 PM has no mark in the register",
            id="no-mark",
        ),
        # Listed as G, but the register says O: the listing must match what is held.
        pytest.param(
            {**_register(), (date(2024, 11, 5), "PM"): "O"},
            "5 November 2024 PM is listed as G but marked O",
            id="listed-code-differs",
        ),
    ],
)
def test_only_unauthorised_absence_in_the_register(register, says):
    facts = replace(BASE, register=register)
    assert _unmet(facts) == ["unauthorised_only"]
    assert says in _reason(facts, "unauthorised_only")


def test_the_register_matching_the_listing_is_accepted():
    assert unmet_checks(replace(BASE, register=_register())) == []


def test_listed_authorised_codes_are_refused_when_no_register_is_held():
    facts = replace(BASE, sessions=(*HOLIDAY_WEEK[:9], replace(HOLIDAY_WEEK[9], code="C")))
    assert "unauthorised_only" in _unmet(facts)
    assert "8 November 2024 PM is marked C" in _reason(facts, "unauthorised_only")


def test_sessions_already_used_for_this_parent_are_refused():
    used = {(date(2024, 11, 4), "AM"): "PN-340-24-00001", (date(2024, 11, 11), "AM"): "PN-X"}
    facts = replace(BASE, used_by=used)
    assert _unmet(facts) == ["sessions_unused"]
    reason = _reason(facts, "sessions_unused")
    assert "1 of these sessions already back another penalty notice to Ms Dana Ashdown" in reason
    assert "4 November 2024 AM (PN-340-24-00001)" in reason
    assert "PN-X" not in reason  # 11 Nov is not relied on here
    # Sessions used only by a notice outside this notice's sessions do not matter.
    assert unmet_checks(replace(BASE, used_by={(date(2024, 11, 11), "AM"): "PN-X"})) == []


@pytest.mark.parametrize(
    ("rationale", "refused"),
    [
        pytest.param(None, True, id="no-rationale"),
        pytest.param("   ", True, id="blank-rationale"),
        pytest.param("third short holiday this year", False, id="discretion-recorded"),
    ],
)
def test_below_the_threshold_only_with_a_recorded_rationale(rationale, refused):
    # Nine sessions: one short of 10 in 10 school weeks.
    facts = replace(BASE, sessions=HOLIDAY_WEEK[:9])
    if rationale is not None:
        facts = replace(facts, rationales={"threshold_met": rationale})
    assert _unmet(facts) == (["threshold_met"] if refused else [])
    if refused:
        [unmet] = unmet_checks(facts)
        assert unmet.overridable is True
        assert "the most relied on within any such window is 9" in unmet.reason


def test_the_threshold_counts_school_weeks_not_calendar_weeks():
    # 5 sessions in the week of Mon 2 Sep 2024 and 5 in the week of Mon 11 Nov 2024. On a
    # weekday calendar that is 11 weeks (2, 9, 16, 23, 30 Sep; 7, 14, 21, 28 Oct; 4, 11 Nov);
    # in Knowsley the October half term (28 Oct - 1 Nov) is no school week, so it is 10.
    early = [ListedSession(date(2024, 9, 2) + timedelta(days=d), "AM", "O") for d in range(5)]
    late = [ListedSession(date(2024, 11, 11) + timedelta(days=d), "AM", "O") for d in range(5)]
    facts = replace(BASE, sessions=(*early, *late), issue_on=date(2024, 11, 20))
    assert _unmet(facts) == ["threshold_met"]
    assert unmet_checks(replace(facts, calendar=KNOWSLEY)) == []


IRREGULAR = replace(
    BASE, reason=NoticeReason.IRREGULAR_ATTENDANCE, sessions=_coded(HOLIDAY_WEEK, "O")
)


def _nti(given_on: date, expires_on: date | None, outcome: str = "pending") -> InterventionFact:
    details = {"expires_on": expires_on.isoformat()} if expires_on else {}
    return InterventionFact(1, "notice_to_improve", given_on, "not_applicable", outcome, details)


def test_irregular_attendance_without_a_notice_to_improve_needs_a_rationale():
    assert _unmet(IRREGULAR) == ["notice_to_improve"]
    assert "no Notice to Improve has been given" in _reason(IRREGULAR, "notice_to_improve")
    recorded = replace(IRREGULAR, rationales={"notice_to_improve": "previous NtI ignored"})
    assert unmet_checks(recorded) == []


def test_a_notice_to_improve_given_after_the_issue_date_does_not_count():
    facts = replace(IRREGULAR, notices_to_improve=(_nti(date(2024, 11, 15), None),))
    assert _unmet(facts) == ["notice_to_improve"]


@pytest.mark.parametrize(
    ("nti", "since", "refused"),
    [
        # Given Mon 11 Nov, running to Fri 20 Dec; the week of 4 Nov is all before it.
        pytest.param(_nti(date(2024, 11, 11), date(2024, 12, 20)), False, True, id="running"),
        # ...and with unauthorised absence on Tue 12 Nov, after it was given: allowed early.
        pytest.param(_nti(date(2024, 11, 11), date(2024, 12, 20)), True, False, id="absence-since"),
        # Given Mon 7 Oct, ended Wed 13 Nov (before issue on Thu 14 Nov), no outcome yet.
        pytest.param(_nti(date(2024, 10, 7), date(2024, 11, 13)), False, False, id="ended"),
        # Ended and recorded as improved: no notice.
        pytest.param(
            _nti(date(2024, 10, 7), date(2024, 11, 13), "improved"), False, True, id="improved"
        ),
        pytest.param(
            _nti(date(2024, 10, 7), date(2024, 11, 13), "not_improved"),
            False,
            False,
            id="not-improved",
        ),
    ],
)
def test_a_notice_to_improve(nti, since, refused):
    sessions = IRREGULAR.sessions
    if since:
        sessions = (*sessions, ListedSession(date(2024, 11, 12), "AM", "O"))
    facts = replace(IRREGULAR, notices_to_improve=(nti,), sessions=sessions)
    assert _unmet(facts) == (["notice_to_improve"] if refused else [])


def test_a_running_notice_to_improve_explains_itself():
    facts = replace(IRREGULAR, notices_to_improve=(_nti(date(2024, 11, 11), date(2024, 12, 20)),))
    reason = _reason(facts, "notice_to_improve")
    assert "given on 11 November 2024 runs until 20 December 2024" in reason
    assert "no unauthorised absence since it was given" in reason


def test_a_parent_without_parental_responsibility_is_refused():
    facts = replace(BASE, parental_responsibility=False, parent_name="Mr Frank Other")
    assert _unmet(facts) == ["parental_responsibility"]
    assert "Mr Frank Other is not recorded as having parental responsibility" in _reason(
        facts, "parental_responsibility"
    )
    # Not overridable.
    assert _unmet(replace(facts, rationales={"parental_responsibility": "x"})) == [
        "parental_responsibility"
    ]


def test_a_third_notice_is_refused_by_the_checks_and_cannot_be_overridden():
    prior = (_p(A, date(2024, 9, 2)), _p(B, date(2024, 10, 7)))
    facts = replace(BASE, prior=prior, rationales={"within_limit": "x"})
    [unmet] = unmet_checks(facts)
    assert (unmet.guard, unmet.overridable) == ("within_limit", False)
    assert A in unmet.reason and B in unmet.reason


def _late(count: int, extra: tuple[ListedSession, ...] = ()) -> NoticeFacts:
    # One U mark each school day from Mon 2 Sep 2024 (weekdays only; no bank holiday then).
    days = [d for d in (date(2024, 9, 2) + timedelta(days=n) for n in range(40)) if d.weekday() < 5]
    marks = tuple(ListedSession(day, "AM", "U") for day in days[:count])
    return replace(
        BASE,
        reason=NoticeReason.LATENESS,
        threshold=LATE,
        sessions=(*marks, *extra),
        issue_on=date(2024, 11, 20),
        rationales={"notice_to_improve": "lateness letters ignored"},
    )


@pytest.mark.parametrize(
    ("facts", "unmet"),
    [
        # 14 U marks on the school days Mon 2 - Thu 19 Sep 2024 (3 school weeks).
        pytest.param(_late(14), [], id="14-late-marks"),
        pytest.param(_late(13), ["threshold_met"], id="13-late-marks"),
        # 13 in Sep plus one on Mon 18 Nov: 2 Sep..18 Nov is 12 weeks, so at most 13 fall in
        # any 10 school weeks.
        pytest.param(
            _late(13, (ListedSession(date(2024, 11, 18), "AM", "U"),)),
            ["threshold_met"],
            id="14-but-not-within-10-school-weeks",
        ),
        # G marks do not count toward the lateness threshold.
        pytest.param(
            _late(13, (ListedSession(date(2024, 9, 20), "AM", "G"),)),
            ["threshold_met"],
            id="13-late-and-one-holiday",
        ),
        pytest.param(
            replace(_late(14), lateness_enabled=False), ["lateness_allowed"], id="la-opted-out"
        ),
    ],
)
def test_a_lateness_notice_needs_14_late_marks_within_10_school_weeks(facts, unmet):
    assert _unmet(facts) == unmet


def test_every_failed_check_is_reported_together():
    facts = replace(
        IRREGULAR,
        sessions=IRREGULAR.sessions[:9],
        parental_responsibility=False,
        used_by={(NOV_4, "AM"): "PN-340-24-00001"},
    )
    assert _unmet(facts) == [
        "sessions_unused",
        "threshold_met",
        "notice_to_improve",
        "parental_responsibility",
    ]


# --- properties -----------------------------------------------------------------------------------

POSTING_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def _working(day: date) -> bool:
    return day.weekday() < 5 and day not in ENGLAND


@settings(max_examples=300, deadline=None)
@given(posted=POSTING_DATES, ordinal=st.sampled_from([1, 2]))
def test_windows_hold_for_any_posting_date(posted, ordinal):
    windows = payment_windows(posted, ordinal, RULES)
    received = windows.received_on
    assert posted < received <= posted + timedelta(days=6)
    assert _working(received)
    between = [posted + timedelta(days=n) for n in range(1, (received - posted).days)]
    assert sum(_working(d) for d in between) == 1  # receipt is the 2nd working day
    assert windows.pay_by - received == timedelta(days=27)
    assert windows.decision_from == windows.pay_by + timedelta(days=1)
    if ordinal == 1:
        assert windows.discount_until - received == timedelta(days=20)
        assert windows.discount_until < windows.pay_by
    else:
        assert windows.discount_until is None


STATUSES = ("issued", "paid", "prosecution", "withdrawn", "cancelled")


@settings(max_examples=300, deadline=None)
@given(
    attempts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3000), st.sampled_from(STATUSES)),
        min_size=1,
        max_size=8,
    )
)
def test_the_limit_is_never_exceeded(attempts):
    """Issue notices on increasing dates whenever the limit allows, then settle each: no more
    than two counting notices ever fall in one period, and every ordinal is 1 or 2."""
    start = date(2024, 9, 2)
    issued: list[PriorNotice] = []
    for n, (offset, status) in enumerate(sorted(attempts)):
        on = start + timedelta(days=offset)
        verdict = place_in_limit(issued, on, RULES)
        assert verdict.ordinal in (None, 1, 2)
        assert verdict.ordinal is None or verdict.ordinal <= RULES.most_in_limit
        assert (verdict.ordinal is None) == (verdict.refusal is not None)
        if verdict.ordinal == 2:
            assert verdict.period_first is not None
            assert verdict.period_first.issued_on <= on <= verdict.period_ends
        if verdict.ordinal is None:
            counting = [
                p for p in issued if p.counts and p.issued_on >= verdict.period_first.issued_on
            ]
            assert len(counting) >= RULES.most_in_limit
            continue
        issued.append(PriorNotice(f"N{n:02d}", on, status))
    # Group the counting notices into periods as the docstring says: each opens one when none
    # is running; no period holds more than two.
    counting = [p for p in issued if p.counts]
    first, in_period = None, 0
    for notice in counting:
        if first is None or notice.issued_on > limit_period_end(first, RULES.limit_years):
            first, in_period = notice.issued_on, 1
        else:
            in_period += 1
        assert in_period <= RULES.most_in_limit
