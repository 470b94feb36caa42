"""Signing in and out through the browser: the same session and rules as the API's sign-in.

Sign-in is up to three steps: the password (``/login``); then, for an account with a second
factor, the code from its authenticator app (``/login/code``); or, where the LA requires a second
factor for the user's role and they have none, setting one up (``/login/two-factor``). Until
the last step is done the session is pending and no other page opens.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from api.auth import CODE_PENDING, SETUP_PENDING, pending_user, start_session
from api.controllers.auth import (
    CODE_REUSED,
    CODE_WRONG,
    LOCKED,
    NOT_RIGHT,
    THROTTLED,
    attempt_code,
    attempt_password,
    end_session,
    tries_left_warning,
)
from api.pages.account import two_factor_setup
from api.pages.common import FormError, render
from workflows.sign_in import Outcome, Result

# Longer than any real username or password; refused without the cost of hashing it.
LONGEST_USERNAME = 100
LONGEST_PASSWORD = 200
# A pending step must be finished within this long after the password, or start again.
PENDING_SECONDS = 10 * 60
# Where each finished step goes next.
NEXT = {
    Outcome.SIGNED_IN: "/",
    Outcome.CODE_NEEDED: "/login/code",
    Outcome.SETUP_NEEDED: "/login/two-factor",
}


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""


class CodeForm(msgspec.Struct):
    code: str = ""


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _refused(template: str, result: Result, context: dict, field: str) -> Template:
    """The sign-in page again, saying why (never whether the username exists)."""
    if result.outcome == Outcome.THROTTLED:
        page = render(template, {**context, "errors": [FormError(field, THROTTLED)]}, status=429)
        page.headers["Retry-After"] = str(result.retry_after or 1)
        return page
    if result.outcome == Outcome.LOCKED:
        return render(template, {**context, "errors": [FormError(field, LOCKED)]}, status=401)
    if result.outcome == Outcome.CODE_REUSED:
        return render(template, {**context, "errors": [FormError(field, CODE_REUSED)]}, status=401)
    message = NOT_RIGHT if field == "username" else CODE_WRONG
    warning = tries_left_warning(result)
    return render(
        template,
        {**context, "errors": [FormError(field, message)], "warning": warning},
        status=401,
    )


class SignInPages(Controller):
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def form(self) -> Template:
        return render("login.html", {"username": ""})

    @post("/login", sync_to_thread=True)
    def sign_in(self, request: Request, data: Annotated[LoginForm, Form]) -> Response:
        username = data.username.strip()
        missing = []
        if not username:
            missing.append(FormError("username", "Enter your username"))
        if not data.password:
            missing.append(FormError("password", "Enter your password"))
        if missing:
            # The password is never sent back to the browser.
            return render("login.html", {"username": username, "errors": missing}, status=400)
        if len(username) > LONGEST_USERNAME or len(data.password) > LONGEST_PASSWORD:
            result = Result(Outcome.NOT_RIGHT)
        else:
            result = attempt_password(request, username, data.password)
        if result.outcome in NEXT:
            return Redirect(NEXT[result.outcome], status_code=303)
        return _refused("login.html", result, {"username": username}, "username")

    @get("/login/code", sync_to_thread=False)
    def code_form(self, request: Request) -> Response:
        if pending_user(request, CODE_PENDING, PENDING_SECONDS) is None:
            return Redirect("/login", status_code=303)
        return render("login_code.html")

    @post("/login/code", sync_to_thread=True)
    def check_code(self, request: Request, data: Annotated[CodeForm, Form]) -> Response:
        user_id = pending_user(request, CODE_PENDING, PENDING_SECONDS)
        if user_id is None:
            return Redirect("/login", status_code=303)
        if not data.code.strip():
            errors = [FormError("code", "Enter the code from your authenticator app")]
            return render("login_code.html", {"errors": errors}, status=400)
        result = attempt_code(request, user_id, data.code[:20])
        if result.outcome == Outcome.SIGNED_IN:
            return Redirect("/", status_code=303)
        return _refused("login_code.html", result, {}, "code")

    @get("/login/two-factor", sync_to_thread=True)
    def setup_form(self, request: Request) -> Response:
        user_id = pending_user(request, SETUP_PENDING, PENDING_SECONDS)
        if user_id is None:
            return Redirect("/login", status_code=303)
        return two_factor_setup(request, user_id, code=None, action="/login/two-factor")[0]

    @post("/login/two-factor", sync_to_thread=True)
    def setup(self, request: Request, data: Annotated[CodeForm, Form]) -> Response:
        user_id = pending_user(request, SETUP_PENDING, PENDING_SECONDS)
        if user_id is None:
            return Redirect("/login", status_code=303)
        answer, on = two_factor_setup(request, user_id, code=data.code, action="/login/two-factor")
        if on:
            start_session(request, user_id)  # the second factor is on: signed in at last
        return answer

    @post("/logout", sync_to_thread=True)
    def sign_out(self, request: Request) -> Redirect:
        end_session(request)
        return Redirect("/login", status_code=303)
