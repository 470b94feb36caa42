"""What every service call works within: the transaction, who is acting, what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import Clock, today
from casework.durations import SchoolCalendar, WeekdayCalendar
from casework.errors import Forbidden, NotFound
from casework.models import Case, CaseEvent, LocalAuthority, User
from casework.scope import Scope
from casework.vocabulary import Role
from config.profiles import Profile, load_profile
from workflows.events import Actor, append_event


@dataclass
class Context:
    session: Session
    actor: User
    scope: Scope
    clock: Clock
    profile: Profile

    @classmethod
    def build(cls, session: Session, actor: User, clock: Clock) -> Context:
        la = session.get(LocalAuthority, actor.la_id)
        profile = load_profile(la.profile)
        return cls(session, actor, Scope.for_user(actor, profile.statutory_stages), clock, profile)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today(self.clock)

    def calendar_for(self, school_id: int) -> SchoolCalendar:
        # Until school calendars exist, every working day counts as a school day.
        return WeekdayCalendar()

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
