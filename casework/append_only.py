"""Database triggers that make evidential tables append-only, for the migrations to share.

PostgreSQL tables call one function that raises; SQLite tables get a trigger per action.
"""

from __future__ import annotations

from alembic import op

_FUNCTION = """
CREATE OR REPLACE FUNCTION casework_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_refusal_function() -> None:
    """Once (migration 0001): the function every PostgreSQL trigger calls."""
    if _postgres():
        op.execute(_FUNCTION)


def drop_refusal_function() -> None:
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS casework_refuse_change()")


def make_append_only(tables: tuple[str, ...]) -> None:
    for table in tables:
        if _postgres():
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION casework_refuse_change()"
            )
            continue
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def drop_append_only(tables: tuple[str, ...]) -> None:
    for table in tables:
        if _postgres():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
