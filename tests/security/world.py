"""A richer synthetic world for the security suites: the small demo LA (every role, cases at
every stage, letters, attachments, notices, proposals, imports, outbox mail) plus a second LA with
one case, so "outside scope" covers another school, another team and another authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.demo import DEMO_PASSWORD, seed_demo
from api.demo.packs import ready_pack_case
from casework.calendars.editing import CalendarChange, ChangeKind, change_school_calendar
from casework.clock import FixedClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models import (
    Case,
    CaseEvent,
    CourtPack,
    Enrolment,
    Family,
    LocalAuthority,
    OutboxMessage,
    Pupil,
    School,
    User,
)
from casework.upn import make_upn
from casework.vocabulary import EventKind, Role, Stage
from config.settings import Settings
from tests.support.csrf import csrf_client
from workflows.cases import OpenCase, open_case
from workflows.context import Context
from workflows.packs.service import PackInput, build_pack, check_pack
from workflows.registry import AddUser, create_user
from workflows.tokens import issue_token

TODAY = date(2024, 11, 20)
NOW = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)
PASSWORD = DEMO_PASSWORD

# One demo user per role (the demo's predictable sign-ins), and the integration made here.
USERS = {
    Role.SCHOOL_STAFF: "school",
    Role.TRADED_OFFICER: "traded",
    Role.STATUTORY_OFFICER: "statutory",
    Role.LA_MANAGER: "manager",
    Role.ADMIN: "admin",
    Role.INTEGRATION: "mis",
}


@dataclass(frozen=True)
class SecurityWorld:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    token: str  # the integration's bearer token

    def user(self, session: Session, role: Role) -> User:
        return session.scalars(select(User).where(User.username == USERS[role])).one()


def _other_la(session: Session) -> None:
    """Another authority with one school, family, pupil and open case."""
    la = LocalAuthority(la_number="341", name="Elsewhere (synthetic)", profile="knowsley")
    session.add(la)
    session.flush()
    school = School(
        urn="990001",
        la_id=la.id,
        establishment_number="2001",
        name="Elsewhere Primary",
        phase="primary",
        traded_service=True,
    )
    family = Family(la_id=la.id, reference="FAM-ELSE-1")
    session.add_all([school, family])
    session.flush()
    pupil = Pupil(
        upn=make_upn(341, 2001, 20, 1),
        legal_forename="Orla",
        legal_surname="Elsewhere",
        date_of_birth=date(2015, 5, 5),
        sex="F",
        nc_year=4,
        family_id=family.id,
        la_id=la.id,
    )
    session.add(pupil)
    session.flush()
    session.add(
        Enrolment(
            pupil_id=pupil.id,
            school_id=school.id,
            start_date=date(2020, 9, 1),
            registration="main",
        )
    )
    lead = create_user(
        session,
        AddUser(
            username="elsewhere_lead",
            full_name="Elsewhere Lead",
            position="Attendance lead",
            email="lead@elsewhere.example.org",
            role=Role.SCHOOL_STAFF,
            password=PASSWORD,
            school_ids=[school.id],
        ),
        la.id,
    )
    session.flush()
    ctx = Context.build(session, lead, FixedClock(NOW))
    open_case(ctx, OpenCase(pupil.id, school.id, reason="attendance below 90%"))


def _integration(session: Session) -> str:
    school = session.scalars(select(School).order_by(School.id)).first()
    admin = session.scalars(select(User).where(User.username == USERS[Role.ADMIN])).one()
    mis = create_user(
        session,
        AddUser(
            username=USERS[Role.INTEGRATION],
            full_name="School MIS",
            position="Integration",
            email="mis@example.org",
            role=Role.INTEGRATION,
            password=PASSWORD,
            school_ids=[school.id],
        ),
        admin.la_id,
    )
    session.flush()
    return issue_token(session, mis, name="MIS push", by=admin, now=NOW)


def _inset_day(session: Session) -> None:
    """One change to the first school's calendar, for the admin pages that withdraw one: in a
    later school year, so the registers already recorded stay on their calendar."""
    admin = session.scalars(select(User).where(User.username == USERS[Role.ADMIN])).one()
    school = session.scalars(select(School).order_by(School.id)).first()
    scope = Context.build(session, admin, FixedClock(NOW)).scope
    change = CalendarChange(ChangeKind.INSET_DAY, "Staff training", first=date(2026, 1, 6))
    change_school_calendar(session, scope, school, change, NOW)


def _court_pack(factory: sessionmaker[Session]) -> None:
    """The demo leaves one Enforce case ready for its pack (tests and panel recorded): the
    statutory officer builds it, so the pack routes have a pack to read in and out of scope.
    (It is at a school the school lead and traded officer do not serve: their "own" pack cells
    stay skipped.)"""
    with factory() as session:
        case_id = ready_pack_case(session)
        assert case_id is not None, "the small demo no longer leaves a case ready for its pack"
        tests = session.scalars(
            select(CaseEvent.data)
            .where(
                CaseEvent.case_id == case_id,
                CaseEvent.kind == EventKind.PACK_TESTS_RECORDED.value,
            )
            .order_by(CaseEvent.id.desc())
        ).first()
        officer = session.scalars(
            select(User).where(User.username == USERS[Role.STATUTORY_OFFICER])
        ).one()
        ctx = Context.build(session, officer, FixedClock(NOW))
        given = PackInput(
            date.fromisoformat(tests["start"]),
            date.fromisoformat(tests["end"]),
            tests["offence"],
            tests["court"],
        )
        warnings = [w.key for w in check_pack(ctx, case_id, given).warnings]
        built = build_pack(ctx, case_id, given, warnings)
        _pack_copy_at_first_school(session, built)
        session.commit()


def _pack_copy_at_first_school(session: Session, built: CourtPack) -> None:
    """The same pack recorded against an Enforce case at the first school (the school lead's
    and the traded officer's), so their "own" pack cells are asserted too. Only the record's
    place matters to the matrix, not whether that case's evidence would make this pack."""
    first = session.scalars(select(School).order_by(School.id)).first()
    case = session.scalars(
        select(Case)
        .where(Case.school_id == first.id, Case.stage == Stage.ENFORCE.value)
        .order_by(Case.id)
    ).first()
    assert case is not None, "the small demo no longer has an Enforce case at its first school"
    copied = {
        column.key: getattr(built, column.key)
        for column in CourtPack.__table__.columns
        if column.key not in ("id", "case_id", "reference")
    }
    session.add(CourtPack(**copied, case_id=case.id, reference=f"{built.reference}-COPY"))
    session.flush()


def _messages_to_school_roles(session: Session) -> None:
    """A message to the school lead and one to the traded officer (copies of a failed one, to
    them), so their "own" outbox cells are asserted: they see and retry only their own mail."""
    sample = session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.status != "failed", OutboxMessage.id)
    ).first()
    assert sample is not None, "the small demo no longer queues any email"
    for role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER):
        user = session.scalars(select(User).where(User.username == USERS[role])).one()
        copied = {
            column.key: getattr(sample, column.key)
            for column in OutboxMessage.__table__.columns
            if column.key not in ("id", "key", "message_id")
        }
        copied.update(
            key=f"security-world:{user.username}",
            message_id=f"<security-world.{user.username}@casework.invalid>",
            recipient_user_id=user.id,
            caused_by_user_id=None,
            to_address=user.email,
        )
        session.add(OutboxMessage(**copied))
    session.flush()


def build_security_world(url: str) -> SecurityWorld:
    """Migrate the empty database at ``url`` and fill it (a second or two)."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    seed_demo(factory, schools=3, pupils=60, seed=7, today=TODAY)
    with factory() as session:
        token = _integration(session)
        _inset_day(session)
        _messages_to_school_roles(session)
        _other_la(session)
        session.commit()
    _court_pack(factory)
    return SecurityWorld(url, engine, factory, token)


def make_app(world: SecurityWorld, var_dir: Path) -> Litestar:
    """The service over the world's database, its clock at ``NOW``."""
    from api.app import create_app

    settings = Settings(database_url=world.url, var_dir=var_dir, session_secret=b"security-secret")
    return create_app(settings, engine=world.engine, clock=FixedClock(NOW), migrate=False)


def sign_in(app: Litestar, username: str) -> TestClient:
    """A client signed in as ``username`` that sends the CSRF token with every request."""
    client = csrf_client(app)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client
