"""Signing in and out. The rules (throttle, lock, second factor) are ``workflows.sign_in``'s;
this wires them to the session and says the outcome as an API client needs it."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from api import present
from api.auth import CODE_PENDING, SETUP_PENDING, SIGNED_IN, start_session
from api.deps import services, unit_of_work
from api.errors import problem
from api.schemas import LoginIn, UserOut
from casework.models import User
from workflows.sign_in import Limits, Outcome, Result, sign_in_with_code, sign_in_with_password

NOT_RIGHT = "The username or password is not right"
LOCKED = (
    "Your account is locked after too many failed sign-ins. Ask your administrator to unlock it."
)
THROTTLED = "There have been too many failed sign-ins from your network. Try again later."
CODE_WRONG = "The code is not right"
CODE_REUSED = "That code has been used already: wait for your app to show a new one"
# The session a stage of sign-in leaves behind.
STAGES = {
    Outcome.SIGNED_IN: SIGNED_IN,
    Outcome.CODE_NEEDED: CODE_PENDING,
    Outcome.SETUP_NEEDED: SETUP_PENDING,
}


def limits(request: Request) -> Limits:
    settings = services(request).settings
    return Limits(
        max_failures=settings.sign_in_max_failures,
        address_failures=settings.sign_in_address_failures,
        window=timedelta(seconds=settings.sign_in_window_seconds),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def route_of(request: Request) -> str:
    return f"{request.method} {request.scope['path']}"


def attempt_password(request: Request, username: str, password: str) -> Result:
    """Check a username and password; keeps the attempt and starts the session its outcome
    allows (signed in, or waiting for a code or a second factor's setup)."""
    found = services(request)
    with found.session_factory() as session:
        result = sign_in_with_password(
            session,
            username=username,
            password=password,
            address=client_address(request),
            route=route_of(request),
            now=found.clock.now(),
            limits=limits(request),
        )
        session.commit()
    if result.outcome in STAGES and result.user_id is not None:
        start_session(request, result.user_id, stage=STAGES[result.outcome])
    return result


def attempt_code(request: Request, user_id: int, code: str) -> Result:
    """The second step: a code from the user's authenticator app."""
    found = services(request)
    with found.session_factory() as session:
        result = sign_in_with_code(
            session,
            user_id=user_id,
            code=code,
            address=client_address(request),
            route=route_of(request),
            now=found.clock.now(),
            limits=limits(request),
        )
        session.commit()
    if result.outcome == Outcome.SIGNED_IN and result.user_id is not None:
        start_session(request, result.user_id)
    elif result.outcome == Outcome.LOCKED:
        request.clear_session()
    return result


def end_session(request: Request) -> None:
    """Sign out: the session is cleared (the audit log's middleware, ``api.audit``, records it)."""
    request.clear_session()


def tries_left_warning(result: Result) -> str | None:
    if result.tries_left is None:
        return None
    tries = "1 more try" if result.tries_left == 1 else f"{result.tries_left} more tries"
    return f"You have {tries} before your account is locked"


def _lower(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:]


def _refusal(request: Request, result: Result, *, wrong: str = NOT_RIGHT) -> Response:
    """The problem document for a refused sign-in (``wrong``: what a wrong guess was)."""
    if result.outcome == Outcome.THROTTLED:
        answer = problem(429, "Too many sign-in attempts", THROTTLED)
        answer.headers["Retry-After"] = str(result.retry_after or 1)
        return answer
    if result.outcome == Outcome.LOCKED:
        return problem(401, "Account locked", LOCKED)
    if result.outcome == Outcome.SETUP_NEEDED:
        request.clear_session()
        return problem(
            401,
            "Second factor needed",
            "your local authority requires a second factor for your role: sign in through the "
            "browser once to set one up",
        )
    if result.outcome == Outcome.CODE_REUSED:
        return problem(401, "Sign-in failed", _lower(CODE_REUSED))
    warning = tries_left_warning(result)
    detail = _lower(wrong) + (f"; {_lower(warning)}" if warning else "")
    return problem(401, "Sign-in failed", detail)


class AuthController(Controller):
    path = "/auth"
    tags = ["sign-in"]

    @post("/login", sync_to_thread=True, status_code=200)
    def login(self, request: Request, data: JSONBody[LoginIn]) -> UserOut:
        """Sign in. An account with a second factor also sends ``code`` (from its authenticator
        app); without it the answer is 401 saying a code is needed. Too many failures from one
        address: 429 with Retry-After."""
        result = attempt_password(request, data.username, data.password)
        if result.outcome == Outcome.CODE_NEEDED and result.user_id is not None:
            if not data.code:
                request.clear_session()
                return problem(
                    401,
                    "Code needed",
                    "this account has a second factor: send the code from its authenticator "
                    "app as code",
                    code_needed=True,
                )
            result = attempt_code(request, result.user_id, data.code)
            if result.outcome != Outcome.SIGNED_IN:
                request.clear_session()  # the API has no pending step: each try sends all three
                return _refusal(request, result, wrong=CODE_WRONG)
        if result.outcome != Outcome.SIGNED_IN:
            return _refusal(request, result)
        with services(request).session_factory() as session:
            return present.user(session.get(User, result.user_id))

    @post("/logout", status_code=204, sync_to_thread=True)
    def logout(self, request: Request) -> None:
        end_session(request)

    @get("/me", sync_to_thread=True)
    def me(self, request: Request) -> UserOut:
        with unit_of_work(request) as ctx:
            return present.user(ctx.actor)
