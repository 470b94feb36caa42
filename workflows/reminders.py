"""The digests: each officer's daily summary and each school's weekly one, queued in the outbox.

- Daily, per officer (traded and statutory officers, LA managers): deadlines overdue, due today
  and due the rest of this week on the cases they hold (a manager: also those held by the
  people they manage, where escalations land), cases handed to them and pupils newly flagged in
  their schools since their last digest. Nothing is queued when there is nothing to say.
  Keyed ``digest.daily.<user id>.<date>``: a rerun on the same day queues nothing new.
- Weekly (Mondays), per school: to each school-staff user of the school (else the school's
  attendance lead address): the school's deadlines overdue or due in the coming week, case
  proposals awaiting the school's decision and threshold flags raised in the past week.
  Keyed ``digest.weekly.<school id>.<user id or "lead">.<Monday>``.

Everything read goes through the reader's ``Scope``, so a digest never shows what its reader
could not open. Pupils appear by initials, year and school, with the case reference or a link.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.analytics.flags import PERSISTENT, SEVERE, THRESHOLD, flag_titles
from casework.calendars import OutsideCalendar, TermCalendar
from casework.calendars.model import long_date
from casework.calendars.store import school_calendar
from casework.clock import Clock, today
from casework.db import WRITE_INTENT
from casework.durations import is_school_week, monday_of
from casework.models import (
    Case,
    CaseProposal,
    LocalAuthority,
    OutboxMessage,
    Pupil,
    PupilFlag,
    Responsibility,
    School,
    User,
    UserSchool,
)
from casework.models.deadlines import Deadline
from casework.scope import Scope
from casework.vocabulary import OPEN_STAGES, Role, Stage, year_group
from config.profiles import Profile, load_profile
from config.settings import base_url
from notifications.outbox import enqueue
from notifications.preferences import DAILY_DIGEST, WEEKLY_DIGEST, wants_email
from notifications.reminders import case_link, initials, sender_name
from workflows.deadlines import bucket, open_deadlines

DAILY_ROLES = (Role.TRADED_OFFICER, Role.STATUTORY_OFFICER, Role.LA_MANAGER)
DAILY_KIND = "digest_daily"
WEEKLY_KIND = "digest_weekly"
# A long list helps nobody: the digest shows this many of each and says how many more.
MOST = 50
HANDED = {
    "assignment": "Assigned to you",
    "transfer": "Transferred to you",
    "referral": "Passed to you on a referral",
}


@dataclass
class DigestReport:
    day: date
    queued: int = 0
    nothing_to_say: int = 0
    opted_out: int = 0
    already_sent: int = 0
    # Schools on holiday that week: no school day, so no weekly digest (their leads are away).
    not_in_term: int = 0


def _deadline_item(deadline: Deadline, case: Case, with_owner: bool) -> dict[str, Any]:
    item = {
        "case_reference": case.reference,
        "pupil_initials": initials(case.pupil),
        "school_name": case.school.name,
        "label": deadline.label,
        "due_on": deadline.due_on.isoformat(),
        "due_on_text": long_date(deadline.due_on),
        "link": case_link(case.id),
    }
    if with_owner:
        item["owner_name"] = case.owner.full_name
    return item


def _section(title: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": title, "items": items[:MOST], "more": max(0, len(items) - MOST)}


def _profile(session: Session, la_id: int) -> Profile:
    return load_profile(session.get(LocalAuthority, la_id).profile)


def _new_flags(
    session: Session, scope: Scope, since: date, until: date, titles: dict[str, str], only=None
) -> list[dict[str, Any]]:
    query = (
        select(PupilFlag, Pupil, School)
        .join(Pupil, Pupil.id == PupilFlag.pupil_id)
        .join(School, School.id == PupilFlag.school_id)
        .where(
            PupilFlag.raised_on >= since,
            PupilFlag.raised_on < until,
            scope.pupils(),
            scope.schools(),
        )
        .order_by(School.name, PupilFlag.raised_on, Pupil.id, PupilFlag.flag)
    )
    if only is not None:
        query = query.where(PupilFlag.flag.in_(only))
    return [
        {
            "pupil_initials": initials(pupil),
            "year": year_group(pupil.nc_year),
            "school_name": school.name,
            "flag": titles.get(flag.flag, flag.flag),
            "raised_on": flag.raised_on.isoformat(),
            "raised_on_text": long_date(flag.raised_on),
            "link": f"{base_url()}/pupils/{pupil.id}",
        }
        for flag, pupil, school in session.execute(query)
    ]


def _last_digest_day(session: Session, user_id: int, day: date) -> date | None:
    """The day of the user's last daily digest before ``day`` (from its key)."""
    keys = session.scalars(
        select(OutboxMessage.key).where(
            OutboxMessage.recipient_user_id == user_id,
            OutboxMessage.kind == DAILY_KIND,
            OutboxMessage.key < f"digest.daily.{user_id}.{day.isoformat()}",
            OutboxMessage.key.like(f"digest.daily.{user_id}.%"),
        )
    )
    days = [date.fromisoformat(key.rsplit(".", 1)[1]) for key in keys]
    return max(days, default=None)


def daily_digest_content(session: Session, user: User, day: date) -> dict[str, Any] | None:
    """The sections of ``user``'s digest for ``day``, or None when there is nothing to say."""
    profile = _profile(session, user.la_id)
    scope = Scope.for_user(user, profile.statutory_stages)
    manager = Role(user.role) == Role.LA_MANAGER
    if manager:
        team = set(session.scalars(select(User.id).where(User.manager_id == user.id)))
        rows = [(d, c) for d, c in open_deadlines(session, scope) if c.owner_id in team | {user.id}]
    else:
        rows = open_deadlines(session, scope, owner_id=user.id)
    buckets = bucket(rows, day)
    since = _last_digest_day(session, user.id, day) or day - timedelta(days=1)
    since_at = datetime.combine(since, time(0), tzinfo=UTC)
    handed = session.execute(
        select(Responsibility, Case)
        .join(Case, Case.id == Responsibility.case_id)
        .where(
            Responsibility.holder_id == user.id,
            Responsibility.via != "opened",
            Responsibility.since >= since_at,
            Responsibility.since < datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1),
            scope.cases(),
        )
        .order_by(Responsibility.since, Case.id)
    ).all()
    sections = [
        _section("Overdue", [_deadline_item(d, c, manager) for d, c in buckets["overdue"]]),
        _section("Due today", [_deadline_item(d, c, manager) for d, c in buckets["today"]]),
        _section(
            "Due later this week", [_deadline_item(d, c, manager) for d, c in buckets["this_week"]]
        ),
        _section(
            "Cases handed to you",
            [
                {
                    "case_reference": c.reference,
                    "pupil_initials": initials(c.pupil),
                    "school_name": c.school.name,
                    "label": f"{HANDED.get(r.via, r.via)} on {long_date(r.since.date())}",
                    "link": case_link(c.id),
                }
                for r, c in handed
            ],
        ),
        _section(
            "Pupils newly flagged in your schools",
            _new_flags(session, scope, since, day, flag_titles(profile.analytics)),
        ),
    ]
    if not any(section["items"] for section in sections):
        return None
    return {
        "recipient_name": user.full_name,
        "day": day.isoformat(),
        "day_text": long_date(day),
        "sections": sections,
        "deadlines_link": f"{base_url()}/deadlines",
        "sender_name": sender_name(session, user.la_id),
        "reason": "you hold cases or manage people who do, and this is your daily summary "
        "of what needs doing",
    }


def queue_daily_digests(session: Session, clock: Clock, day: date) -> DigestReport:
    """Queue every officer's digest for ``day`` in the caller's transaction."""
    report = DigestReport(day)
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([r.value for r in DAILY_ROLES]))
        .order_by(User.id)
    )
    for user in users:
        key = f"digest.daily.{user.id}.{day.isoformat()}"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
            report.already_sent += 1
            continue
        if not wants_email(session, user.id, DAILY_DIGEST):
            report.opted_out += 1
            continue
        content = daily_digest_content(session, user, day)
        if content is None:
            report.nothing_to_say += 1
            continue
        enqueue(
            session,
            key=key,
            kind=DAILY_KIND,
            la_id=user.la_id,
            to_address=user.email,
            template="digest/daily_officer",
            context=content,
            subject=f"Your casework for {long_date(day)}",
            now=clock.now(),
            recipient_user_id=user.id,
        )
        report.queued += 1
    return report


def weekly_school_content(
    session: Session, school: School, day: date, reader: str, since: date | None = None
) -> dict[str, Any] | None:
    """The school's weekly digest for the week starting ``day``; None when there is nothing.
    New threshold flags are those raised from ``since`` (the last summary's Monday)."""
    if since is None:
        since = _last_summary(school_calendar(session, school), day)
    profile = _profile(session, school.la_id)
    scope = Scope(0, Role.SCHOOL_STAFF, school.la_id, frozenset({school.id}), ())
    week_end = day + timedelta(days=6)
    rows = open_deadlines(session, scope, school_id=school.id)
    buckets = bucket(rows, day)
    coming = [(d, c) for d, c in buckets["today"] + buckets["this_week"] + buckets["later"]]
    coming = [(d, c) for d, c in coming if d.due_on <= week_end]
    proposals = session.execute(
        select(CaseProposal, Pupil)
        .join(Pupil, Pupil.id == CaseProposal.pupil_id)
        .where(CaseProposal.school_id == school.id, CaseProposal.status == "open")
        .order_by(CaseProposal.proposed_on, CaseProposal.id)
    ).all()
    titles = flag_titles(profile.analytics)
    sections = [
        _section("Overdue", [_deadline_item(d, c, True) for d, c in buckets["overdue"]]),
        _section("Due this week", [_deadline_item(d, c, True) for d, c in coming]),
        _section(
            "Awaiting the school's decision: proposed cases",
            [
                {
                    "pupil_initials": initials(pupil),
                    "year": year_group(pupil.nc_year),
                    "school_name": school.name,
                    "label": titles.get(p.flag, p.flag),
                    "raised_on": p.proposed_on.isoformat(),
                    "raised_on_text": long_date(p.proposed_on),
                    "link": f"{base_url()}/pupils/{pupil.id}",
                }
                for p, pupil in proposals
            ],
        ),
        _section(
            "Threshold flags raised since the last weekly summary",
            _new_flags(session, scope, since, day, titles, only=(THRESHOLD,)),
        ),
    ]
    if not any(section["items"] for section in sections):
        return None
    return {
        "recipient_name": reader,
        "school_name": school.name,
        "day": day.isoformat(),
        "day_text": long_date(day),
        "sections": sections,
        "sender_name": sender_name(session, school.la_id),
        "reason": f"you are an attendance contact at {school.name}, and this is its weekly summary",
    }


def queue_weekly_digests(session: Session, clock: Clock, day: date) -> DigestReport:
    """Queue every school's weekly digest for the week beginning ``day`` (a Monday), for each
    school with at least one school day that week on its own calendar."""
    report = DigestReport(day)
    staff: dict[int, list[User]] = defaultdict(list)
    for user, school_id in session.execute(
        select(User, UserSchool.school_id)
        .join(UserSchool, UserSchool.user_id == User.id)
        .where(User.active.is_(True), User.role == Role.SCHOOL_STAFF.value)
        .order_by(User.id)
    ):
        staff[school_id].append(user)
    for school in session.scalars(select(School).order_by(School.id)):
        calendar = school_calendar(session, school)
        if not _in_term(calendar, day):
            report.not_in_term += 1
            continue
        readers: list[tuple[str, str, int | None, str]] = [
            (str(u.id), u.email, u.id, u.full_name) for u in staff.get(school.id, [])
        ]
        if not readers and school.attendance_lead_email:
            name = school.attendance_lead_name or "Attendance lead"
            readers = [("lead", school.attendance_lead_email, None, name)]
        content_by_reader = None
        for who, address, user_id, name in readers:
            key = f"digest.weekly.{school.id}.{who}.{day.isoformat()}"
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
                report.already_sent += 1
                continue
            if user_id is not None and not wants_email(session, user_id, WEEKLY_DIGEST):
                report.opted_out += 1
                continue
            if content_by_reader is None:
                content_by_reader = (
                    weekly_school_content(
                        session, school, day, name, since=_last_summary(calendar, day)
                    )
                    or {}
                )
            if not content_by_reader:
                report.nothing_to_say += 1
                continue
            enqueue(
                session,
                key=key,
                kind=WEEKLY_KIND,
                la_id=school.la_id,
                to_address=address,
                template="digest/weekly_school",
                context={
                    **content_by_reader,
                    "recipient_name": name,
                    # Only a user signed in to Casework has choices to make.
                    "can_choose": user_id is not None,
                },
                subject=f"{school.name}: attendance casework for the week of {long_date(day)}",
                now=clock.now(),
                recipient_user_id=user_id,
            )
            report.queued += 1
    return report


def send_daily_digests(
    factory: sessionmaker[Session], clock: Clock, day: date | None = None
) -> DigestReport:
    with factory() as session:
        # A writer from the start: on SQLite two digest runs (or a sweep) then queue for the
        # lock instead of one failing when both try to write.
        session.connection(execution_options={WRITE_INTENT: True})
        report = queue_daily_digests(session, clock, day or today(clock))
        session.commit()
    return report


def _last_summary(calendar: TermCalendar, monday: date) -> date:
    """The Monday of the school's last week in term before ``monday``: its last weekly summary,
    so flags raised over a holiday are news in the first week back."""
    previous = monday - timedelta(days=7)
    for _ in range(8):  # no English school holiday runs past seven weeks
        if _in_term(calendar, previous):
            return previous
        previous -= timedelta(days=7)
    return monday - timedelta(days=7)


def _in_term(calendar: TermCalendar, monday: date) -> bool:
    try:
        return is_school_week(calendar, monday)
    except OutsideCalendar:
        # No calendar reaches that far: send rather than fall silent.
        return True


def send_weekly_digests(
    factory: sessionmaker[Session], clock: Clock, day: date | None = None
) -> DigestReport:
    """This week's digests: keyed by the week's Monday, so a run on any day of the week (the
    scheduler's start-up catch-up, say) queues only what Monday's run has not."""
    with factory() as session:
        # A writer from the start: on SQLite two digest runs (or a sweep) then queue for the
        # lock instead of one failing when both try to write.
        session.connection(execution_options={WRITE_INTENT: True})
        report = queue_weekly_digests(session, clock, monday_of(day or today(clock)))
        session.commit()
    return report


# --- the termly targeting support meeting ------------------------------------------------------

TSM_KIND = "tsm_invitation"
# The second Monday of each term's first weeks (September, January, April), UK time.
TSM_AT = {"month": "1,4,9", "day": "8-14", "day_of_week": "mon", "hour": 7, "minute": 0}


def term_of(day: date) -> str:
    """ "Autumn 2024", "Spring 2025", "Summer 2025": the term ``day`` falls in (by month)."""
    if day.month >= 9:
        return f"Autumn {day.year}"
    if day.month <= 3 or (day.month == 4 and day.day < 14):
        return f"Spring {day.year}"
    return f"Summer {day.year}"


def school_summary(session: Session, school: School) -> dict[str, Any]:
    """The school's figures for its targeting support meeting: counts only, no pupil named."""
    flags = dict(
        session.execute(
            select(PupilFlag.flag, func.count())
            .where(PupilFlag.school_id == school.id)
            .group_by(PupilFlag.flag)
        ).all()
    )
    stages = dict(
        session.execute(
            select(Case.stage, func.count())
            .where(Case.school_id == school.id, Case.stage != Stage.CLOSED.value)
            .group_by(Case.stage)
        ).all()
    )
    return {
        "persistent_absence": flags.get(PERSISTENT, 0),
        "severe_absence": flags.get(SEVERE, 0),
        "at_threshold": flags.get(THRESHOLD, 0),
        "open_cases": [
            {"stage": stage.label, "count": stages[stage.value]}
            for stage in OPEN_STAGES
            if stages.get(stage.value)
        ],
        "open_cases_total": sum(stages.values()),
    }


def queue_tsm_invitations(session: Session, clock: Clock, day: date) -> DigestReport:
    """Invite each school (its staff users, else its attendance lead address) to this term's
    targeting support meeting, with its figures. Keyed by school, reader and term."""
    report = DigestReport(day)
    term = term_of(day)
    staff: dict[int, list[User]] = defaultdict(list)
    for user, school_id in session.execute(
        select(User, UserSchool.school_id)
        .join(UserSchool, UserSchool.user_id == User.id)
        .where(User.active.is_(True), User.role == Role.SCHOOL_STAFF.value)
        .order_by(User.id)
    ):
        staff[school_id].append(user)
    for school in session.scalars(select(School).order_by(School.id)):
        readers = [(str(u.id), u.email, u.id, u.full_name) for u in staff.get(school.id, [])]
        if not readers and school.attendance_lead_email:
            name = school.attendance_lead_name or "Attendance lead"
            readers = [("lead", school.attendance_lead_email, None, name)]
        if not readers:
            continue
        profile = _profile(session, school.la_id)
        officer = session.get(User, school.traded_officer_id) if school.traded_officer_id else None
        contact = (
            f"{officer.full_name} ({officer.email})"
            if officer is not None and officer.active
            else profile.letters.email
        )
        summary = school_summary(session, school)
        for who, address, user_id, name in readers:
            key = f"tsm.{school.id}.{who}.{term.replace(' ', '-').lower()}"
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
                report.already_sent += 1
                continue
            enqueue(
                session,
                key=key,
                kind=TSM_KIND,
                la_id=school.la_id,
                to_address=address,
                template="school/targeting_support_meeting",
                context={
                    **summary,
                    "recipient_name": name,
                    "school_name": school.name,
                    "term": term,
                    "contact": contact,
                    "la_name": profile.name,
                    "school_link": f"{base_url()}/schools/{school.id}/registers/"
                    "persistent-absentees",
                    "sender_name": sender_name(session, school.la_id),
                    "reason": f"you are an attendance contact at {school.name}, and the local "
                    "authority meets each school once a term to agree support for its pupils",
                },
                subject=f"{school.name}: targeting support meeting, {term}",
                now=clock.now(),
                recipient_user_id=user_id,
            )
            report.queued += 1
    return report


def send_tsm_invitations(
    factory: sessionmaker[Session], clock: Clock, day: date | None = None
) -> DigestReport:
    with factory() as session:
        # A writer from the start: on SQLite two digest runs (or a sweep) then queue for the
        # lock instead of one failing when both try to write.
        session.connection(execution_options={WRITE_INTENT: True})
        report = queue_tsm_invitations(session, clock, day or today(clock))
        session.commit()
    return report
