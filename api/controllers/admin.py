"""Users (admins add them; everyone sees colleagues they can hand cases to) and the workflow."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from api import present
from api import schemas as s
from api.deps import unit_of_work
from casework.models import User
from workflows.diagram import mermaid
from workflows.guards import GUARDS
from workflows.machine import TRIGGER_LABELS
from workflows.registry import AddUser, add_user
from workflows.users import reset_second_factor, unlock_user


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", sync_to_thread=True)
    def colleagues(self, request: Request) -> list[s.UserOut]:
        """Active users in the signed-in user's LA (names and roles only: for assigning cases)."""
        with unit_of_work(request) as ctx:
            users = ctx.session.scalars(
                select(User)
                .where(User.la_id == ctx.actor.la_id, User.active.is_(True))
                .order_by(User.full_name)
            )
            return [present.user(u) for u in users]

    @post("/", sync_to_thread=True)
    def add(self, request: Request, data: JSONBody[s.UserIn]) -> s.UserOut:
        with unit_of_work(request, write=True) as ctx:
            user = add_user(
                ctx,
                AddUser(
                    data.username,
                    data.full_name,
                    data.position,
                    data.email,
                    data.role,
                    data.password,
                    list(data.school_ids),
                    data.manager_id,
                ),
            )
            ctx.commit()
            return present.user(user)

    @post("/{user_id:int}/unlock", sync_to_thread=True, status_code=200)
    def unlock(self, request: Request, user_id: FromPath[int]) -> s.UserOut:
        """Unlock an account locked by failed sign-ins (administrators; audited)."""
        with unit_of_work(request, write=True) as ctx:
            user = unlock_user(ctx, user_id, route="POST /api/users/{user_id}/unlock")
            ctx.commit()
            return present.user(user)

    @post("/{user_id:int}/second-factor-reset", sync_to_thread=True, status_code=200)
    def reset_second_factor(self, request: Request, user_id: FromPath[int]) -> s.UserOut:
        """Clear a lost second factor; the user sets up a new one (administrators; audited)."""
        route = "POST /api/users/{user_id}/second-factor-reset"
        with unit_of_work(request, write=True) as ctx:
            user = reset_second_factor(ctx, user_id, route=route)
            ctx.commit()
            return present.user(user)


class WorkflowController(Controller):
    path = "/workflow"
    tags = ["workflow"]

    @get("/", sync_to_thread=False)
    def describe(self) -> dict[str, object]:
        """The case state machine: its diagram, triggers and guards."""
        return {
            "mermaid": mermaid(),
            "triggers": TRIGGER_LABELS,
            "guards": {
                g.name: {"summary": g.summary, "overridable": g.overridable}
                for g in GUARDS.values()
            },
        }
