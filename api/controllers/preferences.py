"""The signed-in user's email choices: ``GET``/``PUT /api/me/notifications``.

Each category is ``email``, ``digest_only`` (event categories only: the item waits for the
daily digest) or ``off``; a PUT changes the categories it names and leaves the rest."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, put
from litestar.params import JSONBody

from api.deps import unit_of_work
from notifications.preferences import CATEGORIES, preferences_of, set_preferences


class CategoryOut(msgspec.Struct):
    category: str
    choice: str
    default: str
    choices: list[str]


class PreferencesOut(msgspec.Struct):
    categories: list[CategoryOut]


def _out(chosen: dict[str, str]) -> PreferencesOut:
    return PreferencesOut(
        [
            CategoryOut(category, chosen[category], default, list(choices))
            for category, (default, choices) in CATEGORIES.items()
        ]
    )


class NotificationPreferenceController(Controller):
    path = "/me/notifications"
    tags = ["notifications"]

    @get("/", sync_to_thread=True)
    def mine(self, request: Request) -> PreferencesOut:
        with unit_of_work(request) as ctx:
            return _out(preferences_of(ctx.session, ctx.actor.id))

    @put("/", sync_to_thread=True)
    def change(self, request: Request, data: JSONBody[dict[str, str]]) -> PreferencesOut:
        with unit_of_work(request, write=True) as ctx:
            chosen = set_preferences(ctx.session, ctx.actor.id, data, ctx.now())
            ctx.commit()
            return _out(chosen)
