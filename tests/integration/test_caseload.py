"""The caseload listing: filters by holder, school, stage and level, and pages through."""

from __future__ import annotations

from datetime import date

from casework.models import Enrolment, Pupil
from casework.upn import make_upn
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.responsibility import assign


def _more_pupils(db, count: int) -> list[int]:
    with db.factory() as session:
        ids = []
        for n in range(count):
            pupil = Pupil(
                upn=make_upn(340, 2001, 21, 500 + n),
                legal_forename=f"Pupil{n}",
                legal_surname="Example",
                date_of_birth=date(2021, 9, 1),
                sex="M",
                nc_year=3,
                la_id=db.world.la,
            )
            session.add(pupil)
            session.flush()
            session.add(
                Enrolment(
                    pupil_id=pupil.id,
                    school_id=db.world.oakfield,
                    start_date=date(2021, 9, 1),
                    registration="main",
                )
            )
            ids.append(pupil.id)
        session.commit()
    return ids


def test_filters_and_pages(client_as, context, db):
    world = db.world
    pupils = [world.pupil_oak, *_more_pupils(db, 4)]
    ctx = context("oak_lead")
    cases = [open_case(ctx, OpenCase(p, world.oakfield, reason="below 95%")) for p in pupils]
    fire_trigger(
        ctx, cases[0].id, FireTrigger("advance_to_listen_and_understand", cases[0].version)
    )
    assign(ctx, cases[1].id, world.users["oak_head"], "covering while on leave")
    ctx.commit()
    ctx = context("river_lead")
    open_case(ctx, OpenCase(world.pupil_river, world.riverside, reason="below 95%"))
    ctx.commit()

    client = client_as("traded")
    everything = client.get("/api/cases").json()
    assert everything["total"] == 6
    assert client.get("/api/cases", params={"school_id": world.riverside}).json()["total"] == 1
    held = client.get("/api/cases", params={"owner_id": world.users["oak_head"]}).json()
    assert [c["id"] for c in held["items"]] == [cases[1].id]
    listening = client.get("/api/cases", params={"stage": "listen_and_understand"}).json()
    assert [c["id"] for c in listening["items"]] == [cases[0].id]
    # Knowsley Level 1 covers Expect, Monitor and Listen and understand: all six cases.
    assert client.get("/api/cases", params={"level": 1}).json()["total"] == 6
    assert client.get("/api/cases", params={"level": 2}).json()["total"] == 0
    assert client.get("/api/cases", params={"level": 1, "stage": "monitor"}).json()["total"] == 5

    first = client.get("/api/cases", params={"page_size": 4}).json()
    second = client.get("/api/cases", params={"page_size": 4, "page": 2}).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (6, 4, 2)
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}

    too_big = client.get("/api/cases", params={"page_size": 1000})
    assert too_big.status_code == 400
    assert too_big.json()["errors"][0]["field"] == "page_size"
