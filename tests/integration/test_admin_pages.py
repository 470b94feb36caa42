"""The imports, outbox and admin pages, as people in a browser use them: upload a register file
and read its validation report, retry a failed email, add a user and set their schools, add an
INSET day, read the LA profile; and every page refuses the roles it is not for."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select, update

from casework.models import ImportBatch, Pupil, User
from casework.models.outbox import OutboxMessage
from casework.registers.ctf import default_ctf_versions, write_ctf
from casework.registers.records import CtfAddress, CtfContact, CtfFile, CtfHeader, CtfPupil
from casework.upn import make_upn
from notifications.outbox import enqueue

HTML = {"Accept": "text/html,application/xhtml+xml"}
HX = {"HX-Request": "true"}
CONTEXT = {
    "recipient_name": "Ms Example",
    "paragraphs": ["Your child's attendance is 89%."],
    "reason": "you are the parent named on the case",
    "sender_name": "Attendance Service",
}


def _upn(db, pupil_id: int) -> str:
    with db.factory() as session:
        return session.get(Pupil, pupil_id).upn


def _upload(client, data: bytes, name: str, **form):
    return client.post(
        "/imports",
        files={"file": (name, data, "text/csv" if name.endswith(".csv") else "text/xml")},
        data=form,
        headers=HTML,
        follow_redirects=False,
    )


def _batch_id(response) -> int:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/imports/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


# --- imports ----------------------------------------------------------------------------------


def test_a_csv_upload_imports_and_shows_what_was_written(client_as, db):
    client = client_as("oak_lead")
    page = client.get("/imports", headers=HTML)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'hx-get="/imports/progress' in page.text  # the live progress region
    assert "Oakfield Primary" in page.text and "Hillcrest Primary" not in page.text

    upn = _upn(db, db.world.pupil_oak)
    csv = f"upn,date,session,code\n{upn},2024-11-18,AM,/\n{upn},2024-11-18,PM,\\\n".encode()
    done = _upload(
        client, csv, "oak.csv", kind="csv", school_id=str(db.world.oakfield), mapping="canonical"
    )
    batch = client.get(f"/imports/{_batch_id(done)}", headers=HTML)
    assert batch.status_code == 200
    assert "oak.csv" in batch.text and "Imported" in batch.text
    assert "No problems were found" in batch.text

    listed = client.get("/imports", headers=HTML)
    assert "oak.csv" in listed.text

    again = _upload(
        client, csv, "oak.csv", kind="csv", school_id=str(db.world.oakfield), mapping="canonical"
    )
    assert "Already imported" in client.get(f"/imports/{_batch_id(again)}").text


def test_a_rejected_csv_shows_each_problem_in_the_validation_report(client_as, db):
    client = client_as("oak_lead")
    upn = _upn(db, db.world.pupil_oak)
    bad = f"upn,date,session,code\n{upn},2024-11-23,AM,/\n".encode()  # a Saturday
    done = _upload(
        client, bad, "bad.csv", kind="csv", school_id=str(db.world.oakfield), mapping="canonical"
    )
    page = client.get(f"/imports/{_batch_id(done)}", headers=HTML)
    assert "Nothing was imported" in page.text
    assert "Validation report" in page.text
    report = page.text[page.text.index('id="report"') :]
    assert "2024-11-23" in report and ">date<" in report
    with db.factory() as session:
        assert session.scalars(select(ImportBatch.status)).all() == ["rejected"]


def test_a_ctf_upload_is_reported(client_as, db):
    version = sorted(default_ctf_versions(date.today()))[-1]
    header = CtfHeader(
        version, "Common Transfer File", None, "full", "Casework tests", 2024, "340", "2001",
        "900001", "Oakfield Primary", "340", "XXX",
    )  # fmt: skip
    pupil = CtfPupil(
        line=0, upn=make_upn(340, 2001, 24, 77), former_upn=None, surname="Testpupil",
        forename="Robin", preferred_surname=None, preferred_forename=None,
        date_of_birth=date(2016, 5, 1), sex="M", nc_year=3, fsm=False, sen_support=False,
        ehc_plan=False, looked_after=False, eal=False,
        address=CtfAddress(("1 Example Road",), "Exampletown", "ZZ99 3AA"),
        contacts=(CtfContact(0, 1, "Mx", "Testparent", "Sam", "Parent", True, None, True, ()),),
        attendance=(),
    )  # fmt: skip
    client = client_as("oak_lead")
    done = _upload(client, write_ctf(CtfFile(header, (pupil,))), "oak.xml", kind="ctf")
    page = client.get(f"/imports/{_batch_id(done)}", headers=HTML)
    assert page.status_code == 200 and "oak.xml" in page.text
    assert "Validation report" in page.text

    broken = _upload(client, b"<CTfile><Header>", "broken.xml", kind="ctf")
    report = client.get(f"/imports/{_batch_id(broken)}", headers=HTML)
    assert "Nothing was imported" in report.text


def test_an_upload_without_a_file_or_school_shows_the_error_summary(client_as, db):
    client = client_as("manager")
    response = client.post(
        "/imports",
        files={"file": ("", b"", "text/csv")},
        data={"kind": "csv", "mapping": "canonical"},
        headers=HTML,
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#upload-file"' in response.text and 'href="#upload-school_id"' in response.text


def test_progress_is_a_fragment_that_stops_polling_when_nothing_runs(client_as):
    client = client_as("oak_lead")
    waiting = client.get("/imports/progress?wait=3", headers=HX)
    assert waiting.status_code == 200 and "<html" not in waiting.text
    assert 'hx-get="/imports/progress?wait=2&amp;seen=0"' in waiting.text
    finished = client.get("/imports/progress?wait=5&seen=1", headers=HX)
    assert "hx-get" not in finished.text and "The import has finished" in finished.text
    idle = client.get("/imports/progress?wait=0", headers=HX)
    assert "hx-get" not in idle.text
    direct = client.get("/imports/progress", follow_redirects=False)
    assert direct.status_code == 303 and direct.headers["location"] == "/imports"


def test_progress_shows_a_running_import_of_the_signed_in_user_only(client_as, db):
    from api.controllers import imports as registry

    entry = {"user_id": db.world.users["oak_lead"], "file_name": "oak.xml", "done": 3, "total": 4}
    with registry._lock:
        registry._running[-1] = entry
    try:
        shown = client_as("oak_lead").get("/imports/progress", headers=HX)
        assert "Importing now" in shown.text and "oak.xml" in shown.text
        assert 'max="4" value="3"' in shown.text and "(75%)" in shown.text
        assert "seen=1" in shown.text  # polls on, and knows to say when it has finished
        assert "oak.xml" not in client_as("oak_head").get("/imports/progress", headers=HX).text
    finally:
        with registry._lock:
            registry._running.pop(-1, None)


def test_imports_refuse_officers_and_hide_other_schools_batches(client_as, db):
    for who in ("traded", "statutory"):
        refused = client_as(who).get("/imports", headers=HTML)
        assert refused.status_code == 403 and "Not allowed" in refused.text
    hill = client_as("hill_lead")
    upn = _upn(db, db.world.pupil_hill)
    done = _upload(
        hill,
        f"upn,date,session,code\n{upn},2024-11-18,AM,/\n".encode(),
        "hill.csv",
        kind="csv",
        school_id=str(db.world.hillcrest),
        mapping="canonical",
    )
    batch_id = _batch_id(done)
    oak = client_as("oak_lead")
    assert oak.get(f"/imports/{batch_id}", headers=HTML).status_code == 404
    assert "hill.csv" not in oak.get("/imports", headers=HTML).text
    # Nor may a school import for another school.
    elsewhere = _upload(
        oak,
        b"upn,date,session,code\n",
        "x.csv",
        kind="csv",
        school_id=str(db.world.hillcrest),
        mapping="canonical",
    )
    assert elsewhere.status_code == 404


# --- outbox -----------------------------------------------------------------------------------


def _failed_message(db, clock, key: str = "failed-1") -> int:
    with db.factory() as session:
        row = enqueue(
            session,
            key=key,
            kind="test",
            la_id=db.world.la,
            to_address="parent@example.org",
            template="generic",
            context=CONTEXT,
            subject="Attendance at Oakfield",
            now=clock.now(),
        )
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(status="failed", attempts=8, last_error="SMTPRecipientsRefused 550")
        )
        session.commit()
        return row.id


def test_a_manager_sees_failed_messages_and_retries_one(client_as, db, clock):
    message = _failed_message(db, clock)
    client = client_as("manager")
    page = client.get("/outbox?status=failed", headers=HTML)
    assert page.status_code == 200
    assert "Attendance at Oakfield" in page.text and "parent@example.org" in page.text
    assert "SMTPRecipientsRefused 550" in page.text
    assert f'action="/outbox/{message}/retry?status=failed"' in page.text

    done = client.post(f"/outbox/{message}/retry?status=failed", follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/outbox?status=failed&retried={message}"
    banner = client.get(done.headers["location"], headers=HTML)
    assert f"Message {message} is queued to be sent again" in banner.text
    with db.factory() as session:
        assert session.get(OutboxMessage, message).status == "pending"

    again = client.post(f"/outbox/{message}/retry", headers=HTML)
    assert again.status_code == 409 and "Only a failed message can be retried" in again.text


def test_the_outbox_pages_through_messages(client_as, db, clock):
    for n in range(27):
        _failed_message(db, clock, key=f"m-{n}")
    client = client_as("manager")
    first = client.get("/outbox", headers=HTML)
    assert "Page 1 of 2" in first.text and 'href="/outbox?page=2"' in first.text
    assert "Page 2 of 2" in client.get("/outbox?page=2", headers=HTML).text


def test_the_outbox_refuses_casework_roles_and_shows_admins_counts_only(client_as, db, clock):
    message = _failed_message(db, clock)
    for who in ("oak_lead", "traded", "statutory"):
        response = client_as(who).get("/outbox", headers=HTML)
        assert response.status_code == 403, who
    refused = client_as("oak_lead").post(f"/outbox/{message}/retry", headers=HTML)
    assert refused.status_code == 403
    admin = client_as("admin")
    page = admin.get("/outbox", headers=HTML)
    assert page.status_code == 200
    assert "parent@example.org" not in page.text and "Attendance at Oakfield" not in page.text
    assert admin.post(f"/outbox/{message}/retry", headers=HTML).status_code == 404


# --- admin ------------------------------------------------------------------------------------


def test_an_admin_adds_a_traded_officer_and_sets_their_schools(client_as, db):
    client = client_as("admin")
    form = client.get("/admin/users/new", headers=HTML)
    assert form.status_code == 200 and 'name="school_ids"' in form.text
    added = client.post(
        "/admin/users",
        data={
            "username": "new_officer",
            "full_name": "New Officer",
            "position": "Traded attendance officer",
            "email": "new.officer@example.org",
            "role": "traded_officer",
            "school_ids": [str(db.world.oakfield), str(db.world.riverside)],
            "password": "a-long-enough-password",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    user_page = client.get(added.headers["location"], headers=HTML)
    assert "The user has been added" in user_page.text
    assert "Oakfield Primary" in user_page.text and "Riverside Primary" in user_page.text
    user_id = int(re.search(r"/admin/users/(\d+)", added.headers["location"]).group(1))

    changed = client.post(
        f"/admin/users/{user_id}",
        data={"role": "traded_officer", "school_ids": [str(db.world.hillcrest)]},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    with db.factory() as session:
        assert session.get(User, user_id).school_ids == {db.world.hillcrest}

    # School staff have exactly one school: the form says so.
    refused = client.post(
        f"/admin/users/{user_id}",
        data={
            "role": "school_staff",
            "school_ids": [str(db.world.oakfield), str(db.world.hillcrest)],
        },
        headers=HTML,
    )
    assert refused.status_code == 422
    assert "school staff have one school" in refused.text
    assert 'href="#user-school_ids"' in refused.text

    off = client.post(f"/admin/users/{user_id}/active", data={"active": "no"})
    assert "deactivated" in off.text
    with db.factory() as session:
        assert session.get(User, user_id).active is False
    assert "New Officer" not in client.get("/admin/users", headers=HTML).text
    assert "New Officer" in client.get("/admin/users?show=all", headers=HTML).text


def test_adding_a_user_with_missing_answers_shows_the_error_summary(client_as, db):
    client = client_as("admin")
    response = client.post(
        "/admin/users", data={"username": "admin", "role": "school_staff"}, headers=HTML
    )
    assert response.status_code == 422
    for field in ("new-full_name", "new-email", "new-password"):
        assert f'href="#{field}"' in response.text
    taken = client.post(
        "/admin/users",
        data={
            "username": "manager",
            "full_name": "Another",
            "position": "Manager",
            "email": "another@example.org",
            "role": "la_manager",
            "password": "a-long-enough-password",
        },
        headers=HTML,
    )
    assert taken.status_code == 409 and "is taken" in taken.text


def test_an_admin_cannot_deactivate_themselves(client_as, db):
    client = client_as("admin")
    me = db.world.users["admin"]
    response = client.post(f"/admin/users/{me}/active", data={"active": "no"}, headers=HTML)
    assert response.status_code == 409
    assert "cannot deactivate your own account" in response.text


def test_admin_pages_show_roles_schools_calendars_and_the_profile(client_as, db):
    client = client_as("admin")
    for path, expected in (
        ("/admin", "Admin"),
        ("/admin/roles", "Traded attendance officer"),
        ("/admin/schools", "Oak Lead"),
        ("/admin/calendars?year=2024", "Autumn"),
        ("/admin/profile", "Clocks"),
    ):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert expected in page.text, path
    assert "Amelia" not in client.get("/admin/schools", headers=HTML).text  # no pupils


def test_an_admin_adds_an_inset_day_to_a_schools_calendar(client_as, db):
    client = client_as("admin")
    path = f"/admin/schools/{db.world.oakfield}/calendar"
    page = client.get(f"{path}?year=2024", headers=HTML)
    assert page.status_code == 200 and "Add an INSET day or a closure" in page.text
    done = client.post(
        path,
        data={"kind": "inset_day", "first": "2025-01-06", "session": "both", "reason": "Training"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = client.get(done.headers["location"], headers=HTML)
    assert "The change to the calendar is recorded" in shown.text
    assert "6 January 2025" in shown.text and "Training" in shown.text

    link = re.search(rf'href="({path}/(\d+)/withdraw)"', shown.text)
    assert link, "the INSET day offers no withdrawal"
    confirm = client.get(link.group(1), headers=HTML)
    assert confirm.status_code == 200 and "Withdraw the inset day" in confirm.text
    unexplained = client.post(link.group(1), data={"reason": ""}, headers=HTML)
    assert unexplained.status_code == 422 and 'href="#withdraw-reason"' in unexplained.text
    withdrawn = client.post(link.group(1), data={"reason": "Entered by mistake"})
    assert withdrawn.status_code == 200
    assert "No INSET days are recorded for 2024/25" in withdrawn.text
    assert client.get(link.group(1), headers=HTML).status_code == 404

    missing = client.post(path, data={"kind": "inset_day", "session": "both"}, headers=HTML)
    assert missing.status_code == 422
    assert 'href="#calendar-first"' in missing.text and 'href="#calendar-reason"' in missing.text


def test_admin_pages_are_for_admins_only(client_as, db):
    for who in ("manager", "oak_lead", "traded"):
        client = client_as(who)
        for path in ("/admin", "/admin/users", "/admin/profile", "/admin/calendars"):
            response = client.get(path, headers=HTML)
            assert response.status_code == 403, (who, path)
            assert "Not allowed" in response.text
        posted = client.post(
            f"/admin/users/{db.world.users['oak_head']}/active",
            data={"active": "no"},
            headers=HTML,
        )
        assert posted.status_code == 403
    with db.factory() as session:
        assert session.get(User, db.world.users["oak_head"]).active is True
    assert client_as("admin").get("/admin/users/999999", headers=HTML).status_code == 404
