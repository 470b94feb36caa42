"""A holiday penalty notice end to end: leave refused, G marks laid, the school's request, a
notice to each parent, one paid at day 20 (£80), the other unpaid at day 28."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from casework.errors import NoticeRefused
from casework.models import CaseEvent, Deadline, PenaltyNotice
from casework.vocabulary import CaseKind, Stage
from workflows.cases import OpenCase, open_case
from workflows.penalties.leave import (
    ApplyForLeave,
    DecideLeave,
    apply_for_leave,
    decide_leave,
    record_leave_taken,
)
from workflows.penalties.notices import RecordPayment, record_payment
from workflows.penalties.requests import (
    IssueFromRequest,
    MakeRequest,
    issue_from_request,
    make_request,
)


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def _contacts(db, pupil_id):
    from casework.models import PupilContact

    with db.factory() as session:
        return [
            link.contact_id
            for link in session.scalars(
                select(PupilContact).where(PupilContact.pupil_id == pupil_id)
            )
        ]


def _holiday_request(context, db, clock):
    # Leave asked for Mon 4 - Fri 8 Nov 2024 (a school week in Knowsley's autumn term 2).
    at(clock, date(2024, 10, 1))
    ctx = context("oak_lead")
    parent = _contacts(db, db.world.pupil_oak)[0]
    leave = apply_for_leave(
        ctx,
        ApplyForLeave(
            db.world.pupil_oak,
            db.world.oakfield,
            parent,
            date(2024, 9, 30),
            date(2024, 11, 4),
            date(2024, 11, 8),
            "family holiday abroad",
        ),
    )
    decide_leave(
        ctx,
        leave.id,
        DecideLeave(
            "refused",
            False,
            "a holiday is not an exceptional circumstance",
            date(2024, 10, 1),
            "Head Teacher",
            "Headteacher",
        ),
    )
    ctx.commit()
    at(clock, date(2024, 11, 12))
    ctx = context("oak_lead")
    laid = record_leave_taken(ctx, leave.id, date(2024, 11, 4), date(2024, 11, 8))
    case = open_case(
        ctx,
        OpenCase(
            db.world.pupil_oak,
            db.world.oakfield,
            CaseKind.TERM_TIME_HOLIDAY,
            Stage.MONITOR,
            "holiday taken after leave was refused",
        ),
    )
    request = make_request(
        ctx,
        MakeRequest(
            case.id,
            "holiday",
            "Leave refused; taken anyway; 10 sessions G",
            leave_request_id=leave.id,
        ),
    )
    ctx.commit()
    return laid, case.id, request.id


def test_a_holiday_request_becomes_a_notice_to_each_parent(context, db, clock):
    laid, case_id, request_id = _holiday_request(context, db, clock)
    assert laid == 10
    at(clock, date(2024, 11, 14))
    ctx = context("statutory")
    request, notices = issue_from_request(ctx, request_id, IssueFromRequest(date(2024, 11, 14)))
    ctx.commit()
    assert request.status == "accepted"
    assert len(notices) == 2
    # Posted Thu 14 Nov: received Mon 18 Nov (Fri 15 = 1, Mon 18 = 2); 21 days beginning with
    # Mon 18 Nov end Sun 8 Dec; 28 days end Sun 15 Dec.
    for notice in notices:
        assert notice.received_on == date(2024, 11, 18)
        assert notice.discount_until == date(2024, 12, 8)
        assert notice.pay_by == date(2024, 12, 15)
        assert notice.amount_discounted_pence == 8000
    # Day 20 counting the day of receipt as day 1 is Sat 7 Dec.
    at(clock, date(2024, 12, 7))
    ctx = context("statutory")
    paid = record_payment(
        ctx, notices[0].id, RecordPayment(date(2024, 12, 7), 8000, "online", "FIN-1")
    )
    ctx.commit()
    assert paid.paid_within_discount is True
    with db.factory() as session:
        clocks = {
            (d.details.get("subject"), d.status)
            for d in session.scalars(
                select(Deadline).where(
                    Deadline.case_id == case_id, Deadline.kind == "penalty_notice_unpaid"
                )
            )
        }
        assert (f"penalty_notice:{notices[0].id}", "cancelled") in clocks
        assert (f"penalty_notice:{notices[1].id}", "pending") in clocks
        due = session.scalars(
            select(Deadline).where(
                Deadline.case_id == case_id,
                Deadline.status == "pending",
                Deadline.kind == "penalty_notice_unpaid",
            )
        ).one()
        assert due.due_on == date(2024, 12, 16)
        kinds = [
            e.kind
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
            )
        ]
        assert kinds.count("penalty_notice_issued") == 2
        assert "penalty_notice_paid" in kinds


def test_the_same_sessions_cannot_back_a_second_notice(context, db, clock):
    _, case_id, request_id = _holiday_request(context, db, clock)
    at(clock, date(2024, 11, 14))
    ctx = context("statutory")
    issue_from_request(ctx, request_id, IssueFromRequest(date(2024, 11, 14)))
    ctx.commit()
    from workflows.penalties.notices import DraftNotices, draft_notices

    ctx = context("statutory")
    with pytest.raises(NoticeRefused) as refused:
        draft_notices(ctx, DraftNotices(case_id, "holiday"))
    assert "sessions_unused" in {
        u.guard for unmet in refused.value.refusals.values() for u in unmet
    }
    with db.factory() as session:
        assert len(session.scalars(select(PenaltyNotice)).all()) == 2
