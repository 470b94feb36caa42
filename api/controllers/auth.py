"""Signing in and out."""

from __future__ import annotations

import logging
import time

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from sqlalchemy import select

from api import present
from api.deps import services, unit_of_work
from api.errors import problem
from api.schemas import LoginIn, UserOut
from casework.models import User
from casework.passwords import verify_password
from casework.vocabulary import Role

log = logging.getLogger("casework.auth")


def authenticate(request: Request, username: str, password: str) -> User | None:
    with services(request).session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        ok = verify_password(user.password_hash if user else None, password)
        # Integrations authenticate with their API token, never interactively.
        if not ok or user is None or not user.active or user.role == Role.INTEGRATION:
            log.info("sign-in refused")
            return None
        session.expunge(user)
        return user


def start_session(request: Request, user: User) -> None:
    request.set_session({"user_id": user.id, "signed_in_at": time.time()})


class AuthController(Controller):
    path = "/auth"
    tags = ["sign-in"]

    @post("/login", sync_to_thread=True, status_code=200)
    def login(self, request: Request, data: JSONBody[LoginIn]) -> UserOut:
        user = authenticate(request, data.username, data.password)
        if user is None:
            return problem(401, "Sign-in failed", "the username or password is not right")
        start_session(request, user)
        return present.user(user)

    @post("/logout", status_code=204)
    async def logout(self, request: Request) -> None:
        request.clear_session()

    @get("/me", sync_to_thread=True)
    def me(self, request: Request) -> UserOut:
        with unit_of_work(request) as ctx:
            return present.user(ctx.actor)
