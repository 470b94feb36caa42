"""The case page's family summary, documents and hand-over forms, through the pages as people
use them: each refusal names its field and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from casework.models import ApprovalRequest, Attachment, Case, CaseEvent, Referral
from tests.integration.test_pages import _open


def _count(db, model, **where) -> int:
    with db.factory() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query)


def test_the_family_shows_each_parent_and_the_siblings_in_scope(client_as, context, db):
    case_id, _ = _open(context, "traded", db.world.pupil_oak, db.world.oakfield)
    page = client_as("traded").get(f"/cases/{case_id}").text
    assert "Ms Dana Ashdown" in page and "Mr Evan Ashdown" in page
    assert "dana@example.org" in page and "1 Example Road, Exampletown, L00 0AA" in page
    # Bella is at Riverside, which the traded officer also serves.
    assert f'<a href="/pupils/{db.world.pupil_river}">Bella Ashdown</a>, Year 2' in page
    assert "(another school)" in page
    # Oakfield's lead cannot see Riverside's pupils: no sibling, and no hint of one.
    school_page = client_as("oak_lead").get(f"/cases/{case_id}").text
    assert "Bella" not in school_page
    assert "No brothers or sisters you can see are recorded." in school_page


def test_a_document_added_through_the_form_is_listed_and_downloads(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    lead = client_as("oak_lead")
    added = lead.post(
        f"/cases/{case_id}/documents",
        files={"file": ("meeting-notes.txt", b"Met Ms Ashdown on Monday.", "text/plain")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    page = lead.get(f"/cases/{case_id}").text
    assert "meeting-notes.txt" in page
    with db.factory() as session:
        attachment = session.scalars(select(Attachment).where(Attachment.case_id == case_id)).one()
    download = lead.get(f"/api/cases/{case_id}/attachments/{attachment.id}")
    assert download.content == b"Met Ms Ashdown on Monday."


def test_a_document_of_the_wrong_kind_is_refused_naming_the_file(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    lead = client_as("oak_lead")
    refused = lead.post(
        f"/cases/{case_id}/documents",
        files={"file": ("photo.png", b"not really a png", "image/png")},
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and 'href="#document-file"' in refused.text
    assert "the file&#39;s content is not what its type says" in refused.text
    nothing = lead.post(f"/cases/{case_id}/documents", files={"file": ("", b"", "text/plain")})
    assert nothing.status_code == 422 and "Choose a file to add to the case" in nothing.text
    assert _count(db, Attachment, case_id=case_id) == 0


def test_a_case_is_handed_to_someone_in_the_team_with_a_reason(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    lead = client_as("oak_lead")
    page = lead.get(f"/cases/{case_id}").text
    head = db.world.users["oak_head"]
    assert f'<option value="{head}">Oak Head, School Staff</option>' in page
    # Only people who may hold this school's cases in the same team are offered.
    assert f'value="{db.world.users["river_lead"]}"' not in page
    events = _count(db, CaseEvent, case_id=case_id)
    missing = lead.post(f"/cases/{case_id}/handover", data={"to_user_id": str(head), "reason": " "})
    assert missing.status_code == 422 and 'href="#handover-reason"' in missing.text
    assert _count(db, CaseEvent, case_id=case_id) == events
    done = lead.post(
        f"/cases/{case_id}/handover",
        data={"to_user_id": str(head), "reason": "Away on leave until January"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with db.factory() as session:
        assert session.get(Case, case_id).owner_id == head


def test_a_school_referral_to_the_statutory_team_needs_the_forms_sections(client_as, context, db):
    # Hillcrest does not buy the traded service: its lead refers to the statutory team.
    case_id, _ = _open(context, "hill_lead", db.world.pupil_hill, db.world.hillcrest)
    lead = client_as("hill_lead")
    page = lead.get(f"/cases/{case_id}").text
    assert '<option value="statutory">' in page
    refused = lead.post(
        f"/cases/{case_id}/referral",
        data={"to_team": "statutory", "reason": "No improvement after the AIM"},
    )
    assert refused.status_code == 422
    for section in ("actions_taken", "attendance_data", "support_offered"):
        assert f'href="#referral-{section}"' in refused.text
    assert _count(db, Referral, case_id=case_id) == 0
    made = lead.post(
        f"/cases/{case_id}/referral",
        data={
            "to_team": "statutory",
            "reason": "No improvement after the AIM",
            "actions_taken": "Letters, a home visit and an AIM",
            "attendance_data": "82% this year; 24 unauthorised sessions",
            "support_offered": "Early Help offered and declined",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert _count(db, Referral, case_id=case_id) == 1
    assert "Referrals" in lead.get(f"/cases/{case_id}").text


def test_another_schools_user_cannot_post_to_the_forms(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    other = client_as("hill_lead")
    posted = other.post(
        f"/cases/{case_id}/documents", files={"file": ("a.txt", b"x", "text/plain")}
    )
    assert posted.status_code == 404
    handed = other.post(
        f"/cases/{case_id}/handover", data={"to_user_id": "1", "reason": "taking it"}
    )
    assert handed.status_code == 404
    assert _count(db, Attachment, case_id=case_id) == 0


def test_approval_is_asked_on_the_case_page_and_given_by_a_manager(client_as, context, db):
    case_id, _ = _open(context, "traded", db.world.pupil_oak, db.world.oakfield)
    officer = client_as("traded")
    page = officer.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/approvals"' in page
    assert '<option value="enforce"' in page
    refused = officer.post(
        f"/cases/{case_id}/approvals", data={"target_stage": "enforce", "reason": ""}
    )
    assert refused.status_code == 422 and 'href="#approval-reason"' in refused.text
    asked = officer.post(
        f"/cases/{case_id}/approvals",
        data={"target_stage": "enforce", "reason": "Support refused at every level"},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    with db.factory() as session:
        [approval] = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.case_id == case_id)
        ).all()
    # The officer who asked cannot decide; a manager can, with a reason.
    assert "/decision" not in officer.get(f"/cases/{case_id}").text
    manager = client_as("manager")
    decision = f"/cases/{case_id}/approvals/{approval.id}/decision"
    assert f'action="{decision}"' in manager.get(f"/cases/{case_id}").text
    bare = manager.post(decision, data={"decision": "approve", "reason": " "})
    assert bare.status_code == 422 and 'href="#decision-reason"' in bare.text
    done = manager.post(
        decision,
        data={"decision": "approve", "reason": "Evidence of support is complete"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with db.factory() as session:
        assert session.get(ApprovalRequest, approval.id).status == "approved"
    # An approval decided through another case's address changes nothing.
    other_id, _ = _open(context, "traded", db.world.pupil_river, db.world.riverside)
    wrong = manager.post(
        f"/cases/{other_id}/approvals/{approval.id}/decision",
        data={"decision": "refuse", "reason": "x"},
    )
    assert wrong.status_code in (404, 409)


def test_a_referral_is_accepted_from_the_case_page_by_the_team(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    lead = client_as("oak_lead")
    made = lead.post(
        f"/cases/{case_id}/referral",
        data={"to_team": "traded", "reason": "Two letters and a meeting, no change"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with db.factory() as session:
        [referral] = session.scalars(select(Referral).where(Referral.case_id == case_id)).all()
    decision = f"/cases/{case_id}/referrals/{referral.id}/decision"
    assert decision not in lead.get(f"/cases/{case_id}").text  # the school cannot decide
    officer = client_as("traded")
    assert f'action="{decision}"' in officer.get(f"/cases/{case_id}").text
    accepted = officer.post(decision, data={"decision": "accept"}, follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    with db.factory() as session:
        assert session.get(Case, case_id).owner_id == db.world.users["traded"]
        assert session.get(Referral, referral.id).status == "accepted"
