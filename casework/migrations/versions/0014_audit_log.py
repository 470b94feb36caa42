"""audit log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

Who read or changed which pupil, family, case, register or pack record, when, through which
route or command, and the outcome. Append-only by trigger; each entry chained to the one before
by SHA-256 so an edited or deleted row is found by ``casework audit verify``.
"""

import sqlalchemy as sa
from alembic import op

import casework.models.base
from casework.append_only import drop_append_only, make_append_only

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC = casework.models.base.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("audit_entry",)


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=100), nullable=False),
        sa.Column("la_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entry_entry_hash")),
    )
    op.create_index("ix_audit_entry_pupil_at", "audit_entry", ["pupil_id", "at"])
    op.create_index("ix_audit_entry_actor_at", "audit_entry", ["actor_id", "at"])
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    make_append_only(APPEND_ONLY)


def downgrade() -> None:
    drop_append_only(APPEND_ONLY)
    op.drop_table("audit_entry")
