"""Signing in and out through the browser: the same session as the API's sign-in."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from api.controllers.auth import authenticate, start_session
from api.pages.common import FormError, render

# Longer than any real username or password; refused without the cost of hashing it.
LONGEST_USERNAME = 100
LONGEST_PASSWORD = 200
NOT_RIGHT = "The username or password is not right"


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""


class SignInPages(Controller):
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def form(self) -> Template:
        return render("login.html", {"username": ""})

    @post("/login", sync_to_thread=True)
    def sign_in(
        self,
        request: Request,
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        username = data.username.strip()
        missing = []
        if not username:
            missing.append(FormError("username", "Enter your username"))
        if not data.password:
            missing.append(FormError("password", "Enter your password"))
        if missing:
            # The password is never sent back to the browser.
            return render("login.html", {"username": username, "errors": missing}, status=400)
        user = None
        if len(username) <= LONGEST_USERNAME and len(data.password) <= LONGEST_PASSWORD:
            user = authenticate(request, username, data.password)
        if user is None:
            return render(
                "login.html",
                {"username": username, "errors": [FormError("username", NOT_RIGHT)]},
                status=401,
            )
        start_session(request, user)
        return Redirect("/", status_code=303)

    @post("/logout", sync_to_thread=False)
    def sign_out(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/login", status_code=303)
