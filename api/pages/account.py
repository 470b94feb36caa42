"""Your account: change your password, set up a second factor (a code from an authenticator app).

Changing the password ends every other session of the account (``sessions_valid_from``); this
browser gets a new session at once. A second factor, once on, is not changed here: an
administrator resets a lost one.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import segno
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from api.auth import start_session
from api.deps import services, unit_of_work
from api.pages.common import FormError, me, render
from casework.errors import Conflict, InvalidInput
from casework.models import User
from casework.password_policy import MAX_LENGTH, MIN_LENGTH, check_new_password
from casework.passwords import hash_password, verify_password
from workflows.sign_in import (
    confirm_two_factor,
    provisioning_uri,
    start_two_factor,
    two_factor_required,
)

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
# Set by the redirect after a password change, to say it worked.
Changed = Annotated[bool, QueryParameter(name="changed")]
CODE_WRONG = "The code is not right: enter the 6-digit code your app shows now"


class PasswordForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


class CodeForm(msgspec.Struct):
    code: str = ""


def two_factor_setup(
    request: Request, user_id: int, *, code: str | None, action: str, done: str = "/"
) -> tuple[Response, bool]:
    """The setup page (secret and QR code), or with ``code`` its confirmation: a redirect to
    ``done`` once the code shows the app holds the secret, and whether it is on now. Shared by
    sign-in and the account page."""
    found = services(request)
    with found.session_factory() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.locked_at is not None:
            return Redirect("/login", status_code=303), False
        try:
            secret = start_two_factor(session, user)
        except Conflict:
            return Redirect(done, status_code=303), False
        errors = []
        if code is not None:
            if confirm_two_factor(session, user, code[:20], found.clock.now()):
                session.commit()
                return Redirect(done, status_code=303), True
            errors = [FormError("code", CODE_WRONG if code.strip() else "Enter the code")]
        session.commit()
        uri = provisioning_uri(user)
        context = {
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": segno.make(uri, error="m").svg_inline(scale=5, title="QR code to scan"),
            "action": action,
            "required": two_factor_required(session, user),
            "errors": errors,
            "signed_in": True,
        }
    return render("account_two_factor.html", context, status=400 if errors else 200), False


def _password_problems(user: User, data: PasswordForm) -> list[FormError]:
    if not verify_password(user.password_hash, data.current_password[:MAX_LENGTH]):
        return [FormError("current_password", "Your current password is not right")]
    if data.new_password != data.confirm_password:
        return [FormError("confirm_password", "The new passwords do not match")]
    try:
        check_new_password(data.new_password, username=user.username, field="new_password")
    except InvalidInput as exc:
        return [
            FormError("new_password", f"Your new password {problem.rule}")
            for problem in exc.problems
        ]
    if verify_password(user.password_hash, data.new_password):
        return [FormError("new_password", "Your new password must differ from the current one")]
    return []


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def account(self, request: Request, changed: Changed = False) -> Template:
        with unit_of_work(request) as ctx:
            return render(
                "account.html",
                {
                    "me": me(ctx),
                    "two_factor_on": ctx.actor.totp_enabled_at is not None,
                    "min_length": MIN_LENGTH,
                    "changed": changed,
                },
            )

    @post("/password", sync_to_thread=True)
    def change_password(self, request: Request, data: Annotated[PasswordForm, Form]) -> Response:
        with unit_of_work(request, write=True) as ctx:
            user = ctx.actor
            errors = _password_problems(user, data)
            if errors:
                context = {
                    "me": me(ctx),
                    "two_factor_on": user.totp_enabled_at is not None,
                    "min_length": MIN_LENGTH,
                    "errors": errors,
                }
                return render("account.html", context, status=400)
            now = ctx.now()
            user.password_hash = hash_password(data.new_password)
            user.password_changed_at = now
            # Every other session of this account ends; this one is made anew below.
            user.sessions_valid_from = now
            user.failed_sign_ins = 0
            ctx.commit()
            user_id = user.id
        start_session(request, user_id)
        return Redirect("/account?changed=true", status_code=303)

    @get("/two-factor", sync_to_thread=True)
    def two_factor_form(self, request: Request) -> Response:
        user_id = _signed_in_user(request)
        return two_factor_setup(
            request, user_id, code=None, action="/account/two-factor", done="/account"
        )[0]

    @post("/two-factor", sync_to_thread=True)
    def two_factor(self, request: Request, data: Annotated[CodeForm, Form]) -> Response:
        user_id = _signed_in_user(request)
        return two_factor_setup(
            request, user_id, code=data.code, action="/account/two-factor", done="/account"
        )[0]


def _signed_in_user(request: Request) -> int:
    """The signed-in user's id, once ``unit_of_work`` has checked the account is active and this
    session not ended."""
    with unit_of_work(request) as ctx:
        return ctx.actor.id
