"""The composition root's services, and the per-request unit of work handlers use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from casework.clock import Clock
from casework.errors import Conflict
from casework.models import User
from casework.registers.store import LostRace
from casework.uow import UnitOfWork
from config.settings import Settings
from workflows.context import Context

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock


def services(request: Request) -> Services:
    return request.app.state.services


@contextmanager
def unit_of_work(request: Request, *, write: bool = False) -> Iterator[Context]:
    """A transaction acting as the signed-in user; handlers call ``ctx.commit()`` to keep it."""
    found = services(request)
    with UnitOfWork(found.session_factory, write=write) as uow:
        user = uow.session.get(User, request.user.user_id)
        if user is None or not user.active:
            raise NotAuthorizedException("your account is not active: sign in again")
        yield Context.build(uow.session, user, found.clock)


@contextmanager
def integration_unit_of_work(request: Request, *, write: bool = False) -> Iterator[Context]:
    """A transaction acting as the integration user whose bearer token the request carries."""
    from workflows.tokens import user_for_token

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = services(request)
    with UnitOfWork(found.session_factory, write=write) as uow:
        user = user_for_token(uow.session, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthorizedException("a valid integration token is required (Bearer)")
        yield Context.build(uow.session, user, found.clock)


# Changes that do not depend on what the user saw (recording a call, say) are retried when
# another change to the same case wins the race; stage moves carry expected_version instead.
RETRIES = 3


def retry_on_conflict(request: Request, change: Callable[[Context], T]) -> T:
    """Run ``change`` in a write unit of work and commit, retrying a lost optimistic-lock race."""
    for attempt in range(RETRIES):
        try:
            with unit_of_work(request, write=True) as ctx:
                result = change(ctx)
                ctx.commit()
                return result
        except (StaleDataError, LostRace):
            if attempt == RETRIES - 1:
                raise Conflict("the record is busy: try again") from None
    raise AssertionError("unreachable")
