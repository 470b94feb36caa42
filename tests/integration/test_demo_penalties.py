"""The demo's penalty notices, walked as the statutory officer would on the demo's today.

A small demo is seeded per ``today`` (as in ``test_demo``) and checked through the services:

(a) a school's holiday request awaits the LA, made a few school days ago, its pupil's week away
    laid as G in the register (the CTF import kept it) and on the threshold list; the officer
    issues a notice to each parent with parental responsibility;
(b) notices issued to both parents about five weeks ago: one paid £80 on day 20, the other
    unpaid, its payment period over and its 28-day decision due;
(c) a family that moved in from another LA, which reported a notice two years ago; a second was
    issued here and paid; the new request is refused by the limit of two in three years.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.demo import seed_demo
from api.demo.stories import HISTORY_DAYS
from api.demo.timeline import Timeline, academic_year, terms
from casework.analytics.timeline import load_timeline
from casework.clock import FixedClock
from casework.db import make_engine, make_session_factory
from casework.errors import NoticeRefused
from casework.migrate import upgrade
from casework.models import (
    CaseEvent,
    Deadline,
    LeaveDecision,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeEnquiry,
    PenaltyNoticeRequest,
    PriorPenaltyNotice,
    PupilContact,
    PupilFlag,
    User,
)
from casework.vocabulary import EventKind
from workflows.context import Context
from workflows.penalties.notices import display_status, notice_for
from workflows.penalties.requests import IssueFromRequest, issue_from_request, request_for

SMALL = {"schools": 3, "pupils": 60, "seed": 7}
LONDON = ZoneInfo("Europe/London")
TODAYS = {"spring": date(2025, 3, 12), "early_october": date(2025, 10, 8)}


@dataclass(frozen=True)
class Demo:
    factory: sessionmaker[Session]
    today: date

    @property
    def timeline(self) -> Timeline:
        return Timeline.for_today(self.today, HISTORY_DAYS)


@pytest.fixture(scope="module", params=list(TODAYS))
def demo(request, tmp_path_factory) -> Iterator[Demo]:
    today = TODAYS[request.param]
    path = tmp_path_factory.mktemp("demo_penalties") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, **SMALL, today=today)
        yield Demo(factory, today)
    finally:
        engine.dispose()


def _statutory(session: Session, today: date) -> Context:
    user = session.scalars(select(User).where(User.username == "statutory")).one()
    clock = FixedClock(datetime.combine(today, datetime.min.time(), LONDON) + timedelta(hours=10))
    return Context.build(session, user, clock)


def _with_prior(session: Session) -> set[int]:
    return set(session.scalars(select(PriorPenaltyNotice.pupil_id)))


def _pending(session: Session) -> list[PenaltyNoticeRequest]:
    return list(
        session.scalars(
            select(PenaltyNoticeRequest)
            .where(PenaltyNoticeRequest.status == "pending")
            .order_by(PenaltyNoticeRequest.id)
        )
    )


def _parents(session: Session, pupil_id: int) -> list[int]:
    return list(
        session.scalars(
            select(PupilContact.contact_id).where(
                PupilContact.pupil_id == pupil_id, PupilContact.parental_responsibility
            )
        )
    )


def _register(session: Session, request: PenaltyNoticeRequest) -> dict[tuple[date, str], str]:
    days = [date.fromisoformat(s["date"]) for s in request.sessions]
    marks = load_timeline(session, request.pupil_id, min(days), max(days)).sessions
    return {(m.day, m.session): m.code for m in marks}


# --- (a) a request awaiting the LA ------------------------------------------------------------


def test_a_pending_holiday_request_is_issued_to_each_parent(demo):
    recent = set(demo.timeline.days[-5:])
    with demo.factory() as session:
        ctx = _statutory(session, demo.today)
        prior = _with_prior(session)
        pending = [r for r in _pending(session) if r.pupil_id not in prior]
        assert pending, "no holiday request awaits the LA"
        request = request_for(ctx, pending[0].id)  # the statutory officer sees it
        assert request.reason == "holiday"
        assert request.requested_at.astimezone(LONDON).date() in recent
        # The week away, laid as G by the school, is what the register holds after the import.
        assert len(request.sessions) == 10
        register = _register(session, request)
        assert all(
            register[(date.fromisoformat(s["date"]), s["session"])] == "G" for s in request.sessions
        )
        flags = set(
            session.scalars(select(PupilFlag.flag).where(PupilFlag.pupil_id == request.pupil_id))
        )
        assert "penalty_threshold" in flags
        # The leave was asked for before the week and refused by the headteacher.
        leave = session.get(LeaveRequest, request.leave_request_id)
        decision = session.scalars(
            select(LeaveDecision).where(LeaveDecision.request_id == leave.id)
        ).one()
        assert leave.applied_on <= decision.decided_on < leave.first_day
        assert (decision.decision, decision.decided_by_position) == ("refused", "Headteacher")
        parents = _parents(session, request.pupil_id)
        accepted, notices = issue_from_request(
            ctx, request.id, IssueFromRequest(posted_on=demo.today)
        )
        assert accepted.status == "accepted"
        assert sorted(n.contact_id for n in notices) == sorted(parents)
        for notice in notices:
            assert (notice.status, notice.ordinal, notice.issued_on) == ("issued", 1, demo.today)
            assert (notice.amount_discounted_pence, notice.amount_full_pence) == (8000, 16000)
        session.rollback()


# --- (b) one paid on day 20, one unpaid with its decision due ---------------------------------


def test_b_one_parent_paid_on_day_20_and_the_others_decision_is_due(demo):
    with demo.factory() as session:
        ctx = _statutory(session, demo.today)
        found = None
        for paid in session.scalars(select(PenaltyNotice).where(PenaltyNotice.status == "paid")):
            if paid.paid_on != paid.received_on + timedelta(days=19):
                continue
            others = session.scalars(
                select(PenaltyNotice).where(
                    PenaltyNotice.case_id == paid.case_id,
                    PenaltyNotice.id != paid.id,
                    PenaltyNotice.status == "issued",
                )
            ).all()
            if others:
                found = (paid, others[0])
        assert found, "no case with one notice paid on day 20 and one unpaid"
        paid, unpaid = (notice_for(ctx, n.id) for n in found)
        assert paid.issued_on == unpaid.issued_on and paid.contact_id != unpaid.contact_id
        assert (demo.today - paid.issued_on).days >= 30
        if demo.today == TODAYS["spring"]:
            assert (demo.today - paid.issued_on).days <= 40
        assert (paid.amount_paid_pence, paid.paid_within_discount) == (8000, True)
        event = session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == paid.case_id, CaseEvent.kind == EventKind.PENALTY_NOTICE_PAID
            )
        ).one()
        assert event.data["day_of_period"] == 20
        assert event.occurred_at.astimezone(LONDON).date() == paid.paid_on  # recorded that day
        assert unpaid.pay_by < demo.today
        assert display_status(unpaid, demo.today) == "unpaid_decision_due"
        deadline = session.scalars(
            select(Deadline).where(
                Deadline.case_id == unpaid.case_id, Deadline.kind == "penalty_notice_unpaid"
            )
        ).all()
        due = [d for d in deadline if d.details.get("subject") == f"penalty_notice:{unpaid.id}"]
        assert len(due) == 1
        assert due[0].status in ("pending", "fired")
        assert due[0].due_on == unpaid.pay_by + timedelta(days=1) <= demo.today


# --- (c) the limit of two notices in three years -----------------------------------------------


def test_c_a_third_notice_within_three_years_is_refused(demo):
    with demo.factory() as session:
        ctx = _statutory(session, demo.today)
        prior = _with_prior(session)
        pending = [r for r in _pending(session) if r.pupil_id in prior]
        assert len(pending) == 1
        request = pending[0]
        parents = _parents(session, request.pupil_id)
        assert len(parents) == 1  # a single parent: the refusal is the whole answer
        reported = session.scalars(
            select(PriorPenaltyNotice).where(PriorPenaltyNotice.pupil_id == request.pupil_id)
        ).one()
        assert reported.contact_id == parents[0] and reported.status == "paid"
        assert 700 <= (demo.today - reported.issued_on).days <= 760
        enquiry = session.get(PenaltyNoticeEnquiry, reported.enquiry_id)
        assert enquiry.notices_reported == 1 and enquiry.answered_on >= enquiry.asked_on
        here = session.scalars(
            select(PenaltyNotice).where(
                PenaltyNotice.pupil_id == request.pupil_id,
                PenaltyNotice.contact_id == parents[0],
            )
        ).one()
        # A second notice within three years of the first: the full amount, no discount.
        assert (here.status, here.ordinal, here.amount_paid_pence) == ("paid", 2, 16000)
        if demo.today == TODAYS["spring"]:
            assert here.issued_on >= terms(academic_year(demo.today))[0].first
        assert session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == here.case_id,
                CaseEvent.kind == EventKind.PENALTY_NOTICE_ENQUIRY,
            )
        ).one()
        with pytest.raises(NoticeRefused) as refused:
            issue_from_request(ctx, request.id, IssueFromRequest(posted_on=demo.today))
        session.rollback()
        (unmet,) = refused.value.refusals.values()
        limit = [u for u in unmet if u.guard == "within_limit"]
        assert [u.guard for u in unmet] == ["within_limit"]
        assert "prosecution" in limit[0].reason
        assert session.get(PenaltyNoticeRequest, request.id).status == "pending"


# --- every holiday request agrees with the register ------------------------------------------


def test_every_holiday_request_relies_on_g_marks_the_register_holds(demo):
    with demo.factory() as session:
        requests = list(session.scalars(select(PenaltyNoticeRequest)))
        assert len(requests) >= 5
        for request in requests:
            register = _register(session, request)
            for s in request.sessions:
                key = (date.fromisoformat(s["date"]), s["session"])
                assert s["code"] == "G" and register.get(key) == "G", (request.id, key)
            leave = session.get(LeaveRequest, request.leave_request_id)
            assert leave.first_day <= date.fromisoformat(request.sessions[0]["date"])
            assert date.fromisoformat(request.sessions[-1]["date"]) <= leave.last_day
