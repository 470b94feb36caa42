"""Documents on a case: kept with their hash, downloadable only within scope, never replaced."""

from __future__ import annotations

import hashlib

PDF = b"%PDF-1.7\n% a letter to a parent\n%%EOF\n"


def _case(client, world) -> int:
    made = client.post(
        "/api/cases",
        json={"pupil_id": world.pupil_oak, "school_id": world.oakfield, "reason": "below 95%"},
    )
    assert made.status_code == 201, made.text
    return made.json()["case"]["id"]


def test_a_letter_is_kept_with_its_hash_and_an_event(client_as, db):
    client = client_as("oak_lead")
    case_id = _case(client, db.world)
    uploaded = client.post(
        f"/api/cases/{case_id}/attachments",
        files={"file": ("First letter \u2013 Ashdown.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["size"] == len(PDF)

    download = client.get(f"/api/cases/{case_id}/attachments/{body['id']}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.headers["content-disposition"].startswith('attachment; filename="First letter')
    assert "filename*=UTF-8''First%20letter%20%E2%80%93" in download.headers["content-disposition"]

    events = client.get(f"/api/cases/{case_id}/events").json()
    assert events[-1]["kind"] == "attachment_added"
    assert events[-1]["data"]["sha256"] == body["sha256"]


def test_attachments_outside_scope_are_not_found(client_as, db):
    case_id = _case(client_as("oak_lead"), db.world)
    uploaded = (
        client_as("oak_lead")
        .post(
            f"/api/cases/{case_id}/attachments",
            files={"file": ("note.txt", b"home visit note", "text/plain")},
        )
        .json()
    )
    other = client_as("hill_lead")
    assert other.get(f"/api/cases/{case_id}/attachments").status_code == 404
    assert other.get(f"/api/cases/{case_id}/attachments/{uploaded['id']}").status_code == 404


def test_unsafe_or_mislabelled_files_are_refused_and_nothing_is_kept(client_as, db):
    client = client_as("oak_lead")
    case_id = _case(client, db.world)
    for name, content, media, rule in (
        ("page.html", b"<script>alert(1)</script>", "text/html", "PDF, PNG, JPEG"),
        ("letter.pdf", b"MZ not really a pdf", "application/pdf", "not what its type says"),
        ("empty.txt", b"", "text/plain", "empty"),
    ):
        refused = client.post(
            f"/api/cases/{case_id}/attachments", files={"file": (name, content, media)}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "file"
        assert rule in refused.json()["errors"][0]["rule"]
    assert client.get(f"/api/cases/{case_id}/attachments").json() == []
    assert client.get(f"/api/cases/{case_id}/events").json()[-1]["kind"] == "opened"
