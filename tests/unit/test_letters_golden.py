"""Golden files for every letter: the HTML as rendered, and the text of its PDF.

Each letter renders from a fixed snapshot (the shape ``workflows.letters`` stores; the
integration tests check the service's snapshots have the same shape). A change to a template
shows up here as a diff to read. To accept changes, regenerate the files:

    CASEWORK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_letters_golden.py
"""

from __future__ import annotations

import copy
import io
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from notifications.letters.kinds import KINDS
from notifications.letters.render import render_letter
from notifications.pdf import fonts, render_pdf
from notifications.penalty_notice import render_penalty_notice
from tests.unit.test_penalty_notice_contents import FIRST

GOLDEN = Path(__file__).parents[1] / "golden" / "letters"
UPDATE = os.environ.get("CASEWORK_UPDATE_GOLDEN") == "1"

PENALTY = {
    "discounted": 8000,
    "full": 16000,
    "repeat": 16000,
    "discount_days": 21,
    "payment_days": 28,
}
THRESHOLD = {"threshold_sessions": 10, "threshold_school_weeks": 10}
SESSIONS = [
    {"date": f"2024-11-{day:02d}", "session": half, "code": "O"}
    for day in range(4, 9)
    for half in ("AM", "PM")
]
ATTENDANCE = {
    "percent": 86.5,
    "sessions_missed": 24,
    "days_missed": "12",
    "since": "2024-09-01",
    "expected_percent": "95",
    "source": "registers",
}
MEETING = {"date": "2024-11-27", "time": "09:30", "place": "Oakfield Primary, the main office"}


def common(kind: str, **overrides: Any) -> dict[str, Any]:
    """A letter's shared snapshot: invented people, places and a synthetic LA."""
    letter = {
        "kind": kind,
        "title": KINDS[kind].title,
        "letter_date": "2024-11-20",
        "case_reference": "340-24-00001",
        "letterhead": [
            "Example Council",
            "Attendance Service",
            "Council Offices",
            "1 Civic Way",
            "Example Town",
            "ZZ1 1ZZ",
        ],
        "la": {
            "name": "Example Council",
            "phone": "0300 000 0000",
            "email": "attendance@example.org",
        },
        "child": {"name": "Amelia Ashdown", "forename": "Amelia"},
        "school": {"name": "Oakfield Primary"},
        "sender": {
            "name": "Sam Teacher",
            "position": "Attendance Lead",
            "organisation": "Oakfield Primary",
        },
        "contact": {
            "name": "Sam Teacher",
            "position": "Attendance Lead",
            "organisation": "Oakfield Primary",
            "phone": "0300 000 0001",
            "email": "office@oakfield.example.org",
        },
        "reading_age_note": "If you would like this letter read to you, in large print or in "
        "another language, call us and we will help.",
        "exhibit": 3,
        "reference": "LT-340-24-00001-03",
        "recipient": {
            "contact_id": 7,
            "name": "Ms Dana Ashdown",
            "salutation": "Dear Ms Ashdown",
            "address": ["1 Example Road", "Exampletown", "L00 0AA"],
            "relationship": "parent",
        },
    }
    letter.update(overrides)
    return letter


LA_SENDER = {
    "name": "Alex Marlow",
    "position": "Attendance Service Manager",
    "organisation": "Example Council",
}
LA_CONTACT = {
    "name": "Jo Officer",
    "position": "Statutory Attendance Officer",
    "organisation": "Example Council",
    "phone": "0300 000 0000",
    "email": "attendance@example.org",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "first_day_absence": common(
        "first_day_absence", absence_date="2024-11-20", reply_within_school_days=3
    ),
    "concern_letter": common("concern_letter", attendance=ATTENDANCE),
    "attendance_concern_meeting": common(
        "attendance_concern_meeting", attendance=ATTENDANCE, meeting=MEETING
    ),
    "aim_invitation": common(
        "aim_invitation",
        meeting={**MEETING, "time": "14:00", "place": "Oakfield Primary, the family room"},
        attendees=["Attendance lead, Oakfield Primary", "Traded attendance officer"],
        review_after="3 school weeks",
    ),
    "aim_action_plan": common(
        "aim_action_plan",
        actions=[
            {"action": "Walk Amelia to school each morning", "who": "Ms Ashdown", "by": ""},
            {
                "action": "Morning check-in with a trusted adult",
                "who": "Oakfield Primary",
                "by": "From Monday 25 November",
            },
        ],
        meeting_date="2024-11-20",
        target="At least 95% attendance each week",
        review_date="2024-12-11",
    ),
    "attendance_contract": common(
        "attendance_contract",
        sender={**LA_SENDER, "name": "Jo Officer", "position": "Statutory Attendance Officer"},
        contact=LA_CONTACT,
        parent_commitments=[
            "Make sure Amelia arrives by 8:50am every school day",
            "Phone the school before 9am on any day Amelia is ill",
        ],
        support_commitments=[
            "A weekly check-in for Amelia with her class teacher",
            "A referral to a parenting course, if you would like one",
        ],
        start_date="2024-11-20",
        review_date="2025-01-15",
    ),
    "notice_to_improve": common(
        "notice_to_improve",
        sender=LA_SENDER,
        contact=LA_CONTACT,
        notice={
            "issued_on": "2024-11-20",
            "expires_on": "2025-01-15",
            "period": "6 school weeks",
            "sessions": SESSIONS,
            "window_from": "2024-11-04",
            "window_to": "2024-11-08",
            **THRESHOLD,
        },
        attendance=ATTENDANCE,
        support_so_far=[
            {"what": "A phone call with you", "date": "2024-09-10", "response": "you took part"},
            {
                "what": "An Early Help assessment",
                "date": "2024-09-20",
                "response": "you said no to this",
            },
            {
                "what": "An Attendance Improvement Meeting and action plan",
                "date": "2024-10-23",
                "response": "you took part; attendance did not improve",
            },
        ],
        declined=[
            {
                "what": "An Early Help assessment",
                "date": "2024-09-20",
                "response": "you said no to this",
            }
        ],
        further_support=[
            "A meeting with the school and the Attendance Service to agree a plan",
            "A referral to a parenting programme",
        ],
        sufficient_improvement="No unauthorised absence at all during the improvement period.",
        early_penalty_grounds="If your child has any more unauthorised absence during the "
        "improvement period, we may issue a penalty notice before the period ends.",
        penalty=PENALTY,
    ),
    "penalty_notice_warning": common(
        "penalty_notice_warning",
        sender=LA_SENDER,
        contact=LA_CONTACT,
        warning={
            "sessions": SESSIONS,
            "window_from": "2024-11-04",
            "window_to": "2024-11-08",
            **THRESHOLD,
        },
        penalty=PENALTY,
    ),
}
LETTER_KINDS = sorted(KINDS)


def sample(kind: str) -> dict[str, Any]:
    return copy.deepcopy(SAMPLES[kind])


def rendered_html(kind: str) -> str:
    if kind == "penalty_notice":
        return render_penalty_notice(FIRST)
    return render_letter(KINDS[kind], sample(kind))


def rendered_pdf(kind: str) -> bytes:
    return render_pdf(
        rendered_html(kind),
        reference="LT-340-24-00001-03",
        title=KINDS[kind].title,
        author="Example Council",
        created=FIRST.date_of_issue,
    ).content


def pdf_text(content: bytes) -> str:
    """The PDF's words, whitespace collapsed and wrapped, without the page footers: the golden
    file reads easily and does not depend on where lines and pages break (which varies with the
    font available). The footers are checked in test_letters_pdf."""
    reader = PdfReader(io.BytesIO(content))
    words = " ".join(page.extract_text() for page in reader.pages)
    # List bullets are drawn, not text: how they extract depends on the font.
    words = re.sub(r"[\s\u2022\x7f]+", " ", words)
    words = re.sub(r" ?Reference \S+ Page \d+ of \d+ ?", " ", words).strip()
    return textwrap.fill(words, 100) + "\n"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}: run with CASEWORK_UPDATE_GOLDEN=1 and review it")
    assert actual == path.read_text(), (
        f"{name} differs from its golden file; if the change is intended, regenerate with "
        "CASEWORK_UPDATE_GOLDEN=1 and review the diff"
    )


def test_every_kind_has_a_sample():
    assert set(SAMPLES) | {"penalty_notice"} == set(KINDS)


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_the_html_matches_its_golden_file(kind):
    check_golden(f"{kind}.html", rendered_html(kind))


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_the_pdf_text_matches_its_golden_file(kind):
    if fonts().regular != "CaseworkSans":
        # Page breaks (and so where a long table's header repeats) follow the font's metrics.
        pytest.skip("the golden PDF text is laid out in DejaVu Sans, not on this machine")
    check_golden(f"{kind}.pdf.txt", pdf_text(rendered_pdf(kind)))
