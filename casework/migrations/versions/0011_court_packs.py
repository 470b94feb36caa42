"""court packs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Court packs: each pre-court pack (or educational-neglect referral) built from a case, with the
offence, period, court and parents it was built for, who built it and when, the warnings they
acknowledged, and the PDF and ZIP with their sha256. Append-only, like the rest of the case's
evidence: a rebuilt pack is a new row.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import casework.models.base
from casework.append_only import drop_append_only, make_append_only

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APPEND_ONLY = ("court_pack",)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "court_pack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("route", sa.String(length=30), nullable=False),
        sa.Column("offence", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("limit_date", sa.Date(), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("contact_ids", _json(), nullable=False),
        sa.Column("built_by_id", sa.Integer(), nullable=False),
        sa.Column("built_by_name", sa.String(length=200), nullable=False),
        sa.Column("built_by_position", sa.String(length=200), nullable=False),
        sa.Column("built_at", casework.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warnings_acknowledged", _json(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("zip", sa.LargeBinary(), nullable=False),
        sa.Column("zip_sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("index", _json(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["built_by_id"], ["app_user.id"], name=op.f("fk_court_pack_built_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_court_pack_case_id_case_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court_pack")),
        sa.UniqueConstraint("case_id", "number", name=op.f("uq_court_pack_case_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_court_pack_reference")),
    )
    with op.batch_alter_table("court_pack", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_court_pack_case_id"), ["case_id"], unique=False)
    make_append_only(APPEND_ONLY)


def downgrade() -> None:
    drop_append_only(APPEND_ONLY)
    with op.batch_alter_table("court_pack", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_court_pack_case_id"))
    op.drop_table("court_pack")
