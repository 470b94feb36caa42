"""Where an LA's own wording lives: template directories searched before the built-in templates.

Every email and letter template can be replaced for one LA profile by a file of the same name
under ``<overrides>/<profile key>/`` (``email/digest/daily_officer.txt``,
``letters/concern.html``). A profile that ``extends`` another also takes its parent's overrides,
then the built-ins: Knowsley's directory first, then the national one, then
``notifications/templates``. ``<overrides>`` is ``config/templates`` unless
``CASEWORK_TEMPLATE_OVERRIDES`` names another directory, so an LA keeps its wording outside the
code and an upgrade never overwrites it.

An override is held to the same rules as the built-in template: strict about missing fields,
autoescaped, and a letter must still contain every element its kind requires, or nothing is
sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from config.profiles import load_profile

BUILT_IN = Path(__file__).parent / "templates"
DEFAULT_OVERRIDES = Path(__file__).resolve().parent.parent / "config" / "templates"


def overrides_root() -> Path:
    configured = os.environ.get("CASEWORK_TEMPLATE_OVERRIDES", "").strip()
    return Path(configured).resolve() if configured else DEFAULT_OVERRIDES


def search_path(profile_key: str | None) -> list[Path]:
    """The directories a template is looked up in for ``profile_key``, most specific first.
    Without a profile (a test of the built-in wording) only the built-ins."""
    root = overrides_root()
    found: list[Path] = []
    key = profile_key
    seen: set[str] = set()
    while key and key not in seen:
        seen.add(key)
        directory = root / key
        if directory.is_dir():
            found.append(directory)
        key = load_profile(key).extends
    return [*found, BUILT_IN]


def environment(
    profile_key: str | None,
    setup: Callable[[Environment], None] | None = None,
    *,
    autoescape: bool | Callable[[str | None], bool] = True,
    keep_trailing_newline: bool = False,
) -> Environment:
    """The strict Jinja environment for one LA profile's wording (its overrides first), built
    once per search path and kind of document: ``setup`` adds that kind's filters.

    Strict (StrictUndefined), so a misspelt or missing field fails the render instead of
    printing nothing; autoescaped unless the caller says otherwise (an email's text part)."""
    return _built(tuple(search_path(profile_key)), setup, autoescape, keep_trailing_newline)


@cache
def _built(
    directories: tuple[Path, ...],
    setup: Callable[[Environment], None] | None,
    autoescape: bool | Callable[[str | None], bool],
    keep_trailing_newline: bool,
) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directories),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )
    if setup is not None:
        setup(env)
    return env


def lookup(table: Mapping[str, str], what: str) -> Callable[[str], str]:
    """A filter reading ``table``, refusing a key it lacks (a wording must never be guessed)."""

    def look(key: str) -> str:
        try:
            return table[key]
        except KeyError:
            raise ValueError(f"unknown {what}: {key!r}") from None

    return look
