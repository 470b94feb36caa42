"""The administrators' integration tokens page: every MIS token of the LA (name, account,
schools, created, expires, last used, revoked), issuing one (its value shown once, on the page
that answers the form, never in an address) and revoking one. Through ``workflows.tokens``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.admin import form_text, form_values
from api.pages.common import FormError, is_number, me, render, sentence
from casework.errors import InvalidInput
from casework.models import School
from casework.vocabulary import Role
from workflows.tokens import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    IssueToken,
    integration_users,
    issue_for_admin,
    list_tokens,
    revoke_token,
)

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
NEW_ACCOUNT = "new"
FIELDS = {"name": "token-name", "school_ids": "token-school_ids", "days": "token-days"}
CONFIRMATIONS = {"revoked": "The token is revoked: it can no longer push registers"}


def _new_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FormError] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        ctx.require_role(Role.ADMIN, doing="manage integration tokens")
        schools = ctx.session.scalars(
            select(School).where(School.la_id == ctx.actor.la_id).order_by(School.name)
        )
        accounts = [(NEW_ACCOUNT, "A new integration account for these schools")] + [
            (str(u.id), f"{u.full_name} ({u.username})") for u in integration_users(ctx)
        ]
        context = {
            "me": me(ctx),
            "active_section": "admin",
            "form": form
            or {"account": NEW_ACCOUNT, "school_ids": [], "days": str(DEFAULT_LIFETIME.days)},
            "school_options": [(s.id, f"{s.name} ({s.urn})") for s in schools],
            "account_options": accounts,
            "max_days": MAX_LIFETIME.days,
            "errors": errors or [],
        }
    return render("admin_tokens_new.html", context, status=status)


class AdminTokenPages(Controller):
    path = "/admin/tokens"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def tokens(
        self,
        request: Request,
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        with unit_of_work(request) as ctx:
            ctx.require_role(Role.ADMIN, doing="manage integration tokens")
            now = ctx.now()
            rows = [{"row": t, "live": t.live(now)} for t in list_tokens(ctx)]
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "tokens": rows,
                "confirmation": CONFIRMATIONS.get(done or ""),
            }
        return render("admin_tokens.html", context)

    @get("/new", sync_to_thread=True)
    def new(self, request: Request) -> Template:
        return _new_page(request)

    @post("/", sync_to_thread=True)
    def issue(self, request: Request, data: Form) -> Response:
        form = {
            "name": form_text(data, "name", 300),
            "account": form_text(data, "account", 20) or NEW_ACCOUNT,
            "school_ids": form_values(data, "school_ids"),
            "days": form_text(data, "days", 10),
        }
        errors = []
        if not form["name"]:
            errors.append(FormError(FIELDS["name"], "Enter what the integration is"))
        elif len(form["name"]) > 200:
            errors.append(FormError(FIELDS["name"], "Name: at most 200 characters"))
        try:
            school_ids = sorted({int(v) for v in form["school_ids"]})
        except ValueError:
            school_ids = []
            errors.append(FormError(FIELDS["school_ids"], "Schools: choose from the list"))
        if not school_ids and not errors:
            errors.append(FormError(FIELDS["school_ids"], "Choose at least one school"))
        days = int(form["days"]) if is_number(form["days"]) else 0
        if not 1 <= days <= MAX_LIFETIME.days:
            rule = f"Days: give a whole number from 1 to {MAX_LIFETIME.days}"
            errors.append(FormError(FIELDS["days"], rule))
        account = form["account"]
        if account != NEW_ACCOUNT and not is_number(account):
            errors.append(FormError("token-account", "Account: choose from the list"))
        if errors:
            return _new_page(request, form=form, errors=errors, status=422)
        command = IssueToken(
            name=form["name"],
            school_ids=school_ids,
            days=days,
            user_id=None if account == NEW_ACCOUNT else int(account),
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                token, _ = issue_for_admin(ctx, command)
                ctx.commit()
                context = {"me": me(ctx), "active_section": "admin"}
        except InvalidInput as exc:
            errors = [
                FormError(FIELDS.get(p.field, "token-account"), sentence(p.rule))
                for p in exc.problems
            ]
            return _new_page(request, form=form, errors=errors, status=422)
        # The only time the token is shown: the page is never cached (security headers).
        return render(
            "admin_tokens_issued.html",
            {**context, "token": token, "name": form["name"], "days": days},
        )

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request, token_id: FromPath[int]) -> Response:
        with unit_of_work(request, write=True) as ctx:
            revoke_token(ctx, token_id)
            ctx.commit()
        return Redirect("/admin/tokens?done=revoked", status_code=303)
