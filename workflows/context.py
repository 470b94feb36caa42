"""What every service call works within: the transaction, who is acting, what they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendars import TermCalendar, school_calendar
from casework.clock import Clock, today
from casework.errors import Forbidden, NotFound
from casework.events import Actor, append_event
from casework.models import Case, CaseEvent, LocalAuthority, User
from casework.scope import Scope
from casework.vocabulary import Role
from config.profiles import Profile, load_profile


@dataclass
class Context:
    session: Session
    actor: User
    scope: Scope
    clock: Clock
    profile: Profile
    # Each school's calendar, built once per request (see ``calendar_for``).
    _calendars: dict[int, TermCalendar] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def build(cls, session: Session, actor: User, clock: Clock) -> Context:
        la = session.get(LocalAuthority, actor.la_id)
        profile = load_profile(la.profile)
        return cls(session, actor, Scope.for_user(actor, profile.statutory_stages), clock, profile)

    @classmethod
    def system(cls, session: Session, clock: Clock, profile: Profile) -> Context:
        """For the daily scan: no user and no scope. Only what needs neither may be used
        (clocks, calendars, the profile); events are appended with a system actor."""
        return cls(session, None, None, clock, profile)  # type: ignore[arg-type]

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today(self.clock)

    def calendar_for(self, school_id: int) -> TermCalendar:
        """The school's own calendar (its LA's term dates, its own changes, bank holidays),
        built once per Context. Years nobody has published are generated from the LA's pattern
        (provisional), so only a day outside the years a pattern covers (before 2000/01 or after
        2099/00) raises ``casework.calendars.OutsideCalendar``: guards turn that into a refusal
        reason and clocks into a 422 naming the date (never a 500)."""
        found = self._calendars.get(school_id)
        if found is None:
            found = self._calendars[school_id] = school_calendar(self.session, school_id)
        return found

    def forget_calendar(self, school_id: int | None = None) -> None:
        """Drop the cached calendar(s), after a calendar change in this transaction."""
        if school_id is None:
            self._calendars.clear()
        else:
            self._calendars.pop(school_id, None)

    def require_role(self, *roles: Role, doing: str) -> None:
        if Role(self.actor.role) not in roles:
            allowed = ", ".join(r.value.replace("_", " ") for r in roles)
            raise Forbidden(f"only {allowed} may {doing}")

    def case(self, case_id: int, *, for_update: bool = False) -> Case:
        query = select(Case).where(Case.id == case_id, self.scope.cases())
        if for_update:
            query = query.with_for_update(of=Case)
        found = self.session.scalars(query).first()
        if found is None:
            raise NotFound("case", case_id)
        return found

    def record(
        self,
        case: Case,
        kind: str,
        *,
        reason: str | None = None,
        from_stage: str | None = None,
        to_stage: str | None = None,
        data: dict[str, Any] | None = None,
        intervention_id: int | None = None,
    ) -> CaseEvent:
        return append_event(
            self.session,
            case,
            Actor(self.actor.id, self.actor.full_name, self.actor.position),
            self.now(),
            kind,
            reason=reason,
            from_stage=from_stage,
            to_stage=to_stage,
            data=data,
            intervention_id=intervention_id,
        )

    def commit(self) -> None:
        self.session.commit()
