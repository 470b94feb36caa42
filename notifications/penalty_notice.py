"""The contents of a school-attendance penalty notice (Education Act 1996 s444A and the Education
(Penalty Notices) (England) Regulations 2007, reg 3), and the one template that renders them.

Officers view and print the HTML now; the letters issue will render the same template to PDF. One
template means one place where the legally required contents live, and `missing_elements` lets any
caller refuse to send a notice that lost one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

from notifications import overrides
from notifications.overrides import lookup

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "letters/penalty_notice.html"

# 21 and 28 days *beginning with* the day of receipt, so the receipt day is day 1.
DISCOUNT_DAYS = 21
FULL_DAYS = 28


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...]  # each line, postcode last


@dataclass(frozen=True)
class NoticeSession:
    day: date
    session: str  # "AM" | "PM"
    code: str  # attendance code, e.g. "G"


@dataclass(frozen=True)
class PenaltyNoticeContents:
    reference: str  # e.g. "PN-340-25-00003"
    la_name: str  # "Knowsley Council"
    la_address_lines: tuple[str, ...]
    payment_methods: tuple[str, ...]  # e.g. ("Online at ... quoting the reference", "By phone ...")
    recipient: Party  # the parent the notice is addressed to (one notice per parent per child)
    child_name: str
    child_date_of_birth: date
    school_name: str
    issuing_officer_name: str
    issuing_officer_position: str
    reason: str  # "holiday" | "irregular_attendance" | "lateness"
    offence_from: date
    offence_to: date
    sessions: tuple[NoticeSession, ...]
    date_of_issue: date
    posted_on: date
    received_on: date  # deemed receipt: 2nd working day after posting
    ordinal: int  # 1 = first notice to this parent for this child within 3 years, 2 = second
    amount_discounted_pence: int | None  # 8000 for a first notice; None for a second (no discount)
    discount_until: (
        date | None
    )  # last day of the 21-day window (21 days beginning with received_on)
    amount_full_pence: int  # 16000
    pay_by: date  # last day of the 28-day window
    withdrawal_grounds: tuple[str, ...]  # plain-English grounds on which the LA may withdraw


# The national required contents. Keys are the template's data-element values, so a notice can be
# checked mechanically; descriptions say what the wrapped text must state.
REQUIRED_ELEMENTS: dict[str, str] = {
    "recipient": "Who the notice is issued to: the parent's name and address",
    "child_and_school": "The child the notice is about and the school where they are registered",
    "issuing_officer": "The name and position of the authorised officer issuing the notice",
    "offence_period": "The period of the offence, with the sessions missed",
    "date_of_issue": "The date the notice was issued",
    "amount": "The amount or amounts to pay, and which payment window each applies to",
    "la_address": "The name and address of the LA that payment goes to (and letters)",
    "payment_method": "The ways the penalty can be paid",
    "payment_period": "The period for paying (21/28 days beginning with the day of receipt), "
    "with the dates",
    "discharge": "That paying in time discharges liability for the offence: no prosecution for the "
    "same absence",
    "non_payment": "What happens if it is not paid: the LA must prosecute for the offence under "
    "s444 Education Act 1996 or withdraw the notice; on conviction, a fine or other orders",
    "withdrawal_grounds": "The grounds on which the LA may withdraw the notice",
    "no_appeal": "That there is no right of appeal, and the parent may write to the LA if they "
    "think a withdrawal ground applies",
}

REASONS: dict[str, str] = {
    "holiday": "leave of absence (a holiday) taken in term time without the school's permission",
    "irregular_attendance": "failure to attend school regularly",
    "lateness": "repeated late arrival after the register closed",
}

# Only codes that record unauthorised absence can support a notice, so only these are explained.
CODE_MEANINGS: dict[str, str] = {
    "G": "holiday not authorised by the school",
    "N": "reason for absence not yet provided",
    "O": "unauthorised absence",
    "U": "arrived after the registers closed",
}

SESSION_NAMES: dict[str, str] = {"AM": "Morning", "PM": "Afternoon"}

# Spelled out rather than strftime("%B") so the output does not depend on the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(value: date) -> str:
    """2 January 2025: no leading zero, month in words, as GOV.UK style asks."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def money(pence: int) -> str:
    """Pence as pounds with pence always shown ("£80.00"), so amounts read the same everywhere."""
    if pence < 0:
        raise ValueError(f"a penalty cannot be negative: {pence}")
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"


def environment(profile_key: str | None = None) -> Environment:
    """The Jinja environment for notices, the LA profile's own wording first: autoescaped
    (names come from parents and schools) and strict, so a misspelt variable fails the render
    instead of printing nothing."""
    return overrides.environment(profile_key, _notice_filters)


def _notice_filters(env: Environment) -> None:
    env.filters["long_date"] = long_date
    env.filters["money"] = money
    env.filters["reason_wording"] = lookup(REASONS, "reason")
    env.filters["code_meaning"] = lookup(CODE_MEANINGS, "attendance code")
    env.filters["session_name"] = lookup(SESSION_NAMES, "session")


def render_penalty_notice(contents: PenaltyNoticeContents, profile_key: str | None = None) -> str:
    """The notice as a standalone printable HTML document. Does not validate: call
    `check_complete` first (and `missing_elements` on the result) before sending."""
    # The template has wording for a first and a second notice only; a third is not a notice.
    if contents.ordinal not in (1, 2):
        raise ValueError(f"a penalty notice is a first or a second, not {contents.ordinal}")
    return environment(profile_key).get_template(TEMPLATE_NAME).render(notice=contents)


# HTML elements that never have an end tag: they must not be pushed on the open-element stack.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _ElementText(HTMLParser):
    """Collects the text inside every element carrying data-element, including nested text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        key = dict(attrs).get("data-element")
        if key is not None:
            self.text.setdefault(key, [])
        self.open.append((tag, key))

    def handle_endtag(self, tag: str) -> None:
        # Tolerate stray end tags; close anything left open inside the matching element.
        if not any(open_tag == tag for open_tag, _ in self.open):
            return
        while self.open:
            open_tag, _ = self.open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, key in self.open:
            if key is not None:
                self.text[key].append(data)


def missing_elements(html: str) -> list[str]:
    """REQUIRED_ELEMENTS keys whose data-element wrapper is absent or holds no text, in the order
    of REQUIRED_ELEMENTS. Empty list: every required content is present."""
    parser = _ElementText()
    parser.feed(html)
    parser.close()
    return [
        key
        for key in REQUIRED_ELEMENTS
        if key not in parser.text or not "".join(parser.text[key]).strip()
    ]


def check_complete(contents: PenaltyNoticeContents) -> list[str]:
    """Problems with the fields, before rendering, each naming the field in plain English.
    Empty list: the contents can make a complete, self-consistent notice."""
    c = contents
    problems: list[str] = []

    def need(value: str, field: str, what: str) -> None:
        if not value.strip():
            problems.append(f"{field}: {what} is empty.")

    need(c.reference, "reference", "the notice reference")
    need(c.la_name, "la_name", "the local authority's name")
    if not any(line.strip() for line in c.la_address_lines):
        problems.append("la_address_lines: the local authority's address is empty.")
    if not any(method.strip() for method in c.payment_methods):
        problems.append("payment_methods: there is no way to pay.")
    need(c.recipient.name, "recipient.name", "the parent's name")
    if not any(line.strip() for line in c.recipient.address_lines):
        problems.append("recipient.address_lines: the parent's address is empty.")
    need(c.child_name, "child_name", "the child's name")
    need(c.school_name, "school_name", "the school's name")
    need(c.issuing_officer_name, "issuing_officer_name", "the issuing officer's name")
    need(c.issuing_officer_position, "issuing_officer_position", "the issuing officer's position")
    if not any(ground.strip() for ground in c.withdrawal_grounds):
        problems.append("withdrawal_grounds: there are no grounds for withdrawal.")

    if c.reason not in REASONS:
        problems.append(f"reason: {c.reason!r} is not one of {', '.join(REASONS)}.")

    # The offence and its sessions.
    if c.offence_from > c.offence_to:
        problems.append("offence_from: the offence starts after it ends (offence_to).")
    if c.child_date_of_birth >= c.offence_from:
        problems.append("child_date_of_birth: the child was born on or after the offence began.")
    if not c.sessions:
        problems.append("sessions: there are no sessions to list.")
    for s in c.sessions:
        where = f"sessions: {long_date(s.day)} {s.session}"
        if s.session not in SESSION_NAMES:
            problems.append(f"{where} is not a session (AM or PM).")
        if s.code not in CODE_MEANINGS:
            problems.append(
                f"{where} has code {s.code!r}, not an unauthorised code "
                f"({', '.join(CODE_MEANINGS)})."
            )
        if not c.offence_from <= s.day <= c.offence_to:
            problems.append(f"{where} is outside the offence period.")
    if len({(s.day, s.session) for s in c.sessions}) != len(c.sessions):
        problems.append("sessions: a session is listed more than once.")

    # Issue, posting and receipt happen in that order, and after the offence.
    if c.date_of_issue <= c.offence_to:
        problems.append("date_of_issue: the notice is issued on or before the offence ends.")
    if c.posted_on < c.date_of_issue:
        problems.append("posted_on: the notice is posted before it was issued.")
    if c.received_on <= c.posted_on:
        problems.append("received_on: receipt must be after posting (2nd working day).")

    # Amounts and windows. Ordinal 1 has a reduced amount for 21 days; ordinal 2 does not.
    if c.ordinal not in (1, 2):
        problems.append(f"ordinal: must be 1 (first notice) or 2 (second), not {c.ordinal}.")
    if c.amount_full_pence <= 0:
        problems.append("amount_full_pence: the full amount must be more than zero.")
    full_end = c.received_on + timedelta(days=FULL_DAYS - 1)
    if c.pay_by != full_end:
        problems.append(
            f"pay_by: must be the 28th day beginning with receipt ({long_date(full_end)})."
        )
    if c.ordinal == 1:
        if c.amount_discounted_pence is None:
            problems.append("amount_discounted_pence: a first notice needs the reduced amount.")
        elif not 0 < c.amount_discounted_pence < c.amount_full_pence:
            problems.append(
                "amount_discounted_pence: the reduced amount must be above zero and below "
                "the full amount."
            )
        if c.discount_until is None:
            problems.append(
                "discount_until: a first notice needs the date the reduced amount ends."
            )
        else:
            discount_end = c.received_on + timedelta(days=DISCOUNT_DAYS - 1)
            if c.discount_until != discount_end:
                problems.append(
                    "discount_until: must be the 21st day beginning with receipt "
                    f"({long_date(discount_end)})."
                )
            if c.pay_by <= c.discount_until:
                problems.append("pay_by: must be after discount_until.")
    elif c.ordinal == 2:
        if c.amount_discounted_pence is not None:
            problems.append("amount_discounted_pence: a second notice has no reduced amount.")
        if c.discount_until is not None:
            problems.append("discount_until: a second notice has no reduced-amount window.")
    return problems
