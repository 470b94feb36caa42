from casework.vocabulary import Stage
from workflows.cases import OpenCase, open_case


def test_a_school_opens_a_case_and_the_chronology_records_it(context, db):
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 95%"))
    ctx.commit()
    assert case.stage == Stage.MONITOR


def test_api_lists_the_case_for_the_school(client_as, db):
    client = client_as("oak_lead")
    made = client.post(
        "/api/cases",
        json={
            "pupil_id": db.world.pupil_oak,
            "school_id": db.world.oakfield,
            "reason": "below 95%",
        },
    )
    assert made.status_code == 201, made.text
    listed = client.get("/api/cases").json()
    assert listed["total"] == 1
