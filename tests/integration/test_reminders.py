"""Event emails and digests: queued in the transaction that causes them, keyed so a rerun
queues nothing new, scoped to their reader, respecting each reader's choices. SQLite and
PostgreSQL. The rendered emails are compared with golden files under ``tests/golden/email``
(``CASEWORK_UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from casework.analytics.flags import PERSISTENT, SEVERE, THRESHOLD
from casework.models import CaseEvent, CaseProposal, OutboxMessage, PupilFlag, School, User
from casework.models.deadlines import Deadline
from notifications import reminders as reminders_module
from notifications.outbox import render_context
from notifications.preferences import DIGEST_ONLY, OFF, set_preferences
from notifications.rendering import render_email
from workflows import sweep as sweep_module
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.interventions import RecordIntervention, record_intervention
from workflows.reminders import send_daily_digests, send_tsm_invitations, send_weekly_digests
from workflows.responsibility import MakeReferral, accept_referral, assign, refer
from workflows.scheduler import _digest_job, configure
from workflows.sweep import sweep

GOLDEN = Path(__file__).parent.parent / "golden" / "email"
EVERY_RATIONALE = {
    "skip_rationale": "demonstration",
    "level_1_school_actions": "recorded on paper before the service",
    "early_help": "family declined in writing",
    "school_action_period": "risk too high to wait",
}


@pytest.fixture(autouse=True)
def default_links(monkeypatch):
    # The golden files hold the development address.
    monkeypatch.delenv("CASEWORK_BASE_URL", raising=False)


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def golden(name: str, message: OutboxMessage) -> None:
    """The message as it will be sent (subject, text, HTML) against ``tests/golden/email``."""
    rendered = render_email(message.template, render_context(message.context, message.subject))
    for extension, body in (
        ("txt", f"Subject: {message.subject}\n\n{rendered.text}"),
        ("html", rendered.html),
    ):
        path = GOLDEN / f"{name}.{extension}"
        if os.environ.get("CASEWORK_UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        assert path.exists(), f"{path} is missing: run with CASEWORK_UPDATE_GOLDEN=1"
        assert body == path.read_text(), f"{name}.{extension} differs from its golden file"


def level_two_case(context, db, clock) -> int:
    at(clock, date(2024, 11, 20))
    ctx = context("traded")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
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
    record_intervention(
        ctx,
        case.id,
        RecordIntervention(
            kind="attendance_improvement_meeting",
            occurred_on=date(2024, 11, 20),
            summary="AIM held",
            family_engaged="engaged",
        ),
    )
    ctx.commit()
    return case.id


def messages(db, **where) -> list[OutboxMessage]:
    with db.factory() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def choose(db, username: str, **choices) -> None:
    with db.factory() as session:
        set_preferences(
            session, db.world.users[username], choices, datetime(2024, 11, 1, tzinfo=UTC)
        )
        session.commit()


# --- event emails -----------------------------------------------------------------------------


def test_a_sweep_reminder_queues_exactly_one_email_in_its_own_transaction(
    context, db, clock, monkeypatch
):
    case_id = level_two_case(context, db, clock)
    at(clock, date(2024, 12, 9))  # two school days before the AIM review on Wed 11 Dec
    real = sweep_module.deadline_reminder_email

    def then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the process died before the commit")

    monkeypatch.setattr(sweep_module, "deadline_reminder_email", then_crash)
    with pytest.raises(RuntimeError):
        sweep(db.factory, clock)
    # Rolled back together: no reminder event, no email, the deadline still to be reminded.
    assert messages(db) == []
    with db.factory() as session:
        assert (
            session.scalar(select(CaseEvent.id).where(CaseEvent.kind == "deadline_reminder"))
            is None
        )
        assert (
            session.scalar(select(Deadline.reminded_at).where(Deadline.kind == "aim_review"))
            is None
        )

    monkeypatch.setattr(sweep_module, "deadline_reminder_email", real)
    assert sweep(db.factory, clock).reminded == 1
    assert sweep(db.factory, clock).reminded == 0
    (email,) = messages(db)
    with db.factory() as session:
        event = session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "deadline_reminder"
            )
        ).one()
    traded = db.world.users["traded"]
    assert email.key == f"event.{case_id}-{event.sequence}.{traded}"
    assert (email.kind, email.to_address, email.case_id) == (
        "deadline_reminder",
        "traded@example.org",
        case_id,
    )
    assert email.subject.endswith(": AIM review due in 2 school days")
    golden("event_deadline_reminder", email)


def test_a_passed_deadline_emails_its_owner_and_escalates_to_their_manager_once(context, db, clock):
    case_id = level_two_case(context, db, clock)
    at(clock, date(2025, 2, 3))  # the scheduler was down: three deadlines passed
    assert sweep(db.factory, clock).fired == 3
    assert sweep(db.factory, clock).fired == 0
    owner = messages(db, kind="deadline_passed")
    manager = messages(db, kind="deadline_escalated")
    assert [m.to_address for m in owner] == ["traded@example.org"] * 3
    assert [m.to_address for m in manager] == ["manager@example.org"] * 3
    assert {m.case_id for m in owner + manager} == {case_id}
    assert len({m.key for m in owner + manager}) == 6
    review = next(m for m in owner if "AIM action-plan review" in m.subject)
    golden("event_deadline_passed", review)
    golden("event_deadline_escalated", next(m for m in manager if "AIM action-plan" in m.subject))
    # What the email says about the child: the reference and initials, never the name.
    text = render_email(review.template, render_context(review.context, review.subject)).text
    assert "A.A." in text and "Amelia" not in text and "Ashdown" not in text
    assert f"http://127.0.0.1:8000/cases/{case_id}" in text
    assert "Why you received this: you hold case" in text


def test_many_deadlines_passing_at_once_are_listed_in_one_email_each(
    context, db, clock, monkeypatch
):
    monkeypatch.setattr(reminders_module, "PER_EVENT_MOST", 2)
    level_two_case(context, db, clock)
    at(clock, date(2025, 2, 3))
    assert sweep(db.factory, clock).fired == 3
    owner, manager = messages(db)
    assert (owner.kind, owner.to_address) == ("deadlines_passed", "traded@example.org")
    assert (manager.kind, manager.to_address) == ("deadlines_escalated", "manager@example.org")
    assert owner.subject == "3 deadlines have passed on cases you hold"
    assert len(owner.context["items"]) == 3
    golden("event_deadlines_passed_summary", owner)


def test_preferences_decide_who_is_emailed_per_event(context, db, clock):
    choose(db, "traded", escalations=DIGEST_ONLY, deadline_reminders=OFF)
    choose(db, "manager", escalations=OFF)
    level_two_case(context, db, clock)
    at(clock, date(2024, 12, 9))
    assert sweep(db.factory, clock).reminded == 1
    at(clock, date(2025, 2, 3))
    assert sweep(db.factory, clock).fired == 3
    assert messages(db) == []  # the passed deadlines wait for traded's digest instead
    assert send_daily_digests(db.factory, clock).queued >= 1
    (digest,) = messages(db, recipient_user_id=db.world.users["traded"])
    overdue = next(s for s in digest.context["sections"] if s["title"] == "Overdue")
    assert len(overdue["items"]) == 3


def test_a_case_handed_to_someone_tells_them(context, db, clock):
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    referral = refer(
        ctx,
        case.id,
        MakeReferral("traded", "Level 1 actions have not worked", db.world.users["traded"]),
    )
    ctx.commit()
    (referred,) = messages(db)
    assert (referred.kind, referred.to_address) == ("case_referred", "traded@example.org")
    golden("event_case_referred", referred)

    ctx = context("traded")
    accept_referral(ctx, referral.id)  # traded accepts it for themself: no email to themself
    ctx.commit()
    assert len(messages(db)) == 1

    ctx = context("manager")
    assign(ctx, case.id, db.world.users["statutory"], "needs a statutory officer")
    ctx.commit()
    transferred = messages(db, kind="case_transferred")
    assert [m.to_address for m in transferred] == ["statutory@example.org"]
    golden("event_case_transferred", transferred[0])
    assert "needs a statutory officer" not in str(transferred[0].context)
    # The next morning's digest lists it too (for readers who chose digest only).
    at(clock, date(2024, 11, 21))
    send_daily_digests(db.factory, clock)
    (handed,) = [s for s in digest_for(db, "statutory").context["sections"] if s["items"]]
    assert handed["title"] == "Cases handed to you"
    assert handed["items"][0]["label"] == "Transferred to you on Wed 20 Nov 2024"


# --- digests ----------------------------------------------------------------------------------


def flag(db, pupil: int, school: int, key: str, raised_on: date) -> None:
    with db.factory() as session:
        session.add(
            PupilFlag(
                pupil_id=pupil,
                school_id=school,
                flag=key,
                raised_on=raised_on,
                explanation="synthetic",
                figures={},
            )
        )
        session.commit()


def digest_for(db, username: str) -> OutboxMessage | None:
    found = messages(db, kind="digest_daily", recipient_user_id=db.world.users[username])
    assert len(found) <= 1
    return found[0] if found else None


def flagged(message: OutboxMessage) -> set[str]:
    return {
        item["school_name"]
        for section in message.context["sections"]
        if section["title"].startswith("Pupils newly flagged")
        for item in section["items"]
    }


def test_each_officers_daily_digest_holds_only_their_schools_and_says_nothing_when_empty(
    context, db, clock
):
    at(clock, date(2024, 11, 20))
    yesterday = date(2024, 11, 19)
    flag(db, db.world.pupil_oak, db.world.oakfield, PERSISTENT, yesterday)
    flag(db, db.world.pupil_hill, db.world.hillcrest, PERSISTENT, yesterday)
    flag(db, db.world.pupil_river, db.world.riverside, PERSISTENT, date(2024, 10, 1))  # old news
    first = send_daily_digests(db.factory, clock)
    traded, traded_two = digest_for(db, "traded"), digest_for(db, "traded_two")
    assert flagged(traded) == {"Oakfield Primary"}
    assert flagged(traded_two) == {"Hillcrest Primary"}
    assert flagged(digest_for(db, "manager")) == {"Oakfield Primary", "Hillcrest Primary"}
    # The statutory officer holds nothing and sees no pupil without a statutory case.
    assert digest_for(db, "statutory") is None
    assert (first.queued, first.nothing_to_say) == (3, 1)
    assert traded.key == f"digest.daily.{db.world.users['traded']}.2024-11-20"
    golden("digest_daily_officer", traded)
    # Names never; initials, year and school.
    assert "Amelia" not in str(traded.context) and "A.A." in str(traded.context)

    again = send_daily_digests(db.factory, clock)
    assert (again.queued, again.already_sent) == (0, 3)
    # The next day: yesterday's flags were in yesterday's digest; nothing new to say.
    at(clock, date(2024, 11, 21))
    assert send_daily_digests(db.factory, clock).queued == 0


def test_a_daily_digest_lists_deadlines_due_and_can_be_turned_off(context, db, clock):
    level_two_case(context, db, clock)
    at(clock, date(2024, 12, 9))  # the AIM review falls on Wed 11 Dec, this week
    send_daily_digests(db.factory, clock)
    digest = digest_for(db, "traded")
    (week,) = [s for s in digest.context["sections"] if s["items"]]
    assert week["title"] == "Due later this week"
    assert week["items"][0]["label"].startswith("AIM action-plan review")
    golden("digest_daily_officer_deadlines", digest)
    choose(db, "traded_two", daily_digest=OFF)
    flag(db, db.world.pupil_hill, db.world.hillcrest, PERSISTENT, date(2024, 12, 8))
    report = send_daily_digests(db.factory, clock)
    assert report.opted_out == 1 and digest_for(db, "traded_two") is None


def test_each_schools_weekly_digest_shows_only_its_own_pupils(context, db, clock):
    monday = date(2024, 11, 25)
    at(clock, monday)
    flag(db, db.world.pupil_hill, db.world.hillcrest, THRESHOLD, date(2024, 11, 21))
    flag(
        db, db.world.pupil_oak, db.world.oakfield, PERSISTENT, date(2024, 11, 21)
    )  # not a threshold
    ctx = context("oak_lead")
    open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    with db.factory() as session:
        # Riverside has no staff user this week: its attendance lead's address is used.
        river_lead = session.get(User, db.world.users["river_lead"])
        river_lead.active = False
        school = session.get(School, db.world.riverside)
        school.attendance_lead_email = "attendance@riverside.example.org"
        school.attendance_lead_name = "Mrs Lead"
        session.add(
            CaseProposal(
                pupil_id=db.world.pupil_river,
                school_id=db.world.riverside,
                flag=PERSISTENT,
                stage="monitor",
                explanation="synthetic",
                proposed_on=date(2024, 11, 21),
                status="open",
            )
        )
        session.commit()
    report = send_weekly_digests(db.factory, clock)
    sent = messages(db, kind="digest_weekly")
    by_address = {m.to_address: m for m in sent}
    # Oakfield: an open case with no deadline this week, a flag that is not a threshold: nothing.
    assert set(by_address) == {"hill_lead@example.org", "attendance@riverside.example.org"}
    hill = by_address["hill_lead@example.org"]
    schools = {i.get("school_name") for s in hill.context["sections"] for i in s["items"]}
    assert schools == {"Hillcrest Primary"}
    river = by_address["attendance@riverside.example.org"]
    assert river.recipient_user_id is None and river.context["recipient_name"] == "Mrs Lead"
    lead_text = render_email(river.template, render_context(river.context, river.subject)).text
    assert "My notifications" not in lead_text and "Dear Mrs Lead" in lead_text
    assert river.key == f"digest.weekly.{db.world.riverside}.lead.2024-11-25"
    golden("digest_weekly_school", hill)
    assert report.queued == 2
    assert send_weekly_digests(db.factory, clock).queued == 0
    # A run later in the week (the scheduler starting on a Wednesday) is this week's digest,
    # keyed by its Monday: nothing more is queued.
    again = send_weekly_digests(db.factory, clock, date(2024, 11, 27))
    assert (again.day, again.queued, again.already_sent) == (monday, 0, 2)


def test_no_weekly_digest_goes_to_a_school_in_its_holidays(db, clock):
    flag(db, db.world.pupil_hill, db.world.hillcrest, THRESHOLD, date(2024, 12, 19))
    # Mon 23 Dec 2024: the Christmas holidays, no school day that week at any school.
    at(clock, date(2024, 12, 23))
    with db.factory() as session:
        schools = len(session.scalars(select(School)).all())
    report = send_weekly_digests(db.factory, clock)
    assert (report.queued, report.not_in_term) == (0, schools)
    assert messages(db, kind="digest_weekly") == []
    # Back in term on Mon 6 Jan 2025, the flag is still news to Hillcrest's lead.
    at(clock, date(2025, 1, 6))
    assert send_weekly_digests(db.factory, clock).queued >= 1


def test_my_notification_choices_over_the_api(client_as):
    client = client_as("traded")
    mine = client.get("/api/me/notifications")
    assert mine.status_code == 200, mine.text
    assert {c["category"]: c["choice"] for c in mine.json()["categories"]} == {
        "deadline_reminders": "email",
        "escalations": "email",
        "transfers": "email",
        "daily_digest": "email",
        "weekly_digest": "email",
    }
    refused = client.put(
        "/api/me/notifications", json={"daily_digest": "digest_only", "nonsense": "off"}
    )
    assert refused.status_code == 422, refused.text
    changed = client.put("/api/me/notifications", json={"transfers": "digest_only"})
    assert changed.status_code == 200, changed.text
    chosen = {c["category"]: c["choice"] for c in changed.json()["categories"]}
    assert chosen["transfers"] == "digest_only" and chosen["escalations"] == "email"
    assert client_as("manager").get("/api/me/notifications").json()["categories"][2]["choice"] == (
        "email"
    )


def test_the_scheduler_queues_digests_at_seven_uk_time(db, clock):
    scheduler = configure(
        BackgroundScheduler(timezone=UTC), db.factory, clock, "test", retention_years=6
    )
    daily = {f.name: str(f) for f in scheduler.get_job("daily_digest").trigger.fields}
    weekly = scheduler.get_job("weekly_digest")
    assert (daily["hour"], daily["minute"], daily["day_of_week"]) == ("7", "0", "*")
    assert {f.name: str(f) for f in weekly.trigger.fields}["day_of_week"] == "mon"
    assert str(weekly.trigger.timezone) == "Europe/London"
    # Both digests also run shortly after start-up, catching up a missed 07:00.
    assert weekly.next_run_time < datetime.now(UTC) + timedelta(minutes=5)
    tsm = {f.name: str(f) for f in scheduler.get_job("tsm_invitations").trigger.fields}
    assert (tsm["month"], tsm["day"], tsm["day_of_week"]) == ("1,4,9", "8-14", "mon")
    flag(db, db.world.pupil_oak, db.world.oakfield, PERSISTENT, date(2024, 11, 19))
    _digest_job(*scheduler.get_job("daily_digest").args)
    assert {m.to_address for m in messages(db)} == {"traded@example.org", "manager@example.org"}


def test_the_digest_command_queues_a_days_digests_once(db, monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    flag(db, db.world.pupil_hill, db.world.hillcrest, THRESHOLD, date(2024, 11, 21))
    runner = CliRunner()
    first = runner.invoke(main, ["reminders", "digest", "--date", "2024-11-22"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("daily digests for 2024-11-22: 2 queued")
    again = runner.invoke(main, ["reminders", "digest", "--date", "2024-11-22"])
    assert "0 queued" in again.output and "2 already queued" in again.output
    weekly = runner.invoke(main, ["reminders", "digest", "--weekly", "--date", "2024-11-25"])
    assert weekly.output.startswith("weekly digests for 2024-11-25: 1 queued"), weekly.output
    tsm = runner.invoke(main, ["reminders", "tsm", "--date", "2025-01-13"])
    assert tsm.output.startswith("targeting support meeting invitations for 2025-01-13: 4 queued")


def test_each_school_is_invited_to_its_termly_meeting_with_its_own_figures(context, db, clock):
    at(clock, date(2025, 1, 13))
    flag(db, db.world.pupil_oak, db.world.oakfield, PERSISTENT, date(2025, 1, 10))
    flag(db, db.world.pupil_oak, db.world.oakfield, THRESHOLD, date(2025, 1, 10))
    flag(db, db.world.pupil_hill, db.world.hillcrest, SEVERE, date(2025, 1, 10))
    ctx = context("oak_lead")
    open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    report = send_tsm_invitations(db.factory, clock)
    sent = {m.to_address: m for m in messages(db, kind="tsm_invitation")}
    assert set(sent) == {
        "oak_lead@example.org",
        "oak_head@example.org",
        "river_lead@example.org",
        "hill_lead@example.org",
    }
    oak = sent["oak_lead@example.org"].context
    assert (oak["persistent_absence"], oak["severe_absence"], oak["at_threshold"]) == (1, 0, 1)
    assert oak["open_cases"] == [{"stage": "Monitor", "count": 1}]
    assert oak["contact"] == "Traded (traded@example.org)" and oak["term"] == "Spring 2025"
    hill = sent["hill_lead@example.org"].context
    assert (hill["persistent_absence"], hill["severe_absence"], hill["open_cases_total"]) == (
        0,
        1,
        0,
    )
    assert "A.A." not in str(oak) and "Amelia" not in str(oak)  # counts only
    golden("school_targeting_support_meeting", sent["oak_lead@example.org"])
    assert report.queued == 4
    at(clock, date(2025, 2, 10))  # later in the same term: already invited
    assert send_tsm_invitations(db.factory, clock).queued == 0
