"""The composition root's services, and the per-request unit of work handlers use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from api.audit import note_actor as audit_note_actor
from api.auth import session_is_void
from casework.clock import Clock
from casework.errors import Conflict
from casework.models import LocalAuthority, User
from casework.registers.store import LostRace
from casework.uow import UnitOfWork
from config.settings import Settings
from workflows.context import Context

if TYPE_CHECKING:
    from workflows.tokens import Grant

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock


def services(connection: ASGIConnection) -> Services:
    return connection.app.state.services


def signed_in_user(session: Session, user_id: int) -> User | None:
    """The user with their schools and LA in one round trip: every request starts here, so the
    three queries it took (user, schools, LA) were a fixed cost on every page."""
    row = (
        session.execute(
            select(User, LocalAuthority)
            .join(LocalAuthority, LocalAuthority.id == User.la_id)
            .options(joinedload(User.schools))
            .where(User.id == user_id)
        )
        .unique()
        .first()
    )
    return row[0] if row else None  # the LA stays in the session for Context.build


@contextmanager
def unit_of_work(request: Request, *, write: bool = False) -> Iterator[Context]:
    """A transaction acting as the signed-in user; handlers call ``ctx.commit()`` to keep it."""
    found = services(request)
    with UnitOfWork(found.session_factory, write=write) as uow:
        user = signed_in_user(uow.session, request.user.user_id)
        if user is None or not user.active:
            raise NotAuthorizedException("your account is not active: sign in again")
        if session_is_void(user, request.user.signed_in_at):
            raise NotAuthorizedException("your session has ended: sign in again")
        yield Context.build(uow.session, user, found.clock)


GRANT_KEY = "integration_grant"


def integration_grant(connection: ASGIConnection) -> Grant:
    """The grant of the bearer token the request carries, checked once per request (and its
    last use recorded) in a short transaction of its own, so a refused import still shows the
    token was used. NotAuthorizedException (401) without a live token."""
    from workflows.tokens import TokenRefused, authenticate

    known = connection.scope["state"].get(GRANT_KEY)
    if known is not None:
        return known
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = services(connection)
    address = connection.client.host if connection.client else None
    with UnitOfWork(found.session_factory) as checking:
        try:
            if scheme.lower() != "bearer":
                raise TokenRefused("a valid integration token is required (Authorization: Bearer)")
            grant = authenticate(
                checking.session, token.strip(), now=found.clock.now(), address=address
            )
        except TokenRefused as refused:
            raise NotAuthorizedException(str(refused)) from None
        checking.commit()
    connection.scope["state"][GRANT_KEY] = grant
    return grant


async def integration_token_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Every integration route checks the token before anything else, the body included: a
    caller without a live token learns nothing from how its request would have been read."""
    await anyio.to_thread.run_sync(integration_grant, connection)


@contextmanager
def integration_unit_of_work(request: Request, *, write: bool = False) -> Iterator[Context]:
    """A transaction acting as the integration user whose bearer token the request carries,
    scoped to the token's schools only."""
    from dataclasses import replace

    grant = integration_grant(request)
    found = services(request)
    with UnitOfWork(found.session_factory, write=write) as uow:
        user = uow.session.get(User, grant.user_id)
        if user is None:
            raise NotAuthorizedException("this integration token's account is not active")
        audit_note_actor(request.scope["state"], user.id)  # the audit entry names the token's user
        ctx = Context.build(uow.session, user, found.clock)
        ctx.scope = replace(ctx.scope, school_ids=grant.school_ids)
        yield ctx


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
