"""Integration tokens (issue 9): scoped to named schools and to importing only, stored hashed,
shown once, expiring, revocable, last use recorded; and the administrators' page for them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from casework.errors import InvalidInput
from casework.models import ApiToken, ApiTokenSchool, ImportBatch, Pupil, User
from casework.vocabulary import Role
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD
from workflows.registry import AddUser, create_user
from workflows.tokens import issue_token

ISSUED = datetime(2024, 11, 20, 9, 0, tzinfo=UTC)  # an hour before the test clock


def _integration(db, schools=("oakfield", "riverside"), **issue) -> tuple[str, int]:
    """An integration account serving ``schools`` and a token (issued by the admin)."""
    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        user = create_user(
            session,
            AddUser(
                username=f"mis_{len(issue)}_{'_'.join(schools)}",
                full_name="MIS link",
                position="MIS integration",
                email="mis@example.org",
                role=Role.INTEGRATION,
                password=PASSWORD,
                school_ids=[getattr(db.world, s) for s in schools],
            ),
            admin.la_id,
        )
        token = issue_token(session, user, name="MIS", by=admin, now=ISSUED, **issue)
        session.commit()
        return token, user.id


def _push(client: TestClient, token: str, school_id: int, marks=()) -> object:
    return client.post(
        "/api/integration/marks",
        json={"school_id": school_id, "marks": list(marks)},
        headers={"Authorization": f"Bearer {token}"},
    )


def _mark(db, pupil_id: int) -> dict[str, str]:
    with db.factory() as session:
        upn = session.get(Pupil, pupil_id).upn
    return {"upn": upn, "date": "2024-11-18", "session": "AM", "code": "/"}


def _batches(db) -> int:
    with db.factory() as session:
        return session.scalar(select(func.count()).select_from(ImportBatch))


# --- issuing ----------------------------------------------------------------------------------


def test_a_token_is_stored_hashed_expires_in_90_days_and_names_its_users_schools(db):
    token, user_id = _integration(db)
    with db.factory() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).one()
        assert token not in row.token_sha256 and len(row.token_sha256) == 64
        assert row.expires_at == ISSUED + timedelta(days=90)
        schools = set(
            session.scalars(
                select(ApiTokenSchool.school_id).where(ApiTokenSchool.token_id == row.id)
            )
        )
    assert schools == {db.world.oakfield, db.world.riverside}


@pytest.mark.parametrize(
    ("issue", "field", "rule"),
    [
        ({"school_ids": []}, "school_ids", "at least one school"),
        ({"school_ids": ["hillcrest"]}, "school_ids", "schools its integration user serves"),
        ({"expires_at": ISSUED - timedelta(days=1)}, "expires_at", "in the future"),
        ({"expires_at": ISSUED + timedelta(days=366)}, "expires_at", "at most a year"),
    ],
)
def test_a_token_outside_the_rules_is_refused(db, issue, field, rule):
    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        user = create_user(
            session,
            AddUser("mis_x", "MIS", "MIS", "m@example.org", Role.INTEGRATION, PASSWORD, [
                db.world.oakfield
            ]),
            admin.la_id,
        )  # fmt: skip
        if "school_ids" in issue:
            issue = {"school_ids": [getattr(db.world, s) for s in issue["school_ids"]]}
        before = session.scalar(select(func.count()).select_from(ApiToken))
        with pytest.raises(InvalidInput) as refused:
            issue_token(session, user, name="MIS", by=admin, now=ISSUED, **issue)
        assert refused.value.problems[0].field == field
        assert rule in refused.value.problems[0].rule
        assert session.scalar(select(func.count()).select_from(ApiToken)) == before


def test_only_integration_users_get_tokens(db):
    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        lead = session.get(User, db.world.users["oak_lead"])
        with pytest.raises(InvalidInput):
            issue_token(session, lead, name="MIS", by=admin, now=ISSUED)


# --- using ------------------------------------------------------------------------------------


def test_a_token_pushes_only_for_its_own_schools(db, app):
    # The account serves Oakfield and Riverside; this token names Oakfield only.
    token, _ = _integration(db, school_ids=[db.world.oakfield])
    client = TestClient(app)
    ok = _push(client, token, db.world.oakfield, [_mark(db, db.world.pupil_oak)])
    assert ok.status_code == 201, ok.text
    before = _batches(db)
    refused = _push(client, token, db.world.riverside, [_mark(db, db.world.pupil_river)])
    assert refused.status_code == 403
    assert f"school_id = {db.world.riverside}" in refused.json()["detail"]
    assert _batches(db) == before  # nothing written, not even a rejected batch


def test_a_token_lists_only_its_own_schools_imports(db, app, client_as):
    lead = client_as("manager")
    river = lead.post(
        "/api/imports/marks",
        json={"school_id": db.world.riverside, "marks": [_mark(db, db.world.pupil_river)]},
    )
    assert river.status_code == 201, river.text
    token, _ = _integration(db, school_ids=[db.world.oakfield])
    listed = TestClient(app).get("/api/integration/", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert river.json()["id"] not in [b["id"] for b in listed.json()]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cases"),
        ("GET", "/api/pupils"),
        ("GET", "/api/imports/"),
        ("POST", "/api/imports/marks"),
        ("GET", "/api/auth/me"),
        ("GET", "/api/schools"),
    ],
)
def test_a_token_authenticates_nothing_but_the_integration_routes(db, app, method, path):
    token, _ = _integration(db)
    # With the CSRF token too, so only the missing session can refuse the request.
    response = csrf_client(app).request(
        method,
        path,
        headers={"Authorization": f"Bearer {token}"},
        json={"school_id": db.world.oakfield, "marks": []} if method == "POST" else None,
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "a valid integration token is required"),
        ("Basic abc", "a valid integration token is required"),
        ("Bearer cw_not-a-real-token", "a valid integration token is required"),
        ("Bearer ", "a valid integration token is required"),
    ],
)
def test_a_missing_or_unknown_token_is_401(app, db, header, detail):
    headers = {"Authorization": header} if header else {}
    response = TestClient(app).post(
        "/api/integration/marks",
        json={"school_id": db.world.oakfield, "marks": []},
        headers=headers,
    )
    assert response.status_code == 401
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/integration/marks", b"{not json"),
        ("/api/integration/marks", b'{"school_id": "x", "marks": 7}'),
        ("/api/integration/ctf", b"<not-a-ctf"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer cw_not-a-real-token"])
def test_without_a_live_token_the_body_is_never_read(app, db, path, body, header):
    # 401 before the body is decoded: a caller without a token learns nothing from how its
    # request would have been read (not even that it was malformed), and nothing is recorded.
    headers = {"Authorization": header} if header else {}
    response = TestClient(app).post(path, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert _batches(db) == 0


def test_an_expired_token_is_401_saying_so(db, app, clock):
    token, _ = _integration(db, expires_at=ISSUED + timedelta(days=1))
    client = TestClient(app)
    assert _push(client, token, db.world.oakfield).status_code != 401
    clock.set(ISSUED + timedelta(days=1))
    expired = _push(client, token, db.world.oakfield)
    assert expired.status_code == 401
    assert "expired on 2024-11-21" in expired.json()["detail"]


def test_a_revoked_token_is_401_saying_so(db, app, client_as):
    token, user_id = _integration(db)
    with db.factory() as session:
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == user_id)).one()
    admin = client_as("admin")
    admin.follow_redirects = False
    assert admin.post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    revoked = _push(TestClient(app), token, db.world.oakfield)
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


def test_a_token_of_a_deactivated_account_is_401(db, app):
    token, user_id = _integration(db)
    with db.factory() as session:
        session.get(User, user_id).active = False
        session.commit()
    assert _push(TestClient(app), token, db.world.oakfield).status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(db, app, clock):
    token, user_id = _integration(db)
    client = TestClient(app)

    def last_use():
        with db.factory() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).one()
            return row.last_used_at, row.last_used_address

    assert last_use() == (None, None)
    start = clock.now()
    _push(client, token, db.world.oakfield)
    assert last_use() == (start, "testclient")
    clock.set(start + timedelta(seconds=30))
    _push(client, token, db.world.oakfield)
    assert last_use()[0] == start  # not rewritten within the minute
    clock.set(start + timedelta(minutes=2))
    _push(client, token, db.world.oakfield)
    assert last_use()[0] == start + timedelta(minutes=2)


def test_a_refused_push_still_records_the_tokens_use(db, app):
    token, user_id = _integration(db, school_ids=[db.world.oakfield])
    assert _push(TestClient(app), token, db.world.riverside).status_code == 403
    with db.factory() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).one()
        assert row.last_used_at is not None


# --- the administrators' page -----------------------------------------------------------------

HTML = {"Accept": "text/html"}


def test_an_admin_issues_a_token_shown_once_that_then_pushes(db, app, client_as):
    admin = client_as("admin")
    admin.follow_redirects = False
    form = admin.get("/admin/tokens/new", headers=HTML)
    assert form.status_code == 200 and 'name="school_ids"' in form.text
    issued = admin.post(
        "/admin/tokens",
        data={
            "name": "Oakfield SIMS",
            "account": "new",
            "school_ids": [str(db.world.oakfield)],
            "days": "30",
        },
        headers=HTML,
    )
    assert issued.status_code == 200, issued.text
    token = re.search(r'value="(cw_[^"]+)"', issued.text).group(1)
    assert issued.headers["cache-control"] == "no-store"
    listing = admin.get("/admin/tokens", headers=HTML)
    assert "Oakfield SIMS" in listing.text and "Oakfield Primary" in listing.text
    assert token not in listing.text  # shown once only
    assert _push(TestClient(app), token, db.world.oakfield).status_code != 401
    assert _push(TestClient(app), token, db.world.riverside).status_code == 403
    with db.factory() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "Oakfield SIMS")).one()
        assert row.expires_at == app.state.services.clock.now() + timedelta(days=30)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "days": "30", "school_ids": ["oakfield"]}, "Enter what the integration is"),
        ({"name": "MIS", "days": "30"}, "Choose at least one school"),
        ({"name": "MIS", "days": "366", "school_ids": ["oakfield"]}, "from 1 to 365"),
        ({"name": "MIS", "days": "soon", "school_ids": ["oakfield"]}, "from 1 to 365"),
        ({"name": "MIS", "days": "30", "school_ids": ["999999"]}, "No such schools in your LA"),
    ],
)
def test_the_issue_form_refuses_bad_input_and_issues_nothing(db, client_as, data, message):
    admin = client_as("admin")
    data = dict(data)
    if "school_ids" in data:
        data["school_ids"] = [
            str(getattr(db.world, s)) if hasattr(db.world, s) else s for s in data["school_ids"]
        ]
    with db.factory() as session:
        before = session.scalar(select(func.count()).select_from(ApiToken))
    refused = admin.post("/admin/tokens", data={"account": "new", **data}, headers=HTML)
    assert refused.status_code == 422
    assert message in refused.text
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == before


def test_an_existing_account_gets_tokens_only_for_schools_it_serves(db, client_as):
    _, user_id = _integration(db, schools=("oakfield",))
    admin = client_as("admin")
    refused = admin.post(
        "/admin/tokens",
        data={
            "name": "Second",
            "account": str(user_id),
            "school_ids": [str(db.world.hillcrest)],
            "days": "30",
        },
        headers=HTML,
    )
    assert refused.status_code == 422
    assert "schools its integration user serves" in refused.text


@pytest.mark.parametrize("username", ["manager", "oak_lead", "statutory"])
def test_only_administrators_see_or_revoke_tokens(db, client_as, username):
    _integration(db)
    with db.factory() as session:
        token_id = session.scalars(select(ApiToken.id)).first()
    client = client_as(username)
    assert client.get("/admin/tokens", headers=HTML).status_code == 403
    assert client.post(f"/admin/tokens/{token_id}/revoke", headers=HTML).status_code == 403
    with db.factory() as session:
        assert session.get(ApiToken, token_id).revoked_at is None


def test_a_ctf_for_a_school_outside_the_token_is_rejected_and_creates_no_pupil(db, app):
    from datetime import date

    from casework.synthetic.files import ctf_version
    from casework.upn import make_upn
    from tests.integration.test_ctf_import import _file, _index, _present, _pupil, _year

    # The account serves Oakfield and Riverside; the token only Riverside; the file is Oakfield's.
    token, _ = _integration(db, school_ids=[db.world.riverside])
    data = _file(_pupil(make_upn(340, 2001, 24, 501), "Newpupil", year=_year(_index(db), _present)))
    # Over HTTP the CTF versions of the real date are accepted (the current and the previous).
    data = data.replace(b">24.0<", b">" + ctf_version(date.today()).encode() + b"<")
    with db.factory() as session:
        pupils = session.scalar(select(func.count()).select_from(Pupil))
    refused = TestClient(app).post(
        "/api/integration/ctf?file_name=oakfield.xml",
        content=data,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 422, refused.text
    assert "is one you may import for" in refused.json()["detail"]
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(Pupil)) == pupils
    # The same file with a token for Oakfield is imported.
    oakfield, _ = _integration(db, schools=("oakfield",), school_ids=[db.world.oakfield])
    imported = TestClient(app).post(
        "/api/integration/ctf?file_name=oakfield.xml",
        content=data,
        headers={"Authorization": f"Bearer {oakfield}"},
    )
    assert imported.status_code == 201, imported.text
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(Pupil)) == pupils + 1


# --- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "ok"), [("30", True), ("365", True), ("0", False), ("366", False)]
)
def test_the_command_issues_a_token_for_the_named_schools_expiring_after_days(
    db, tmp_path, monkeypatch, days, ok
):
    from click.testing import CliRunner

    from api.cli import main

    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(
        main,
        [
            "registers", "integration-token", "--la", "340", "--school", "900002",
            "--name", "Riverside MIS", "--by", "admin", "--days", days,
        ],
    )  # fmt: skip
    with db.factory() as session:
        rows = session.scalars(select(ApiToken)).all()
        if not ok:
            assert result.exit_code != 0 and "--days" in result.output
            assert rows == []
            return
        assert result.exit_code == 0, result.output
        (row,) = rows
        assert (row.expires_at - row.created_at).days == int(days)
        schools = set(
            session.scalars(
                select(ApiTokenSchool.school_id).where(ApiTokenSchool.token_id == row.id)
            )
        )
    assert schools == {db.world.riverside}
    assert "expires on" in result.output
    assert result.output.strip().splitlines()[-1].startswith("cw_")
