"""retention purge

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

The retention purge (``workflows.retention``) is the only way rows leave the append-only tables
(a closed case's chronology, letters and packs, outbox history, import batches, leave and
penalty-notice records). DELETE is let through only while the purge's transaction-local marker
is set: on PostgreSQL ``SET LOCAL casework.purging = 'on'``; on SQLite a row in
``purge_in_progress`` (the purge inserts and removes it in its own transaction). UPDATE stays
refused always, and the audit log and the calendars are never purged. ``mark_amendment`` keeps
migration 0005's own rule (the 6-year minimum, checked by the database).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The append-only tables the purge may delete from.
PURGEABLE = (
    "case_event",
    "intervention",
    "attachment",
    "letter",
    "court_pack",
    "outbox_event",
    "leave_request",
    "leave_decision",
    "penalty_payment",
    "penalty_notice_enquiry",
    "prior_penalty_notice",
    "import_batch",
    "pupil_upn_change",
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION casework_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = ANY (ARRAY[{tables}])
            AND coalesce(current_setting('casework.purging', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""

# As migration 0001 made it.
_PG_ORIGINAL = """
CREATE OR REPLACE FUNCTION casework_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_delete_trigger(table: str, when: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.execute(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when}"
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
    )


def upgrade() -> None:
    op.create_table(
        "purge_in_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_in_progress")),
    )
    if _postgres():
        op.execute(_PG_FUNCTION.format(tables=", ".join(f"'{t}'" for t in PURGEABLE)))
        return
    for table in PURGEABLE:
        _sqlite_delete_trigger(table, "WHEN NOT EXISTS (SELECT 1 FROM purge_in_progress) ")


def downgrade() -> None:
    if _postgres():
        op.execute(_PG_ORIGINAL)
    else:
        for table in PURGEABLE:
            _sqlite_delete_trigger(table, "")
    op.drop_table("purge_in_progress")
