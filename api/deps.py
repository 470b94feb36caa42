"""The composition root's services, and the per-request unit of work handlers use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.models import User
from casework.uow import UnitOfWork
from config.settings import Settings
from workflows.context import Context


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
