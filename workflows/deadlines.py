"""Views of the clocks: a user's deadlines by when they fall, and their calendar feed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.models import Case, LocalAuthority, User
from casework.models.deadlines import CalendarFeed, Deadline
from casework.scope import Scope
from config.profiles import load_profile
from workflows.clocks import FIRED, OPEN
from workflows.context import Context


def open_deadlines(
    session: Session,
    scope: Scope,
    *,
    owner_id: int | None = None,
    school_id: int | None = None,
    case_id: int | None = None,
) -> list[tuple[Deadline, Case]]:
    query = (
        select(Deadline, Case)
        .join(Case, Case.id == Deadline.case_id)
        .where(Deadline.status.in_(OPEN), scope.cases())
        .order_by(Deadline.due_on, Deadline.id)
    )
    if owner_id is not None:
        query = query.where(Case.owner_id == owner_id)
    if school_id is not None:
        query = query.where(Case.school_id == school_id)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    return [(d, c) for d, c in session.execute(query)]


def bucket(rows: list[tuple[Deadline, Case]], day: date) -> dict[str, list[tuple[Deadline, Case]]]:
    """Overdue (including passed and escalated but not yet actioned), today, the rest of this
    week (to Sunday), later."""
    week_end = day + timedelta(days=6 - day.weekday())
    out: dict[str, list[tuple[Deadline, Case]]] = {
        "overdue": [],
        "today": [],
        "this_week": [],
        "later": [],
    }
    for deadline, case in rows:
        if deadline.status == FIRED or deadline.due_on < day:
            out["overdue"].append((deadline, case))
        elif deadline.due_on == day:
            out["today"].append((deadline, case))
        elif deadline.due_on <= week_end:
            out["this_week"].append((deadline, case))
        else:
            out["later"].append((deadline, case))
    return out


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(ctx: Context) -> str:
    """A fresh secret feed address for the acting user; any earlier one stops working."""
    now = ctx.now()
    ctx.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == ctx.actor.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    ctx.session.add(CalendarFeed(user_id=ctx.actor.id, token_sha256=_digest(token), created_at=now))
    ctx.session.flush()
    return token


def revoke_feed(ctx: Context) -> int:
    return ctx.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == ctx.actor.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=ctx.now())
    ).rowcount


def feed_for_token(session: Session, clock: Clock, token: str) -> bytes | None:
    """The iCalendar feed of the user's own open deadlines, or None for an unknown token.

    Events carry the case reference and the clock's label only: a calendar is shared and
    synced to phones, so no pupil's name goes into it.
    """
    feed = session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.token_sha256 == _digest(token), CalendarFeed.revoked_at.is_(None)
        )
    ).first()
    user = session.get(User, feed.user_id) if feed else None
    if user is None or not user.active:
        return None
    la = session.get(LocalAuthority, user.la_id)
    scope = Scope.for_user(user, load_profile(la.profile).statutory_stages)
    calendar = Calendar()
    calendar.add("prodid", "-//Casework//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Casework deadlines")
    stamp = clock.now()
    for deadline, case in open_deadlines(session, scope, owner_id=user.id):
        event = Event()
        event.add("uid", f"deadline-{deadline.id}@casework")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + timedelta(days=1))
        event.add("summary", f"{case.reference}: {deadline.label}")
        event.add("description", deadline.rule)
        calendar.add_component(event)
    return calendar.to_ical()
