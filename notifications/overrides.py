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
from pathlib import Path

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
