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

# PostgreSQL appends in one round trip (casework/audit.py): the chain's lock, the head read (a
# fresh snapshot: each statement of a volatile function takes one) and the insert happen inside
# the server, so the lock is held for that call and the commit, not for several round trips of
# a busy web worker. The hash is SHA-256 over the previous hash, a newline and the entry's
# canonical text, the same as ``casework.audit.entry_hash`` computes to verify it.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION casework_audit_append(
    p_lock bigint, p_at timestamptz, p_actor_id integer, p_actor_username varchar,
    p_la_id integer, p_action varchar, p_record_type varchar, p_record_id varchar,
    p_pupil_id integer, p_route varchar, p_outcome varchar, p_canonical text
) RETURNS TABLE (entry_id bigint, prev varchar, hash varchar) AS $$
DECLARE
    v_prev varchar;
    v_hash varchar;
    v_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT a.entry_hash INTO v_prev FROM audit_entry a ORDER BY a.id DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_hash := encode(sha256(convert_to(v_prev || E'\\n' || p_canonical, 'UTF8')), 'hex');
    INSERT INTO audit_entry (at, actor_id, actor_username, la_id, action, record_type,
                             record_id, pupil_id, route, outcome, prev_hash, entry_hash)
    VALUES (p_at, p_actor_id, p_actor_username, p_la_id, p_action, p_record_type,
            p_record_id, p_pupil_id, p_route, p_outcome, v_prev, v_hash)
    RETURNING id INTO v_id;
    RETURN QUERY SELECT v_id, v_prev, v_hash;
END;
$$ LANGUAGE plpgsql VOLATILE
"""


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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS casework_audit_append")
    drop_append_only(APPEND_ONLY)
    op.drop_table("audit_entry")
