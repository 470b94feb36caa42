"""What reminder emails call each deadline, how a pupil is named in them, where links point."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from casework.vocabulary import year_group
from config.settings import base_url
from notifications.preferences import CATEGORIES, DEFAULTS
from notifications.reminders import initials, passed_wording, reminder_wording

DUE = date(2024, 12, 11)


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        ("aim_review", "AIM review due in 2 school days"),
        ("notice_to_improve_expiry", "Notice to Improve expiring"),
        ("penalty_notice_unpaid", "Penalty notice unpaid at day 28: decision due"),
        ("prosecution_limit", "Prosecution time limit approaching"),
        ("level_2_cap", "Level 2 not beyond one half term: due Wed 11 Dec 2024"),
    ],
)
def test_each_deadline_kind_has_its_own_subject(kind, subject):
    label = "Level 2 not beyond one half term"
    assert reminder_wording(kind, label, DUE, 2).subject == subject


def test_one_school_day_is_singular_and_a_passed_deadline_says_overdue():
    assert reminder_wording("aim_review", "x", DUE, 1).subject == "AIM review due in 1 school day"
    assert passed_wording("aim_review", "AIM review", DUE).subject == "Overdue: AIM review"
    unpaid = passed_wording("penalty_notice_unpaid", "x", DUE)
    assert "prosecute or withdraw" in unpaid.headline
    limit = reminder_wording("prosecution_limit", "x", DUE, 2)
    assert "end on Wed 11 Dec 2024" in limit.headline and "s127" in limit.headline
    assert "No prosecution" in passed_wording("prosecution_limit", "x", DUE).headline


def test_a_pupil_is_named_by_initials_of_the_names_they_are_known_by():
    pupil = SimpleNamespace(
        legal_forename="Amelia",
        legal_surname="ashdown",
        preferred_forename=None,
        preferred_surname=None,
    )
    assert initials(pupil) == "A.A."
    pupil.preferred_forename = "Millie"
    assert initials(pupil) == "M.A."


def test_links_use_the_configured_address_and_refuse_anything_else():
    assert base_url({}) == "http://127.0.0.1:8000"
    assert base_url({"CASEWORK_BASE_URL": "https://casework.example.gov.uk/"}) == (
        "https://casework.example.gov.uk"
    )
    with pytest.raises(ValueError, match="CASEWORK_BASE_URL"):
        base_url({"CASEWORK_BASE_URL": "javascript:alert(1)"})


def test_every_category_defaults_to_email_and_digests_cannot_be_digest_only():
    assert set(DEFAULTS.values()) == {"email"}
    assert "digest_only" not in CATEGORIES["daily_digest"][1]
    assert "digest_only" in CATEGORIES["transfers"][1]


def test_the_html_part_escapes_what_it_is_given_and_the_text_part_does_not():
    from notifications.rendering import render_email

    context = {
        "recipient_name": "Traded",
        "headline": "Due soon",
        "case_reference": "340-24-00001",
        "case_link": "http://127.0.0.1:8000/cases/1",
        "pupil_initials": "A.A.",
        "school_name": "<script>alert(1)</script> & Co",
        "label": "AIM review",
        "due_on_text": "Wed 11 Dec 2024",
        "rule": "3 school weeks",
        "reason": "you hold case 340-24-00001",
        "sender_name": "Attendance Service",
        "subject": "340-24-00001: AIM review due in 2 school days",
    }
    rendered = render_email("event/deadline_reminder", context)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in rendered.html
    assert "<script>" not in rendered.html
    assert "<script>alert(1)</script> & Co" in rendered.text


@pytest.mark.parametrize(
    ("nc_year", "named"), [(-1, "Nursery"), (0, "Reception"), (1, "Year 1"), (11, "Year 11")]
)
def test_a_year_group_is_named_as_schools_name_it(nc_year, named):
    assert year_group(nc_year) == named
