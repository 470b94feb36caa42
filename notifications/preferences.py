"""Which emails a user receives, by category.

- ``email``: an email per event (the digests: the digest itself);
- ``digest_only``: no email per event; the item shows in the user's daily digest instead
  (only for the event categories: a digest cannot be "digest only");
- ``off``: nothing.

Defaults: every category by email. A user's choices are rows in ``notification_preference``;
a category without a row has its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.errors import FieldProblem, InvalidInput
from casework.models.preferences import NotificationPreference

EMAIL = "email"
DIGEST_ONLY = "digest_only"
OFF = "off"

DEADLINE_REMINDERS = "deadline_reminders"
ESCALATIONS = "escalations"
TRANSFERS = "transfers"
DAILY_DIGEST = "daily_digest"
WEEKLY_DIGEST = "weekly_digest"

# Category -> (default, choices allowed), in the order a settings page lists them.
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    DEADLINE_REMINDERS: (EMAIL, (EMAIL, DIGEST_ONLY, OFF)),
    ESCALATIONS: (EMAIL, (EMAIL, DIGEST_ONLY, OFF)),
    TRANSFERS: (EMAIL, (EMAIL, DIGEST_ONLY, OFF)),
    DAILY_DIGEST: (EMAIL, (EMAIL, OFF)),
    WEEKLY_DIGEST: (EMAIL, (EMAIL, OFF)),
}
DEFAULTS = {category: default for category, (default, _) in CATEGORIES.items()}


def preferences_of(session: Session, user_id: int) -> dict[str, str]:
    """Every category's choice for the user: theirs where they made one, else the default."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.category, NotificationPreference.choice).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {category: chosen.get(category, default) for category, default in DEFAULTS.items()}


def choice_of(session: Session, user_id: int, category: str) -> str:
    choice = session.scalar(
        select(NotificationPreference.choice).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.category == category,
        )
    )
    return choice or DEFAULTS[category]


def choices_for(session: Session, user_ids: list[int], category: str) -> dict[int, str]:
    """One category's choice for each of many users, in one query."""
    chosen = (
        dict(
            session.execute(
                select(NotificationPreference.user_id, NotificationPreference.choice).where(
                    NotificationPreference.user_id.in_(user_ids),
                    NotificationPreference.category == category,
                )
            ).all()
        )
        if user_ids
        else {}
    )
    return {user_id: chosen.get(user_id, DEFAULTS[category]) for user_id in user_ids}


def wants_email(session: Session, user_id: int, category: str) -> bool:
    return choice_of(session, user_id, category) == EMAIL


def set_preferences(
    session: Session, user_id: int, choices: Mapping[str, str], now: datetime
) -> dict[str, str]:
    """Change some of the user's choices (the rest stay); every problem is reported at once and
    nothing changes unless all are valid. Flushes; the caller commits."""
    problems = []
    for category, choice in choices.items():
        if category not in CATEGORIES:
            problems.append(FieldProblem(category, choice, f"one of {', '.join(CATEGORIES)}"))
        elif choice not in CATEGORIES[category][1]:
            problems.append(
                FieldProblem(category, choice, f"one of {', '.join(CATEGORIES[category][1])}")
            )
    if problems:
        raise InvalidInput(problems)
    existing = {
        row.category: row
        for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    for category, choice in choices.items():
        row = existing.get(category)
        if row is None:
            session.add(
                NotificationPreference(
                    user_id=user_id, category=category, choice=choice, updated_at=now
                )
            )
        elif row.choice != choice:
            row.choice, row.updated_at = choice, now
    session.flush()
    return preferences_of(session, user_id)
