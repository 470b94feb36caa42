"""API tokens for MIS integrations: issued to an ``integration`` user, shown once, kept as SHA-256.

A token is scoped to named schools (a subset of its user's, at least one) and to importing
registers only: ``api.deps.integration_unit_of_work`` is the one place that reads it. It expires
(90 days by default, a year at most), can be revoked, and its last use (when, from where) is
recorded, at most once a minute so a busy push does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.errors import InvalidInput, NotFound
from casework.models import ApiToken, ApiTokenSchool, School, User
from casework.vocabulary import Role
from workflows.context import Context

PREFIX = "cw_"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
# Last use is written back at most this often (and whenever the address changes).
LAST_USE_GRANULARITY = timedelta(minutes=1)
MAX_ADDRESS = 64


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    user: User,
    *,
    name: str,
    by: User,
    now: datetime,
    school_ids: Iterable[int] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new token for an integration user; the caller shows it once (only its hash is kept).

    ``school_ids``: the schools it may push for (default: every school its user serves); each
    must be one of the user's. ``expires_at``: default 90 days from ``now``, at most a year."""
    if Role(user.role) is not Role.INTEGRATION:
        raise InvalidInput.one("user", user.username, "tokens are issued to integration users only")
    if not name.strip():
        raise InvalidInput.one("name", name, "name the integration (e.g. the MIS and school)")
    if by.la_id != user.la_id or Role(by.role) is not Role.ADMIN:
        raise InvalidInput.one("by", by.username, "an administrator of the same LA issues tokens")
    schools = _token_schools(user, school_ids)
    expires = expires_at if expires_at is not None else now + DEFAULT_LIFETIME
    if expires <= now:
        raise InvalidInput.one("expires_at", expires.isoformat(), "give a date in the future")
    if expires > now + MAX_LIFETIME:
        raise InvalidInput.one(
            "expires_at", expires.isoformat(), "a token lasts at most a year from today"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:200],
        token_sha256=digest(token),
        created_at=now,
        created_by_id=by.id,
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    session.add_all(ApiTokenSchool(token_id=row.id, school_id=s) for s in sorted(schools))
    session.flush()
    return token


def _token_schools(user: User, school_ids: Iterable[int] | None) -> frozenset[int]:
    serves = user.school_ids
    chosen = serves if school_ids is None else frozenset(school_ids)
    if not chosen:
        raise InvalidInput.one(
            "school_ids", "(none)", "a token pushes registers for at least one school"
        )
    outside = sorted(chosen - serves)
    if outside:
        raise InvalidInput.one(
            "school_ids",
            ", ".join(str(s) for s in outside),
            "a token may push only for schools its integration user serves",
        )
    return chosen


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


class TokenRefused(Exception):
    """The bearer token cannot be used; the message says why, without repeating the token."""


@dataclass(frozen=True)
class Grant:
    """What a live token lets its bearer do: act as ``user_id`` for these schools only."""

    token_id: int
    user_id: int
    school_ids: frozenset[int]


def authenticate(
    session: Session, token: str, *, now: datetime, address: str | None, record: bool = True
) -> Grant:
    """The grant of a live token, recording its use (``record``); TokenRefused for anything
    else. The caller commits (the last use is changed only when it is stale)."""
    found = (
        session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_sha256 == digest(token))
        ).first()
        if token.startswith(PREFIX)
        else None
    )
    if found is None:
        raise TokenRefused("a valid integration token is required (Authorization: Bearer cw_…)")
    row, user = found
    if row.revoked_at is not None:
        raise TokenRefused("this integration token was revoked: ask an administrator for another")
    if row.expires_at is None or row.expires_at <= now:
        expired = f" on {row.expires_at:%Y-%m-%d}" if row.expires_at else ""
        raise TokenRefused(
            f"this integration token expired{expired}: ask an administrator for another"
        )
    if not user.active or Role(user.role) is not Role.INTEGRATION:
        raise TokenRefused("this integration token's account is not active")
    schools = frozenset(
        session.scalars(select(ApiTokenSchool.school_id).where(ApiTokenSchool.token_id == row.id))
    )
    if record:
        _record_use(row, now, (address or "")[:MAX_ADDRESS] or None)
    # Still only schools the user serves: a school taken from the user leaves its tokens too.
    return Grant(row.id, user.id, schools & user.school_ids)


def _record_use(row: ApiToken, now: datetime, address: str | None) -> None:
    stale = row.last_used_at is None or now - row.last_used_at >= LAST_USE_GRANULARITY
    if stale or row.last_used_address != address:
        row.last_used_at, row.last_used_address = now, address


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active integration user a live token belongs to, or None (nothing is recorded)."""
    try:
        grant = authenticate(
            session, token, now=now or datetime.now(UTC), address=None, record=False
        )
    except TokenRefused:
        return None
    return session.get(User, grant.user_id)


@dataclass(frozen=True)
class TokenRow:
    """A token as the admin page lists it (never its value or hash)."""

    id: int
    name: str
    username: str
    schools: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_address: str | None
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at is not None and self.expires_at > now


def list_tokens(ctx: Context) -> list[TokenRow]:
    """Every token of the administrator's LA, newest first."""
    ctx.require_role(Role.ADMIN, doing="manage API tokens")
    rows = ctx.session.execute(
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .where(User.la_id == ctx.actor.la_id)
        .order_by(ApiToken.id.desc())
    ).all()
    names: dict[int, list[str]] = {}
    if rows:
        for token_id, school in ctx.session.execute(
            select(ApiTokenSchool.token_id, School.name)
            .join(School, School.id == ApiTokenSchool.school_id)
            .where(ApiTokenSchool.token_id.in_([t.id for t, _ in rows]))
            .order_by(School.name)
        ):
            names.setdefault(token_id, []).append(school)
    return [
        TokenRow(
            id=t.id,
            name=t.name,
            username=username,
            schools=names.get(t.id, []),
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            last_used_address=t.last_used_address,
            revoked_at=t.revoked_at,
        )
        for t, username in rows
    ]


def integration_users(ctx: Context) -> list[User]:
    """The LA's active integration accounts, to issue a token to."""
    ctx.require_role(Role.ADMIN, doing="manage API tokens")
    return list(
        ctx.session.scalars(
            select(User)
            .where(
                User.la_id == ctx.actor.la_id,
                User.role == Role.INTEGRATION.value,
                User.active.is_(True),
            )
            .order_by(User.full_name)
        )
    )


@dataclass(frozen=True)
class IssueToken:
    """What the admin page asks for: a name, the schools, how long; for an existing integration
    account (``user_id``) or, with None, a new one serving exactly those schools."""

    name: str
    school_ids: list[int]
    days: int = DEFAULT_LIFETIME.days
    user_id: int | None = None


def issue_for_admin(ctx: Context, command: IssueToken) -> tuple[str, int]:
    """Issue a token as the signed-in administrator: (the token, to show once; its id)."""
    from workflows.registry import AddUser, create_user

    ctx.require_role(Role.ADMIN, doing="issue API tokens")
    if not 1 <= command.days <= MAX_LIFETIME.days:
        raise InvalidInput.one("days", command.days, "give a number of days from 1 to 365")
    known = set(
        ctx.session.scalars(
            select(School.id).where(
                School.id.in_(command.school_ids), School.la_id == ctx.actor.la_id
            )
        )
    )
    missing = sorted(set(command.school_ids) - known)
    if missing:
        raise InvalidInput.one("school_ids", missing, "no such schools in your LA")
    if command.user_id is None:
        if not command.school_ids:
            raise InvalidInput.one(
                "school_ids", "(none)", "a token pushes registers for at least one school"
            )
        user = create_user(
            ctx.session,
            AddUser(
                username=f"integration-{secrets.token_hex(4)}",
                full_name=command.name.strip()[:200] or "MIS integration",
                position="MIS integration",
                email="integration@invalid",
                role=Role.INTEGRATION,
                # Never used: integrations cannot sign in interactively.
                password=secrets.token_urlsafe(32),
                school_ids=sorted(known),
            ),
            ctx.actor.la_id,
        )
    else:
        user = ctx.session.scalars(
            select(User).where(
                User.id == command.user_id,
                User.la_id == ctx.actor.la_id,
                User.role == Role.INTEGRATION.value,
                User.active.is_(True),
            )
        ).first()
        if user is None:
            raise NotFound("integration account", command.user_id)
    now = ctx.now()
    token = issue_token(
        ctx.session,
        user,
        name=command.name,
        by=ctx.actor,
        now=now,
        school_ids=command.school_ids,
        expires_at=now + timedelta(days=command.days),
    )
    token_id = ctx.session.scalars(
        select(ApiToken.id).where(ApiToken.token_sha256 == digest(token))
    ).one()
    return token, token_id
