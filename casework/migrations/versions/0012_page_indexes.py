"""page indexes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

Indexes for My work and the caseload at an LA's scale (100,000 cases): open deadlines by due
date (the caseload's default order walks them and stops after a page) and by case (each case's
next deadline); open cases newest first within an LA, a holder and a school; flags by the day
they were raised. The partial ones cover only what the pages ask for (open deadlines, open
cases), so they stay small as closed history grows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN_DEADLINES = sa.text("status IN ('pending', 'fired')")
OPEN_CASES = sa.text("closed_at IS NULL")

INDEXES = (
    ("ix_deadline_open_due_on", "deadline", ["due_on", "case_id"], OPEN_DEADLINES),
    ("ix_deadline_open_case_id", "deadline", ["case_id", "due_on", "status", "id"], OPEN_DEADLINES),
    ("ix_case_file_open_la_opened", "case_file", ["la_id", "opened_at", "id"], OPEN_CASES),
    ("ix_case_file_open_owner_opened", "case_file", ["owner_id", "opened_at", "id"], OPEN_CASES),
    ("ix_case_file_open_school_opened", "case_file", ["school_id", "opened_at", "id"], OPEN_CASES),
    ("ix_pupil_flag_raised_on", "pupil_flag", ["raised_on"], None),
)


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        if where is None:
            op.create_index(name, table, columns, unique=False)
        else:
            op.create_index(
                name, table, columns, unique=False, postgresql_where=where, sqlite_where=where
            )


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
