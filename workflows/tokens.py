"""API tokens for MIS integrations: issued to an ``integration`` user, shown once, kept as SHA-256.

An integration acts as its user: scoped to that user's schools, allowed only to push registers.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.errors import InvalidInput, NotFound
from casework.models import ApiToken, User
from casework.vocabulary import Role
from workflows.context import Context

PREFIX = "cw_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, name: str, by: User, now: datetime) -> str:
    """A new token for an integration user; the caller shows it once (only its hash is kept)."""
    if Role(user.role) is not Role.INTEGRATION:
        raise InvalidInput.one("user", user.username, "tokens are issued to integration users only")
    if not name.strip():
        raise InvalidInput.one("name", name, "name the integration (e.g. the MIS and school)")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=name.strip()[:200],
            token_sha256=digest(token),
            created_at=now,
            created_by_id=by.id,
        )
    )
    session.flush()
    return token


def revoke_token(ctx: Context, token_id: int) -> None:
    ctx.require_role(Role.ADMIN, doing="revoke API tokens")
    token = ctx.session.scalars(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == token_id, User.la_id == ctx.actor.la_id)
    ).first()
    if token is None:
        raise NotFound("token", token_id)
    if token.revoked_at is None:
        token.revoked_at = ctx.now()


def user_for_token(session: Session, token: str) -> User | None:
    """The active integration user a live token belongs to, or None."""
    if not token.startswith(PREFIX):
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    _, user = found
    if not user.active or Role(user.role) is not Role.INTEGRATION:
        return None
    return user
