"""The penalty notice template holds every nationally required content, with the right amounts,
windows and wording, escapes what it prints, and fails loudly on a template typo."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser

import jinja2
import pytest

from notifications.penalty_notice import (
    REQUIRED_ELEMENTS,
    TEMPLATE_NAME,
    TEMPLATES,
    NoticeSession,
    Party,
    PenaltyNoticeContents,
    check_complete,
    environment,
    long_date,
    missing_elements,
    money,
    render_penalty_notice,
)

RECEIVED = date(2025, 2, 5)  # a Wednesday: 2nd working day after posting on Monday 3 February


def _sessions() -> tuple[NoticeSession, ...]:
    week = [date(2025, 1, 6) + timedelta(days=i) for i in range(5)]
    return tuple(NoticeSession(day, half, "G") for day in week for half in ("AM", "PM"))


FIRST = PenaltyNoticeContents(
    reference="PN-999-25-00001",
    la_name="Example Borough Council",
    la_address_lines=("Town Hall", "1 Civic Way", "Exampletown", "ZZ9 9ZZ"),
    payment_methods=(
        "Online at example.invalid/pay, quoting the reference",
        "By phone on 0000 000 0000",
    ),
    recipient=Party("Sam Example", ("1 Test Street", "Exampletown", "ZZ1 1ZZ")),
    child_name="Alex Example",
    child_date_of_birth=date(2015, 3, 4),
    school_name="Example Primary School",
    issuing_officer_name="Jo Officer",
    issuing_officer_position="Attendance Officer",
    reason="holiday",
    offence_from=date(2025, 1, 6),
    offence_to=date(2025, 1, 10),
    sessions=_sessions(),
    date_of_issue=date(2025, 2, 3),
    posted_on=date(2025, 2, 3),
    received_on=RECEIVED,
    ordinal=1,
    amount_discounted_pence=8000,
    discount_until=date(2025, 2, 25),  # 21 days beginning with 5 February
    amount_full_pence=16000,
    pay_by=date(2025, 3, 4),  # 28 days beginning with 5 February
    withdrawal_grounds=(
        "It should not have been issued.",
        "It was issued to the wrong person.",
        "It has a material error.",
    ),
)
SECOND = replace(FIRST, ordinal=2, amount_discounted_pence=None, discount_until=None)


class _Text(HTMLParser):
    """Text inside each data-element wrapper (nested text included), plus all the page's text.
    Written separately from missing_elements so these tests do not trust the code they test."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.by_key: dict[str, str] = {}
        self.all = ""
        self.rows: list[list[str]] = []  # table body rows, cell text

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        key = dict(attrs).get("data-element")
        if key is not None:
            self.by_key.setdefault(key, "")
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.rows[-1].append("")
        self.stack.append((tag, key))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.all += data
        if any(tag == "td" for tag, _ in self.stack):
            self.rows[-1][-1] += data
        for _, key in self.stack:
            if key is not None:
                self.by_key[key] += data


def texts(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module", params=[FIRST, SECOND], ids=["first", "second"])
def rendered(request) -> _Text:
    return texts(render_penalty_notice(request.param))


@pytest.mark.parametrize("key", list(REQUIRED_ELEMENTS))
def test_every_required_element_is_present_and_has_text(rendered, key):
    assert key in rendered.by_key, f"no data-element={key!r} wrapper"
    assert rendered.by_key[key].strip(), f"data-element={key!r} is empty"


def test_the_checker_agrees_that_rendered_notices_are_complete():
    assert check_complete(FIRST) == []
    assert check_complete(SECOND) == []
    assert missing_elements(render_penalty_notice(FIRST)) == []
    assert missing_elements(render_penalty_notice(SECOND)) == []


def test_it_is_a_standalone_printable_document():
    html = render_penalty_notice(FIRST)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<style>" in html
    assert " style=" not in html


def test_first_notice_offers_the_reduced_amount_for_21_days_then_the_full_amount():
    page = texts(render_penalty_notice(FIRST))
    amount = squash(page.by_key["amount"])
    assert "first penalty notice" in amount
    assert "you pay £80.00. The last day for this is 25 February 2025" in amount
    assert "you pay £160.00 within 28 days. The last day for this is 4 March 2025" in amount
    period = squash(page.by_key["payment_period"])
    assert "received on 5 February 2025" in period
    assert "21 days, beginning with that day, ends on 25 February 2025" in period
    assert "28 days ends on 4 March 2025" in period


def test_second_notice_has_only_the_full_amount_and_says_why():
    page = texts(render_penalty_notice(SECOND))
    amount = squash(page.by_key["amount"])
    assert "second penalty notice" in amount
    assert "within 3 years" in amount
    assert "no reduced amount" in amount
    assert "£160.00 within 28 days. The last day for this is 4 March 2025" in amount
    assert "£80" not in page.all
    assert "21 days" not in page.all


def test_the_notice_names_the_people_places_and_dates():
    page = texts(render_penalty_notice(FIRST))
    recipient = squash(page.by_key["recipient"])
    assert recipient.startswith("Sam Example")
    assert recipient.endswith("ZZ1 1ZZ")  # postcode last
    child = squash(page.by_key["child_and_school"])
    assert "Alex Example, born on 4 March 2015" in child
    assert "Example Primary School" in child
    assert squash(page.by_key["issuing_officer"]).startswith("Jo Officer, Attendance Officer")
    assert "3 February 2025" in page.by_key["date_of_issue"]
    assert "ZZ9 9ZZ" in page.by_key["la_address"]
    assert "0000 000 0000" in page.by_key["payment_method"]
    assert "PN-999-25-00001" in page.by_key["payment_method"]
    assert "It has a material error." in page.by_key["withdrawal_grounds"]
    assert "no right of appeal" in page.by_key["no_appeal"]
    assert "will not be prosecuted" in page.by_key["discharge"]
    non_payment = squash(page.by_key["non_payment"])
    assert "section 444 of the Education Act 1996" in non_payment
    assert "not be for failing to pay" in non_payment
    assert "a fine" in non_payment


def test_offence_period_lists_each_session_with_its_meaning():
    page = texts(render_penalty_notice(FIRST))
    offence = squash(page.by_key["offence_period"])
    assert "6 January 2025 to 10 January 2025" in offence
    assert "these 10 sessions" in offence
    assert offence.count("holiday not authorised") == 10
    assert offence.count("Morning") == 5
    assert offence.count("Afternoon") == 5


@pytest.mark.parametrize(
    ("reason", "wording"),
    [
        (
            "holiday",
            "leave of absence (a holiday) taken in term time without the school's permission",
        ),
        ("irregular_attendance", "failure to attend school regularly"),
        ("lateness", "repeated late arrival after the register closed"),
    ],
)
def test_reason_wording(reason, wording):
    page = texts(render_penalty_notice(replace(FIRST, reason=reason)))
    assert wording in squash(page.by_key["offence_period"])


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("G", "holiday not authorised by the school"),
        ("N", "reason for absence not yet provided"),
        ("O", "unauthorised absence"),
        ("U", "arrived after the registers closed"),
    ],
)
def test_code_meanings(code, meaning):
    sessions = (NoticeSession(date(2025, 1, 7), "PM", code),)
    page = texts(render_penalty_notice(replace(FIRST, sessions=sessions)))
    cells = [[squash(cell) for cell in row] for row in page.rows]
    assert ["7 January 2025", "Afternoon", code, meaning] in cells
    offence = squash(page.by_key["offence_period"])
    assert "recorded this session in that period" in offence


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2025, 1, 2), "2 January 2025"),
        (date(2025, 12, 31), "31 December 2025"),
        (date(2024, 2, 29), "29 February 2024"),
    ],
)
def test_long_date_has_no_leading_zero(value, text):
    assert long_date(value) == text


@pytest.mark.parametrize(
    ("pence", "text"),
    [(8000, "£80.00"), (16000, "£160.00"), (5, "£0.05"), (123456, "£1,234.56")],
)
def test_money(pence, text):
    assert money(pence) == text


def test_unknown_code_or_reason_fails_the_render_rather_than_printing_a_key():
    with pytest.raises(ValueError, match="attendance code"):
        render_penalty_notice(
            replace(FIRST, sessions=(NoticeSession(date(2025, 1, 7), "AM", "B"),))
        )
    with pytest.raises(ValueError, match="reason"):
        render_penalty_notice(replace(FIRST, reason="truancy"))
    with pytest.raises(ValueError, match="first or a second"):
        render_penalty_notice(replace(SECOND, ordinal=3))


def test_values_are_escaped():
    hostile = "<script>alert('x')</script>"
    html = render_penalty_notice(
        replace(FIRST, child_name=hostile, recipient=Party(hostile, ("1 Test Street", "ZZ1 1ZZ")))
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert hostile in texts(html).by_key["child_and_school"]  # shown as text, not run


def test_strict_undefined_fails_a_render_missing_a_value():
    template = environment().get_template(TEMPLATE_NAME)
    with pytest.raises(jinja2.UndefinedError):
        template.render({})
    with pytest.raises(jinja2.UndefinedError):
        template.render({"notice": {"reference": "PN-999-25-00001"}})


def test_strict_undefined_fails_a_misspelt_field():
    typo = environment().from_string("<p>{{ notice.refrence }}</p>")
    with pytest.raises(jinja2.UndefinedError):
        typo.render(notice=FIRST)


@pytest.mark.parametrize("key", list(REQUIRED_ELEMENTS))
def test_missing_elements_detects_a_removed_wrapper(key):
    html = render_penalty_notice(FIRST)
    marker = f'data-element="{key}"'
    assert html.count(marker) == 1
    assert missing_elements(html.replace(marker, "")) == [key]


def _page(**bodies: str) -> str:
    return "".join(
        f'<section data-element="{key}">{bodies.get(key, "<p>Some text.</p>")}</section>'
        for key in REQUIRED_ELEMENTS
    )


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("<p>Text.</p>", []),
        ("", ["discharge"]),
        ("   \n  ", ["discharge"]),
        ("<p> </p><ul><li></li></ul>", ["discharge"]),
        ("<div><p><strong>Nested</strong></p></div>", []),
        ("<br>Text after a void element", []),
        ("Text<br/>and more", []),
        ("&pound;80.00", []),
    ],
)
def test_missing_elements_needs_text_inside_the_wrapper(body, missing):
    assert missing_elements(_page(discharge=body)) == missing


def test_missing_elements_reports_every_absent_key_in_order():
    assert missing_elements("<html><body><p>Nothing here</p></body></html>") == list(
        REQUIRED_ELEMENTS
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": Party(" ", ("1 Test Street", "ZZ1 1ZZ"))}, "recipient.name"),
        ({"recipient": Party("Sam Example", ())}, "recipient.address_lines"),
        ({"recipient": Party("Sam Example", ("", " "))}, "recipient.address_lines"),
        ({"payment_methods": ()}, "payment_methods"),
        ({"la_address_lines": ()}, "la_address_lines"),
        ({"la_name": ""}, "la_name"),
        ({"reference": ""}, "reference"),
        ({"child_name": ""}, "child_name"),
        ({"school_name": ""}, "school_name"),
        ({"issuing_officer_name": ""}, "issuing_officer_name"),
        ({"issuing_officer_position": ""}, "issuing_officer_position"),
        ({"withdrawal_grounds": ()}, "withdrawal_grounds"),
        ({"reason": "truancy"}, "reason"),
        ({"offence_from": date(2025, 1, 11)}, "offence_from"),
        ({"sessions": ()}, "sessions"),
        ({"sessions": (NoticeSession(date(2025, 1, 6), "EV", "G"),)}, "sessions"),
        ({"sessions": (NoticeSession(date(2025, 1, 6), "AM", "C"),)}, "sessions"),
        ({"sessions": (NoticeSession(date(2025, 1, 13), "AM", "G"),)}, "sessions"),
        ({"sessions": _sessions()[:1] * 2}, "sessions"),
        ({"child_date_of_birth": date(2025, 1, 6)}, "child_date_of_birth"),
        ({"date_of_issue": date(2025, 1, 10)}, "date_of_issue"),
        ({"posted_on": date(2025, 2, 2)}, "posted_on"),
        ({"received_on": date(2025, 2, 3)}, "received_on"),
        ({"pay_by": date(2025, 2, 25)}, "pay_by"),
        ({"pay_by": date(2025, 3, 5)}, "pay_by"),
        ({"discount_until": date(2025, 2, 26)}, "discount_until"),
        ({"ordinal": 3}, "ordinal"),
        ({"amount_full_pence": 0}, "amount_full_pence"),
        ({"amount_discounted_pence": None}, "amount_discounted_pence"),
        ({"amount_discounted_pence": 16000}, "amount_discounted_pence"),
        ({"discount_until": None}, "discount_until"),
    ],
)
def test_check_complete_names_the_field_on_a_first_notice(change, field):
    problems = check_complete(replace(FIRST, **change))
    assert any(p.startswith(f"{field}:") for p in problems), problems


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_discounted_pence": 8000}, "amount_discounted_pence"),
        ({"discount_until": date(2025, 2, 25)}, "discount_until"),
        ({"pay_by": date(2025, 2, 25)}, "pay_by"),
    ],
)
def test_check_complete_names_the_field_on_a_second_notice(change, field):
    problems = check_complete(replace(SECOND, **change))
    assert any(p.startswith(f"{field}:") for p in problems), problems


def test_template_lives_inside_the_package():
    # The wheel must ship it: pyproject's package-data has to list notifications/templates.
    assert (TEMPLATES / TEMPLATE_NAME).is_file()
    assert TEMPLATES.parent.name == "notifications"
