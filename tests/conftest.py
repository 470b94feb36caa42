"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

Each engine gets a template database (migrated with Alembic and holding the synthetic world) made
once per session; each test gets a fresh copy, so tests never see each other's rows. PostgreSQL
tests skip when no server answers, unless CASEWORK_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from casework import passwords
from casework.clock import FixedClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models import User
from config.settings import Settings
from tests.support.csrf import csrf_client
from tests.support.postgres import require_postgres, scratch_database
from tests.support.world import PASSWORD, World, build_world
from workflows.context import Context

_counter = itertools.count()

# argon2id at the service's cost takes about 100 ms a hash or check, by design; the suite signs
# in thousands of times. Tests hash with the same algorithm at its lowest cost (the service's own
# parameters are casework.passwords'; the browser tests' server keeps them).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords._DUMMY = passwords._hasher.hash("casework-no-such-user")


@dataclass
class Database:
    name: str
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    world: World


def _seed(url: str) -> World:
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        world = build_world(session)
        session.commit()
    engine.dispose()
    return world


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("template") / "template.db"
    world = _seed(f"sqlite:///{path}")
    return path, world


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, World]]:
    require_postgres()
    name = f"casework_template_{os.getpid()}"
    with scratch_database(name) as url:
        yield name, _seed(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> Iterator[Database]:
    if request.param == "sqlite":
        template, world = request.getfixturevalue("sqlite_template")
        path = tmp_path / "casework.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield Database("sqlite", url, engine, make_session_factory(engine), world)
        engine.dispose()
        return
    template, world = request.getfixturevalue("postgres_template")
    name = f"casework_test_{os.getpid()}_{next(_counter)}"
    with scratch_database(name, template=template) as url:
        engine = make_engine(url)
        yield Database("postgresql", url, engine, make_session_factory(engine), world)
        engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    # Wednesday 20 November 2024, in the autumn term.
    return FixedClock(datetime(2024, 11, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
def context(db: Database, clock: FixedClock):
    """``context("oak_lead")`` opens a unit of work acting as that user; commit to keep it."""
    sessions: list[Session] = []

    def make(username: str) -> Context:
        session = db.factory()
        sessions.append(session)
        user = session.get(User, db.world.users[username])
        return Context.build(session, user, clock)

    yield make
    for session in sessions:
        session.close()


# Tests walk a case through weeks of school time with one signed-in client; a session timing out
# as the test clock jumps would only hide what they check. Tests of the timeouts themselves are
# marked ``session_timeouts`` and get the production limits.
LONG_SESSIONS = {
    "session_idle_seconds": 10 * 366 * 86400,
    "session_max_age_seconds": 10 * 366 * 86400,
}


# Building the app (registering ~400 handlers, generating the OpenAPI document) takes about a
# third of a second; hundreds of tests use it. Each worker builds one app per kind of session
# limits and gives each test its own database, clock and settings through ``app.state.services``,
# which is where every handler finds them (api.deps.services). Nothing else in the app holds
# state between requests: sessions are client-side cookies, everything else is in the database.
_APPS: dict[tuple, Litestar] = {}


@pytest.fixture
def app(request, db: Database, clock: FixedClock, tmp_path):
    from api.app import create_app
    from api.deps import Services

    limits = {} if request.node.get_closest_marker("session_timeouts") else LONG_SESSIONS
    settings = Settings(
        database_url=db.url, var_dir=tmp_path, session_secret=b"test-secret", **limits
    )
    key = tuple(sorted(limits.items()))
    shared = _APPS.get(key)
    if shared is None:
        shared = _APPS[key] = create_app(settings, engine=db.engine, clock=clock, migrate=False)
    else:
        shared.state.services = Services(
            settings, db.engine, make_session_factory(db.engine), clock
        )
    yield shared
    # The next test's database replaces this one; no stale engine is left to be reached.
    shared.state.services = None


@pytest.fixture
def client_as(app):
    """``client_as("traded")`` is a TestClient signed in as that user."""

    def make(username: str) -> TestClient:
        # Not entered as a context manager: the app's lifespan is the test's, not each client's.
        client = csrf_client(app)
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return client

    return make


# The longest modules start first: with --dist loadfile each file runs whole on one worker, so a
# long file collected last (the authorization matrix, the browser suite) would run alone at the
# end while the other worker sits idle. The order within each file is kept.
LONG_FIRST = (
    "tests/security/test_authorization_matrix.py",
    "tests/browser/",
    "tests/security/test_api_fuzz.py",
    "tests/integration/test_sweep_crash.py",
    "tests/integration/test_demo.py",
    "tests/integration/test_state_machine_properties.py",
)


def pytest_collection_modifyitems(config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))

    def rank(item: pytest.Item) -> int:
        where = item.path.relative_to(root).as_posix()
        return next((i for i, p in enumerate(LONG_FIRST) if where.startswith(p)), len(LONG_FIRST))

    items.sort(key=rank)
