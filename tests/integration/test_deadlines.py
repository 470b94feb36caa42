"""The deadline ledger: clocks armed and cancelled with their stage, fired exactly once.

Dates here are counted on the school's own calendar: the synthetic world is LA 340 (Knowsley),
so its schools keep Knowsley's published 2024/25 term dates (autumn Mon 2 Sep - Fri 20 Dec 2024,
October half term 28 Oct - 1 Nov; spring Mon 6 Jan - Fri 4 Apr 2025, February half term
17 - 21 Feb) and the counting rules of CALENDARS.md.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from casework.models import CaseEvent
from casework.models.deadlines import Deadline
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)
from workflows.sweep import sweep

EVERY_RATIONALE = {
    "skip_rationale": "demonstration",
    "level_1_school_actions": "recorded on paper before the service",
    "early_help": "family declined in writing",
    "school_action_period": "risk too high to wait",
}


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def _level_two_case(context, db, clock, pupil=None, school=None) -> int:
    at(clock, date(2024, 11, 20))
    ctx = context("traded")
    pupil, school = pupil or db.world.pupil_oak, school or db.world.oakfield
    case = open_case(ctx, OpenCase(pupil, school, reason="below 90%"))
    fire_trigger(
        ctx,
        case.id,
        FireTrigger(
            "advance_to_facilitate_support",
            case.version,
            reason="Level 2",
            rationales=EVERY_RATIONALE,
        ),
    )
    ctx.commit()
    return case.id


def _pending(db, case_id: int) -> dict[str, date]:
    with db.factory() as session:
        rows = session.scalars(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "pending")
        )
        return {d.kind: d.due_on for d in rows}


def _aim(context, case_id: int, on: date):
    ctx = context("traded")
    item = record_intervention(
        ctx,
        case_id,
        RecordIntervention(
            kind="attendance_improvement_meeting",
            occurred_on=on,
            summary="AIM held",
            family_engaged="engaged",
        ),
    )
    ctx.commit()
    return item


def test_entering_level_two_and_holding_an_aim_arm_their_clocks(context, db, clock):
    case_id = _level_two_case(context, db, clock)
    # Knowsley's cap is the end of the half term: Wed 20 Nov 2024 is in the second half of
    # the autumn term (Mon 4 Nov - Fri 20 Dec), whose last school day is Fri 20 Dec 2024.
    assert _pending(db, case_id) == {"level_2_cap": date(2024, 12, 20)}
    _aim(context, case_id, date(2024, 11, 20))
    assert _pending(db, case_id) == {
        "level_2_cap": date(2024, 12, 20),
        "aim_review": date(2024, 12, 11),  # 3 school weeks: weeks of 25 Nov, 2 Dec, 9 Dec
        # 6 school weeks after Wed 20 Nov: 25 Nov (1), 2 Dec (2), 9 Dec (3), 16 Dec (4);
        # the weeks of 23 and 30 Dec are the Christmas holiday (no sessions, skipped);
        # 6 Jan (5), 13 Jan (6): Wed 15 Jan 2025.
        "aim_escalation": date(2025, 1, 15),
    }
    with db.factory() as session:
        # Each clock started is named in the event of the change that started it.
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        armed = [c["kind"] for e in events for c in e.data.get("clocks", {}).get("armed", [])]
        assert sorted(armed) == ["aim_escalation", "aim_review", "level_2_cap"]
        review = session.scalars(select(Deadline).where(Deadline.kind == "aim_review")).one()
        assert review.unit == "school_weeks" and review.amount == 3
        assert "3 school weeks after 2024-11-20" in review.rule
        assert review.remind_on == date(2024, 12, 9)  # 2 school days before Wed 11 Dec


def test_recording_the_review_cancels_it_and_leaving_level_two_cancels_the_rest(context, db, clock):
    case_id = _level_two_case(context, db, clock)
    aim = _aim(context, case_id, date(2024, 11, 20))
    at(clock, date(2024, 12, 11))
    ctx = context("traded")
    record_outcome(
        ctx,
        case_id,
        aim.id,
        RecordOutcome("not_improved", "not_engaged", "3-week review: no change"),
    )
    ctx.commit()
    assert "aim_review" not in _pending(db, case_id)
    ctx = context("traded")
    case = ctx.case(case_id)
    fire_trigger(
        ctx,
        case_id,
        FireTrigger("advance_to_formalise_support", case.version, reason="AIM has not worked"),
    )
    ctx.commit()
    # Out of Level 2: its clocks stop; Level 3's starts (Wed 11 Dec + 6 school weeks: 16 Dec
    # (1), Christmas holiday weeks of 23 and 30 Dec skipped, 6 Jan (2), 13 Jan (3), 20 Jan (4),
    # 27 Jan (5), 3 Feb (6): Wed 5 Feb 2025).
    assert _pending(db, case_id) == {"level_3_review": date(2025, 2, 5)}
    with db.factory() as session:
        cancelled = session.scalars(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "cancelled")
        ).all()
        assert {d.kind for d in cancelled} == {"aim_review", "aim_escalation", "level_2_cap"}
        assert all(d.cancel_reason for d in cancelled)
        move = session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.to_stage == "formalise_support"
            )
        ).one()
        # The review was stopped by its outcome; leaving Level 2 stopped the other two.
        stopped = {c["kind"] for c in move.data["clocks"]["stopped"]}
        assert stopped == {"aim_escalation", "level_2_cap"}
        assert [c["kind"] for c in move.data["clocks"]["armed"]] == ["level_3_review"]
        move = session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.to_stage == "formalise_support"
            )
        ).one()
        assert {c["kind"] for c in move.data["clocks"]["stopped"]} == {
            "aim_escalation",
            "level_2_cap",
        }  # the review was stopped by its outcome
        assert [c["kind"] for c in move.data["clocks"]["armed"]] == ["level_3_review"]


def test_a_late_scheduler_fires_everything_missed_once_and_escalates(context, db, clock):
    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    at(clock, date(2025, 2, 3))  # the scheduler was down for weeks
    first = sweep(db.factory, clock)
    again = sweep(db.factory, clock)
    assert (first.fired, again.fired) == (3, 0)
    with db.factory() as session:
        passed = session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "deadline_passed"
            )
        ).all()
        assert sorted(e.data["kind"] for e in passed) == [
            "aim_escalation",
            "aim_review",
            "level_2_cap",
        ]
        assert {e.data["escalated_to"] for e in passed} == {"Manager"}
        assert all(e.actor_id is None and e.actor_name == "Casework scheduler" for e in passed)
        statuses = session.scalars(select(Deadline.status).where(Deadline.case_id == case_id))
        assert set(statuses) == {"fired"}


def test_owners_are_reminded_once_before_the_due_date(context, db, clock):
    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    at(clock, date(2024, 12, 6))
    assert sweep(db.factory, clock).reminded == 0
    at(clock, date(2024, 12, 9))  # two school days before the review on Wed 11 Dec
    assert sweep(db.factory, clock).reminded == 1
    assert sweep(db.factory, clock).reminded == 0
    with db.factory() as session:
        reminders = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == "deadline_reminder")
        )
        assert reminders == 1


def test_two_schedulers_racing_never_fire_a_clock_twice(context, db, clock):
    for pupil, school in (
        (db.world.pupil_oak, db.world.oakfield),
        (db.world.pupil_river, db.world.riverside),
    ):
        _aim(context, _level_two_case(context, db, clock, pupil, school), date(2024, 11, 20))
    at(clock, date(2025, 3, 3))
    barrier = threading.Barrier(2)
    results = []

    def run(name):
        barrier.wait()
        results.append(sweep(db.factory, clock, name))

    threads = [threading.Thread(target=run, args=(f"s{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.fired for r in results) == 6
    with db.factory() as session:
        per_deadline = Counter(
            event.data["deadline"]
            for event in session.scalars(
                select(CaseEvent).where(CaseEvent.kind == "deadline_passed")
            )
        ).items()
        assert len(per_deadline) == 6 and all(n == 1 for _, n in per_deadline)


def test_my_deadlines_are_grouped_by_when_they_fall_and_feed_to_a_calendar(
    client_as, context, db, clock
):
    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    at(clock, date(2024, 12, 11))
    client = client_as("traded")
    mine = client.get("/api/deadlines").json()
    assert [d["kind"] for d in mine["due_today"]] == ["aim_review"]
    assert {d["kind"] for d in mine["later"]} == {"aim_escalation", "level_2_cap"}
    assert client_as("oak_lead").get("/api/deadlines").json()["due_today"] == []
    assert (
        len(
            client_as("oak_lead")
            .get("/api/deadlines", params={"everything": True})
            .json()["due_today"]
        )
        == 1
    )
    assert client_as("hill_lead").get(f"/api/deadlines/cases/{case_id}").status_code == 404

    url = client.post("/api/deadlines/feed").json()["url"]
    path = url.split("testserver.local", 1)[-1]
    anonymous = client_as("hill_lead")  # any client; the address itself is the key
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert b"AIM action-plan review" in feed.content and b"Ashdown" not in feed.content
    assert client.delete("/api/deadlines/feed").status_code == 204
    assert anonymous.get(path).status_code == 404


def test_health_reports_the_last_sweep_and_what_is_due(client_as, app, context, db, clock):
    from litestar.testing import TestClient

    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    # All three are due by Wed 15 Jan 2025: review Wed 11 Dec, cap Fri 20 Dec, escalation
    # Wed 15 Jan (see the first test).
    at(clock, date(2025, 1, 15))
    with TestClient(app) as client:
        before = client.get("/health").json()
        assert before["last_sweep_at"] is None and before["due_unfired"] == 3
        sweep(db.factory, clock)
        after = client.get("/health").json()
        assert after["last_sweep_at"] is not None and after["due_unfired"] == 0


def _inset(client_as, db, day: str):
    posted = client_as("oak_lead").post(
        f"/api/schools/{db.world.oakfield}/calendar/overrides",
        json={"kind": "inset_day", "first": day, "reason": "Staff training"},
    )
    assert posted.status_code == 201, posted.text
    return posted.json()


def _events(db, case_id: int, kind: str) -> list[CaseEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                .order_by(CaseEvent.sequence)
            )
        )


def test_an_inset_day_in_a_pending_review_window_moves_it_by_one_school_day(
    client_as, context, db, clock
):
    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    before = _pending(db, case_id)
    assert before["aim_review"] == date(2024, 12, 11)
    # An INSET day on Wed 11 Dec 2024, the review's landing day (3 school weeks after Wed
    # 20 Nov: weeks of 25 Nov, 2 Dec, 9 Dec), so the review falls on the next school day,
    # Thu 12 Dec. The escalation (Wed 15 Jan) and the cap (Fri 20 Dec) do not move: the week of
    # 9 Dec is still a school week and the half term still ends on Fri 20 Dec.
    body = _inset(client_as, db, "2024-12-11")
    assert _pending(db, case_id) == before | {"aim_review": date(2024, 12, 12)}
    assert [(m["kind"], m["old_due_on"], m["new_due_on"]) for m in body["moved"]] == [
        ("aim_review", "2024-12-11", "2024-12-12")
    ]
    with db.factory() as session:
        review = session.scalars(select(Deadline).where(Deadline.kind == "aim_review")).one()
        # 2 school days before Thu 12 Dec, skipping the INSET day: Tue 10 (1), Mon 9 Dec (2).
        assert review.remind_on == date(2024, 12, 9)
    [moved] = _events(db, case_id, "deadline_moved")
    assert moved.data["old_due_on"] == "2024-12-11" and moved.data["new_due_on"] == "2024-12-12"
    assert moved.data["kind"] == "aim_review"
    assert "from Wed 11 Dec 2024 to Thu 12 Dec 2024" in moved.reason
    assert "INSET day on Wed 11 Dec 2024" in moved.reason and "Staff training" in moved.reason
    assert moved.actor_id == db.world.users["oak_lead"]


def test_a_calendar_change_outside_every_window_moves_nothing(client_as, context, db, clock):
    case_id = _level_two_case(context, db, clock)
    _aim(context, case_id, date(2024, 11, 20))
    before = _pending(db, case_id)
    # Mon 3 Feb 2025 is after every pending window (the latest ends Wed 15 Jan 2025).
    body = _inset(client_as, db, "2025-02-03")
    assert body["moved"] == []
    assert _pending(db, case_id) == before
    assert _events(db, case_id, "deadline_moved") == []


def test_a_posted_penalty_notice_starts_its_28_days_at_deemed_receipt(context, db, clock):
    # The 28 days are armed by issuing the notice (one clock per parent's notice); a penalty
    # notice can no longer be recorded by hand as an intervention.
    import pytest

    from casework.errors import InvalidInput
    from casework.models import Contact, PupilContact
    from casework.registers.store import Recorder, record_marks
    from casework.vocabulary import CaseKind, Stage
    from workflows.penalties.requests import (
        IssueFromRequest,
        MakeRequest,
        issue_from_request,
        make_request,
    )

    at(clock, date(2024, 12, 20))
    ctx = context("oak_lead")
    # A holiday Mon 9 - Fri 13 Dec 2024 with no application for leave: 10 sessions of G.
    record_marks(
        ctx.session,
        pupil_id=db.world.pupil_oak,
        school_id=db.world.oakfield,
        marks=[(date(2024, 12, d), half, "G") for d in range(9, 14) for half in ("AM", "PM")],
        by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
        reason=None,
        source="manual",
        at=ctx.now(),
    )
    case = open_case(
        ctx,
        OpenCase(
            db.world.pupil_oak,
            db.world.oakfield,
            CaseKind.TERM_TIME_HOLIDAY,
            Stage.MONITOR,
            "holiday",
        ),
    )
    with pytest.raises(InvalidInput) as refused:
        record_intervention(
            ctx,
            case.id,
            RecordIntervention(
                kind="penalty_notice", occurred_on=date(2024, 12, 20), summary="notice posted"
            ),
        )
    assert [p.field for p in refused.value.problems] == ["kind"]
    request = make_request(
        ctx, MakeRequest(case.id, "holiday", "Holiday 9-13 Dec; no application was made")
    )
    ctx.commit()
    assert "penalty_notice_unpaid" not in _pending(db, case.id)

    with db.factory() as session:
        dana = session.scalar(
            select(Contact.id)
            .join(PupilContact, PupilContact.contact_id == Contact.id)
            .where(PupilContact.pupil_id == db.world.pupil_oak, Contact.forename == "Dana")
        )
    ctx = context("statutory")
    _, [notice] = issue_from_request(
        ctx, request.id, IssueFromRequest(date(2024, 12, 20), contact_ids=[dana])
    )
    ctx.commit()
    # Posted Fri 20 Dec 2024: deemed received on the 2nd working day after posting, Mon 23 (1),
    # Tue 24 Dec (2); the 28 days beginning with Tue 24 Dec end Mon 20 Jan 2025, so the
    # notice is unpaid, and the prosecute-or-withdraw decision due, on Tue 21 Jan 2025
    # (RULES.md §2.3).
    assert (notice.posted_on, notice.received_on, notice.pay_by) == (
        date(2024, 12, 20),
        date(2024, 12, 24),
        date(2025, 1, 20),
    )
    assert _pending(db, case.id)["penalty_notice_unpaid"] == date(2025, 1, 21)
    with db.factory() as session:
        row = session.scalars(
            select(Deadline).where(Deadline.kind == "penalty_notice_unpaid")
        ).one()
        assert row.details["subject"] == f"penalty_notice:{notice.id}"
        assert row.due_on == date(2025, 1, 21)


def test_six_weeks_of_school_action_prompt_a_level_two_decision(context, db, clock):
    # Knowsley 2024/25: first school action Tue 10 Sep; six school weeks are the weeks of
    # 16, 23, 30 Sep and 7, 14, 21 Oct (half term starts 28 Oct) -> Tue 22 Oct 2024.
    at(clock, date(2024, 9, 12))
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="93%"))
    for kind, on in (("phone_call", date(2024, 9, 10)), ("letter", date(2024, 9, 12))):
        record_intervention(
            ctx,
            case.id,
            RecordIntervention(kind=kind, occurred_on=on, summary=kind, family_engaged="engaged"),
        )
    ctx.commit()
    # The second action does not restart the six weeks.
    assert _pending(db, case.id) == {"level_1_review": date(2024, 10, 22)}
    at(clock, date(2024, 10, 22))
    ctx = context("traded")
    case = ctx.case(case.id)
    fire_trigger(
        ctx,
        case.id,
        FireTrigger(
            "advance_to_facilitate_support",
            case.version,
            reason="Level 2",
            rationales=EVERY_RATIONALE,
        ),
    )
    ctx.commit()
    assert "level_1_review" not in _pending(db, case.id)


def test_a_passed_deadline_stays_overdue_until_its_action_happens(client_as, context, db, clock):
    case_id = _level_two_case(context, db, clock)
    aim = _aim(context, case_id, date(2024, 11, 20))
    at(clock, date(2024, 12, 13))  # two days after the review was due on Wed 11 Dec
    assert sweep(db.factory, clock).fired == 1
    client = client_as("traded")
    overdue = client.get("/api/deadlines").json()["overdue"]
    assert [(d["kind"], d["status"]) for d in overdue] == [("aim_review", "fired")]
    ctx = context("traded")
    record_outcome(ctx, case_id, aim.id, RecordOutcome("some_improvement", "engaged", "reviewed"))
    ctx.commit()
    assert client.get("/api/deadlines").json()["overdue"] == []
    with db.factory() as session:
        review = session.scalars(select(Deadline).where(Deadline.kind == "aim_review")).one()
        assert review.status == "done_late" and review.fired_at is not None
