"""Scratch PostgreSQL databases for tests and benchmarks, on the local server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from casework.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "CASEWORK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CASEWORK_REQUIRE_POSTGRES") == "1"


def pg_admin() -> Engine:
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def url_of(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def require_postgres() -> None:
    """Skip when no server answers; fail instead under CASEWORK_REQUIRE_POSTGRES=1 (CI)."""
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        admin.dispose()


@contextmanager
def scratch_database(name: str, template: str | None = None) -> Iterator[str]:
    """A fresh database (optionally copied from ``template``), dropped afterwards."""
    admin = pg_admin()
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        yield url_of(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
