"""Email templates (StrictUndefined, HTML escaped, text not), the Message-ID a key becomes, and
the MIME message built from them."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from casework.errors import InvalidInput
from config.profiles import MailIdentity
from notifications.addresses import checked_address, message_id_for
from notifications.compose import AttachedFile, compose
from notifications.rendering import EmailTemplateError, MissingField, render_email

CONTEXT = {
    "subject": "Attendance",
    "recipient_name": "Ms O'Neill",
    "paragraphs": ["Attendance is <b>89%</b> & falling."],
    "reason": "you are the parent named on the case",
    "sender_name": "Attendance Service",
}


def test_the_html_part_is_escaped_and_the_text_part_is_not():
    rendered = render_email("generic", CONTEXT)
    assert "Attendance is <b>89%</b> & falling." in rendered.text
    assert "Dear Ms O'Neill," in rendered.text
    assert "Attendance is &lt;b&gt;89%&lt;/b&gt; &amp; falling." in rendered.html
    assert "Dear Ms O&#39;Neill," in rendered.html
    assert "Why you received this: you are the parent named on the case" in rendered.text


def test_an_optional_link_is_shown_only_when_given():
    assert "https://" not in render_email("generic", CONTEXT).text
    linked = render_email("generic", {**CONTEXT, "link": "https://casework.example.org/cases/1"})
    assert "https://casework.example.org/cases/1" in linked.text
    assert 'href="https://casework.example.org/cases/1"' in linked.html


@pytest.mark.parametrize("field", ["recipient_name", "reason", "paragraphs", "sender_name"])
def test_a_missing_field_names_the_template_and_the_field(field):
    with pytest.raises(MissingField) as caught:
        render_email("generic", {k: v for k, v in CONTEXT.items() if k != field})
    assert caught.value.field == field
    assert "'generic'" in str(caught.value) and f"'{field}'" in str(caught.value)


def test_unknown_and_malformed_template_names_are_refused():
    with pytest.raises(EmailTemplateError, match=r"email/nothing\.txt does not exist"):
        render_email("nothing", CONTEXT)
    with pytest.raises(EmailTemplateError, match="lower-case"):
        render_email("../letters/penalty_notice", CONTEXT)


def test_a_key_becomes_a_message_id_and_distinct_keys_stay_distinct():
    assert message_id_for("case-12.aim-review.3", "Example.org") == (
        "<case-12.aim-review.3@example.org>"
    )
    odd = {message_id_for(key, "example.org") for key in ("a/b", "a b", "a:b", "a-b", "a..b")}
    assert len(odd) == 5
    assert all(m.count("@") == 1 and " " not in m for m in odd)
    assert message_id_for("a/b", "example.org") == message_id_for("a/b", "example.org")
    long = message_id_for("x" * 200, "example.org")
    assert len(long) < 160


@pytest.mark.parametrize(
    ("given", "stored"),
    [("Parent@Example.ORG", "Parent@example.org"), ("head@oak.sch.uk", "head@oak.sch.uk")],
)
def test_addresses_are_stored_in_normal_form(given, stored):
    assert checked_address("to_address", given) == stored


def test_a_non_ascii_mailbox_name_is_refused_with_the_rule():
    with pytest.raises(InvalidInput) as caught:
        checked_address("to_address", "zoë@example.org")
    (problem,) = caught.value.problems
    assert (problem.field, problem.value) == ("to_address", "zoë@example.org")


def _message():
    return compose(
        message_id="<k1@example.org>",
        created_at=datetime(2024, 11, 20, 10, tzinfo=UTC),
        sender=MailIdentity("attendance@example.org", "Attendance Service", "team@example.org"),
        to_address="parent@example.org",
        subject="Your child\u2019s attendance",
        body=render_email("generic", CONTEXT),
        attachments=[AttachedFile("plan.pdf", "application/pdf", b"%PDF-1.4 x")],
    )


def test_the_message_has_the_headers_parts_and_attachment():
    message = message_from_bytes(_message().as_bytes(policy=policy.SMTP), policy=policy.default)
    assert message["Message-ID"] == "<k1@example.org>"
    assert message["Date"] == "Wed, 20 Nov 2024 10:00:00 +0000"
    assert message["From"] == "Attendance Service <attendance@example.org>"
    assert (message["To"], message["Reply-To"]) == ("parent@example.org", "team@example.org")
    assert message["Subject"] == "Your child\u2019s attendance"  # encoded on the wire, intact here
    assert message["Auto-Submitted"] == "auto-generated"
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]


def test_the_same_message_composed_twice_is_the_same_bytes():
    # A resend after a crash is indistinguishable from the first sending.
    assert _message().as_bytes() == _message().as_bytes()
