"""sign-in hardening and scoped integration tokens

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Per account: consecutive failed sign-ins, the lock they lead to, when the password changed, the
moment before which every session is void, and the TOTP second factor. Every sign-in attempt is
kept (username, address, outcome) so throttling counts per account and per address. Integration
tokens gain an expiry (existing ones expire a year after they were issued), their last use, and
the named schools they may push registers for (existing ones keep all their user's schools).
"""

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = casework.models.base.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_at", UTC, nullable=True))
        batch.add_column(sa.Column("password_changed_at", UTC, nullable=True))
        batch.add_column(sa.Column("sessions_valid_from", UTC, nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", UTC, nullable=True))
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
    )
    op.create_index("ix_sign_in_attempt_username_at", "sign_in_attempt", ["username", "at"])
    op.create_index("ix_sign_in_attempt_address_at", "sign_in_attempt", ["address", "at"])
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", UTC, nullable=True))
        batch.add_column(sa.Column("last_used_at", UTC, nullable=True))
        batch.add_column(sa.Column("last_used_address", sa.String(length=64), nullable=True))
    op.create_table(
        "api_token_school",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_api_token_school_token_id_api_token")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_api_token_school_school_id_school")
        ),
        sa.PrimaryKeyConstraint("token_id", "school_id", name=op.f("pk_api_token_school")),
    )
    # Tokens issued before scoping keep the schools their user serves, and expire in a year.
    op.execute(
        "INSERT INTO api_token_school (token_id, school_id) "
        "SELECT api_token.id, user_school.school_id FROM api_token "
        "JOIN user_school ON user_school.user_id = api_token.user_id"
    )
    tokens = sa.table(
        "api_token", sa.column("id"), sa.column("created_at"), sa.column("expires_at")
    )
    bind = op.get_bind()
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=_year_after(created_at))
        )


def _year_after(value):  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value + timedelta(days=365)


def downgrade() -> None:
    op.drop_table("api_token_school")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("last_used_address")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    op.drop_index("ix_sign_in_attempt_address_at", table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_username_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    with op.batch_alter_table("app_user") as batch:
        for column in (
            "totp_enabled_at",
            "totp_secret",
            "sessions_valid_from",
            "password_changed_at",
            "locked_at",
            "failed_sign_ins",
        ):
            batch.drop_column(column)
