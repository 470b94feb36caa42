"""register retention

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Register entries are kept at least 6 years (the 2024 Regulations), counted here from the end of
the academic year the session is in (``casework.registers.store.retained_until``); an LA may keep
them longer (``CASEWORK_REGISTER_RETENTION_YEARS``), and ``casework.registers.retention`` purges
what has expired.

``mark_amendment`` stays append-only except for that purge: UPDATE is still refused, and DELETE
is refused by the database itself for any amendment whose session no configuration could allow
to go yet, i.e. unless its ``session_date`` is before 1 August of (the current academic year's
first year - 6). That is exactly the 6-year minimum: an academic year starting in Y may go from
1 August of Y + 7 (on 1 August 2031 the 2024/25 year, sessions before 1 August 2025, may go;
on 31 July 2031 only sessions before 1 August 2024 may). "Today" is the database's date.
"""

from alembic import op

from casework.append_only import make_append_only

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSED = (
    "mark_amendment is append-only: DELETE refused for a session on or after %s "
    "(register entries are kept at least 6 years from the end of their academic year)"
)

# PostgreSQL: UPDATE keeps the shared refusal; DELETE gets a function of its own.
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION casework_mark_amendment_retention() RETURNS trigger AS $$
DECLARE
    this_year integer := extract(year FROM current_date)::integer
        - CASE WHEN extract(month FROM current_date) >= 8 THEN 0 ELSE 1 END;
    keep_from date := make_date(this_year - 6, 8, 1);
BEGIN
    IF OLD.session_date >= keep_from THEN
        RAISE EXCEPTION '{REFUSED.replace("%s", "%")}', keep_from;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql
"""

# SQLite: 1 August of (the current academic year's first year - 6), as 'YYYY-MM-DD' text, which
# is how SQLAlchemy stores a Date there (so text comparison is date comparison).
_SQLITE_KEEP_FROM = (
    "printf('%04d-08-01', CAST(strftime('%Y', date('now')) AS INTEGER)"
    " - CASE WHEN CAST(strftime('%m', date('now')) AS INTEGER) >= 8 THEN 6 ELSE 7 END)"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER mark_amendment_no_delete BEFORE DELETE ON mark_amendment "
    f"WHEN OLD.session_date >= {_SQLITE_KEEP_FROM} "
    "BEGIN SELECT RAISE(ABORT, 'mark_amendment is append-only: DELETE refused for a session "
    "within the 6-year minimum (register entries are kept at least 6 years from the end of "
    "their academic year)'); END"
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS mark_amendment_append_only ON mark_amendment")
        op.execute(
            "CREATE TRIGGER mark_amendment_no_update BEFORE UPDATE ON mark_amendment "
            "FOR EACH ROW EXECUTE FUNCTION casework_refuse_change()"
        )
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER mark_amendment_retention BEFORE DELETE ON mark_amendment "
            "FOR EACH ROW EXECUTE FUNCTION casework_mark_amendment_retention()"
        )
        return
    # SQLite: mark_amendment_no_update (migration 0004) stays as it is.
    op.execute("DROP TRIGGER IF EXISTS mark_amendment_no_delete")
    op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS mark_amendment_retention ON mark_amendment")
        op.execute("DROP FUNCTION IF EXISTS casework_mark_amendment_retention()")
        op.execute("DROP TRIGGER IF EXISTS mark_amendment_no_update ON mark_amendment")
        make_append_only(("mark_amendment",))  # BEFORE UPDATE OR DELETE, as 0004 made it
        return
    op.execute("DROP TRIGGER IF EXISTS mark_amendment_no_delete")
    op.execute(
        "CREATE TRIGGER mark_amendment_no_delete BEFORE DELETE ON mark_amendment "
        "BEGIN SELECT RAISE(ABORT, 'mark_amendment is append-only: DELETE refused'); END"
    )
