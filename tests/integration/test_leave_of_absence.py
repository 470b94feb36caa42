"""Leave of absence in term time, on SQLite and PostgreSQL: the parent's application, the
headteacher's decision (exceptional circumstances only, never retrospective), and the leave as
taken laid in the register (C where authorised, G on the rest; RULES.md §2.6).

Dates are Knowsley 2024/25 (config/calendars/knowsley.toml): autumn term Mon 2 Sep - Fri 20 Dec
2024 with the October half term Mon 28 Oct - Fri 1 Nov.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.errors import InvalidInput
from casework.models import Contact, LeaveDecision, LeaveRequest, PupilContact
from casework.registers.store import Recorder, amendments_of, record_marks, register_extract
from workflows.penalties.leave import (
    ApplyForLeave,
    DecideLeave,
    apply_for_leave,
    decide_leave,
    leave_bundle,
    record_leave_taken,
)


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def _parent(db, pupil_id: int, forename: str = "Dana") -> int:
    with db.factory() as session:
        return session.scalar(
            select(Contact.id)
            .join(PupilContact, PupilContact.contact_id == Contact.id)
            .where(PupilContact.pupil_id == pupil_id, Contact.forename == forename)
        )


def _apply(context, db, *, applied_on, first_day, last_day, contact_id=None):
    ctx = context("oak_lead")
    request = apply_for_leave(
        ctx,
        ApplyForLeave(
            db.world.pupil_oak,
            db.world.oakfield,
            contact_id or _parent(db, db.world.pupil_oak),
            applied_on,
            first_day,
            last_day,
            "grandparent's 80th birthday abroad",
        ),
    )
    ctx.commit()
    return request.id


def _decide(context, request_id: int, decision: str, **changes) -> LeaveDecision:
    command = DecideLeave(
        decision=decision,
        exceptional_circumstances=changes.pop("exceptional_circumstances", True),
        reasons=changes.pop("reasons", "considered under the school's leave policy"),
        decided_on=changes.pop("decided_on", date(2024, 10, 1)),
        decided_by_name="Pat Head",
        decided_by_position="Headteacher",
        **changes,
    )
    ctx = context("oak_lead")
    made = decide_leave(ctx, request_id, command)
    ctx.commit()
    return made


def _fields(raised: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {p.field for p in raised.value.problems}


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        pytest.param(
            {"first_day": date(2024, 11, 8), "last_day": date(2024, 11, 4)},
            "last_day",
            "before the first day (2024-11-08)",
            id="last-day-before-first-day",
        ),
        # Today is Tue 1 Oct 2024: an application cannot be dated tomorrow.
        pytest.param(
            {"applied_on": date(2024, 10, 2)},
            "applied_on",
            "cannot be in the future",
            id="applied-in-the-future",
        ),
        pytest.param(
            {"contact": "not the pupil's"},
            "contact_id",
            "not a contact recorded for the pupil",
            id="contact-not-the-pupils",
        ),
    ],
)
def test_an_application_is_checked_field_by_field(context, db, clock, changes, field, says):
    at(clock, date(2024, 10, 1))
    command = {
        "applied_on": date(2024, 9, 30),
        "first_day": date(2024, 11, 4),
        "last_day": date(2024, 11, 8),
        "contact_id": _parent(db, db.world.pupil_oak),
    }
    changes = dict(changes)  # the row is shared by both engines' runs
    if changes.pop("contact", None):
        # A contact who exists, but is not recorded for Cara (Hillcrest): Dana Ashdown.
        with db.factory() as session:
            hill = set(
                session.scalars(
                    select(PupilContact.contact_id).where(
                        PupilContact.pupil_id == db.world.pupil_hill
                    )
                )
            )
        assert command["contact_id"] not in hill
    command |= changes
    ctx = context("hill_lead" if field == "contact_id" else "oak_lead")
    pupil, school = (
        (db.world.pupil_hill, db.world.hillcrest)
        if field == "contact_id"
        else (db.world.pupil_oak, db.world.oakfield)
    )
    with pytest.raises(InvalidInput) as raised:
        apply_for_leave(
            ctx,
            ApplyForLeave(
                pupil,
                school,
                command["contact_id"],
                command["applied_on"],
                command["first_day"],
                command["last_day"],
                "holiday",
            ),
        )
    assert _fields(raised) == {field}
    assert says in raised.value.problems[0].rule
    ctx.session.rollback()
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(LeaveRequest)) == 0


def test_leave_is_authorised_only_for_exceptional_circumstances(context, db, clock):
    at(clock, date(2024, 10, 1))
    request_id = _apply(
        context,
        db,
        applied_on=date(2024, 9, 30),
        first_day=date(2024, 11, 4),
        last_day=date(2024, 11, 8),
    )
    for decision in ("authorised", "partly_authorised"):
        extra = (
            {"authorised_from": date(2024, 11, 4), "authorised_to": date(2024, 11, 5)}
            if decision == "partly_authorised"
            else {}
        )
        with pytest.raises(InvalidInput) as raised:
            _decide(context, request_id, decision, exceptional_circumstances=False, **extra)
        assert _fields(raised) == {"exceptional_circumstances"}
        assert "only in exceptional circumstances" in raised.value.problems[0].rule
    # Refusing needs no exceptional circumstances; and nothing was recorded before it.
    refused = _decide(context, request_id, "refused", exceptional_circumstances=False)
    assert refused.decision == "refused"
    assert (refused.authorised_from, refused.school_days_authorised) == (None, 0)


@pytest.mark.parametrize(
    ("applied_on", "retrospective"),
    [
        # The leave begins Mon 4 Nov 2024.
        pytest.param(date(2024, 11, 3), False, id="the-day-before"),
        pytest.param(date(2024, 11, 4), True, id="on-the-first-day"),
        pytest.param(date(2024, 11, 6), True, id="during-the-leave"),
    ],
)
def test_leave_cannot_be_authorised_retrospectively(context, db, clock, applied_on, retrospective):
    at(clock, date(2024, 11, 11))
    request_id = _apply(
        context,
        db,
        applied_on=applied_on,
        first_day=date(2024, 11, 4),
        last_day=date(2024, 11, 8),
    )
    decided_on = date(2024, 11, 11)
    if not retrospective:
        made = _decide(context, request_id, "authorised", decided_on=decided_on)
        # Mon 4 - Fri 8 Nov 2024: five school days.
        assert (made.authorised_from, made.authorised_to) == (date(2024, 11, 4), date(2024, 11, 8))
        assert made.school_days_authorised == 5
        return
    with pytest.raises(InvalidInput) as raised:
        _decide(context, request_id, "authorised", decided_on=decided_on)
    assert _fields(raised) == {"decision"}
    assert "cannot be authorised retrospectively" in raised.value.problems[0].rule
    # A refusal of a late application is still recorded.
    assert _decide(context, request_id, "refused", decided_on=decided_on).decision == "refused"


# Asked for Mon 21 Oct - Fri 8 Nov 2024, across the October half term (28 Oct - 1 Nov).
ASKED = (date(2024, 10, 21), date(2024, 11, 8))


def _partly_authorised(context, db, clock) -> tuple[int, LeaveDecision]:
    at(clock, date(2024, 10, 1))
    request_id = _apply(
        context, db, applied_on=date(2024, 9, 30), first_day=ASKED[0], last_day=ASKED[1]
    )
    made = _decide(
        context,
        request_id,
        "partly_authorised",
        reasons="funeral abroad: the days around it only",
        authorised_from=date(2024, 10, 24),
        authorised_to=date(2024, 11, 5),
    )
    return request_id, made


def test_partly_authorised_leave_counts_school_days_only(context, db, clock):
    _, made = _partly_authorised(context, db, clock)
    # Thu 24 Oct - Tue 5 Nov is 13 calendar days and 9 weekdays, but only Thu 24, Fri 25 Oct
    # and Mon 4, Tue 5 Nov are school days (the half term and weekends are not).
    assert (made.authorised_from, made.authorised_to) == (date(2024, 10, 24), date(2024, 11, 5))
    assert made.school_days_authorised == 4


def test_partly_authorised_days_must_lie_inside_the_dates_asked_for(context, db, clock):
    at(clock, date(2024, 10, 1))
    request_id = _apply(
        context, db, applied_on=date(2024, 9, 30), first_day=ASKED[0], last_day=ASKED[1]
    )
    for start, end in ((date(2024, 10, 18), date(2024, 10, 22)), (None, date(2024, 10, 22))):
        with pytest.raises(InvalidInput) as raised:
            _decide(
                context,
                request_id,
                "partly_authorised",
                authorised_from=start,
                authorised_to=end,
            )
        assert _fields(raised) == {"authorised_from"}


def test_leave_taken_is_laid_as_c_and_g_on_school_days_only(context, db, clock):
    request_id, _ = _partly_authorised(context, db, clock)
    # Before the leave was known, the school marked Mon 21 Oct and Tue 22 Oct AM as N.
    at(clock, date(2024, 10, 22))
    ctx = context("oak_lead")
    record_marks(
        ctx.session,
        pupil_id=db.world.pupil_oak,
        school_id=db.world.oakfield,
        marks=[
            (date(2024, 10, 21), "AM", "N"),
            (date(2024, 10, 21), "PM", "N"),
            (date(2024, 10, 22), "AM", "N"),
        ],
        by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
        reason=None,
        source="manual",
        at=ctx.now(),
    )
    ctx.commit()

    at(clock, date(2024, 11, 11))
    ctx = context("oak_lead")
    laid = record_leave_taken(ctx, request_id, ASKED[0], ASKED[1])
    ctx.commit()
    # School days: Mon 21 - Fri 25 Oct and Mon 4 - Fri 8 Nov, 10 days, 20 sessions.
    assert laid == 20
    authorised = {date(2024, 10, 24), date(2024, 10, 25), date(2024, 11, 4), date(2024, 11, 5)}
    school_days = [date(2024, 10, d) for d in range(21, 26)] + [
        date(2024, 11, d) for d in range(4, 9)
    ]
    with db.factory() as session:
        extract = register_extract(
            session, db.world.pupil_oak, db.world.oakfield, ASKED[0], ASKED[1]
        )
        assert extract == [
            (day, half, "C" if day in authorised else "G")
            for day in school_days
            for half in ("AM", "PM")
        ]
        amended = amendments_of(session, db.world.pupil_oak, db.world.oakfield, *ASKED)
    assert [(a.day, a.session, a.original, a.new) for a in amended] == [
        (date(2024, 10, 21), "AM", "N", "G"),
        (date(2024, 10, 21), "PM", "N", "G"),
        (date(2024, 10, 22), "AM", "N", "G"),
    ]
    for amendment in amended:
        assert amendment.reason == f"leave of absence request {request_id}: partly_authorised"
        assert amendment.source == "leave_of_absence"
        assert amendment.by_user_id == db.world.users["oak_lead"]


def test_leave_taken_needs_a_decision_and_school_days(context, db, clock):
    at(clock, date(2024, 10, 1))
    request_id = _apply(
        context, db, applied_on=date(2024, 9, 30), first_day=ASKED[0], last_day=ASKED[1]
    )
    at(clock, date(2024, 11, 11))
    ctx = context("oak_lead")
    with pytest.raises(InvalidInput) as raised:
        record_leave_taken(ctx, request_id, ASKED[0], ASKED[1])
    assert _fields(raised) == {"request_id"}
    ctx.session.rollback()
    _decide(context, request_id, "refused", exceptional_circumstances=False)
    ctx = context("oak_lead")
    # Only the half term (Mon 28 Oct - Fri 1 Nov): no school sessions to mark.
    with pytest.raises(InvalidInput) as raised:
        record_leave_taken(ctx, request_id, date(2024, 10, 26), date(2024, 11, 3))
    assert _fields(raised) == {"first_absent"}
    # Nor a leave taken that has not ended yet (today is Mon 11 Nov).
    with pytest.raises(InvalidInput) as raised:
        record_leave_taken(ctx, request_id, date(2024, 11, 4), date(2024, 11, 12))
    assert _fields(raised) == {"last_absent"}


def test_a_request_is_decided_once(context, db, clock):
    request_id, _ = _partly_authorised(context, db, clock)
    with pytest.raises(InvalidInput) as raised:
        _decide(context, request_id, "refused", exceptional_circumstances=False)
    assert _fields(raised) == {"request_id"}
    assert "already recorded" in raised.value.problems[0].rule
    with db.factory() as session:
        [kept] = session.scalars(select(LeaveDecision)).all()
        assert kept.decision == "partly_authorised"


def test_the_leave_bundle_keeps_request_decision_and_register_together(context, db, clock):
    request_id, made = _partly_authorised(context, db, clock)
    at(clock, date(2024, 11, 11))
    ctx = context("oak_lead")
    record_leave_taken(ctx, request_id, ASKED[0], ASKED[1])
    ctx.commit()
    ctx = context("oak_lead")
    bundle = leave_bundle(ctx, request_id)
    assert bundle["request"].id == request_id
    assert (bundle["request"].first_day, bundle["request"].last_day) == ASKED
    assert bundle["decision"].id == made.id
    assert bundle["decision"].decision == "partly_authorised"
    assert bundle["decision"].reasons == "funeral abroad: the days around it only"
    register = bundle["register"]
    assert len(register) == 20
    assert register[0] == (date(2024, 10, 21), "AM", "G")
    assert register[6] == (date(2024, 10, 24), "AM", "C")
    assert register[-1] == (date(2024, 11, 8), "PM", "G")
    with db.factory() as session:
        assert register == register_extract(session, db.world.pupil_oak, db.world.oakfield, *ASKED)
