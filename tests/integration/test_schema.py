"""The database schema: migrations match the models, evidential tables are append-only, and the case
row is optimistically locked. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import exc, select, text
from sqlalchemy.orm.exc import StaleDataError

from casework.models import Attachment, Base, Case, CaseEvent, Intervention
from casework.vocabulary import Engagement, InterventionKind, InterventionOutcome
from workflows.cases import OpenCase, open_case
from workflows.interventions import RecordIntervention, record_intervention


def test_migrations_produce_exactly_the_models_schema(db):
    with db.engine.connect() as conn:
        migration = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(migration, Base.metadata) == []


@pytest.fixture
def evidence(db, context):
    """A case with one event, one intervention (and its event) and one attachment, committed."""
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    item = record_intervention(
        ctx,
        case.id,
        RecordIntervention(
            kind=InterventionKind.PHONE_CALL.value,
            occurred_on=date(2024, 11, 19),
            summary="Spoke to mum about Monday absences",
            family_engaged=Engagement.ENGAGED.value,
            outcome=InterventionOutcome.PENDING.value,
        ),
    )
    content = b"%PDF-1.4 letter"
    attachment = Attachment(
        case_id=case.id,
        intervention_id=item.id,
        filename="letter.pdf",
        media_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=ctx.actor.id,
        uploaded_at=ctx.now(),
    )
    ctx.session.add(attachment)
    ctx.commit()
    return {"case_event": case.id, "intervention": item.id, "attachment": attachment.id}


def _row_filter(table: str, ident: int) -> str:
    column = "case_id" if table == "case_event" else "id"
    return f"{column} = {int(ident)}"


@pytest.mark.parametrize("table", ["case_event", "intervention", "attachment"])
@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE {table} SET {column} = {column} WHERE {where}", id="update"),
        pytest.param("DELETE FROM {table} WHERE {where}", id="delete"),
    ],
)
def test_evidential_rows_cannot_be_changed_or_removed(db, evidence, table, statement):
    column = {"case_event": "reason", "intervention": "summary", "attachment": "filename"}[table]
    sql = statement.format(table=table, column=column, where=_row_filter(table, evidence[table]))
    with db.engine.connect() as conn:
        before = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        assert before > 0
        with pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(sql))
        conn.rollback()
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == before


def test_the_orm_cannot_edit_an_intervention_or_an_event(db, evidence):
    with db.factory() as session:
        item = session.get(Intervention, evidence["intervention"])
        item.outcome = InterventionOutcome.IMPROVED.value
        with pytest.raises(exc.DBAPIError, match="append-only"):
            session.flush()
        session.rollback()
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == evidence["case_event"])
        ).first()
        session.delete(event)
        with pytest.raises(exc.DBAPIError, match="append-only"):
            session.flush()
        session.rollback()
        assert session.get(Intervention, evidence["intervention"]).outcome == "pending"


def test_a_case_changed_underneath_gives_stale_data_on_flush(db, evidence):
    case_id = evidence["case_event"]
    first, second = db.factory(), db.factory()
    try:
        mine = first.get(Case, case_id)
        first.commit()  # the read is done; the loaded row keeps its version (no expiry on commit)
        theirs = second.get(Case, case_id)
        theirs.team = "traded"
        second.commit()
        assert theirs.version == mine.version + 1

        mine.team = "statutory"
        with pytest.raises(StaleDataError):
            first.flush()
        first.rollback()
    finally:
        first.close()
        second.close()
    with db.factory() as session:
        assert session.get(Case, case_id).team == "traded"
