"""The penalty-notice pages as officers and schools use them: the queues and threshold list, a
request with each parent's checks, issuing through the form (and a third notice refused),
payments, the central register and its CSV, and nothing shown outside the user's scope.

Data is set up through the services, as ``test_penalty_notice_flow`` does: leave refused for
Mon 4 - Fri 8 Nov 2024, taken anyway (10 G sessions), and the school's holiday request."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from casework.models import PenaltyNotice, PupilContact
from casework.vocabulary import CaseKind, Stage
from workflows.cases import OpenCase, open_case
from workflows.penalties.enquiries import RecordEnquiry, ReportedNotice, record_enquiry
from workflows.penalties.leave import (
    ApplyForLeave,
    DecideLeave,
    apply_for_leave,
    decide_leave,
    record_leave_taken,
)
from workflows.penalties.requests import MakeRequest, make_request
from workflows.scan import scan_la

HTML = {"Accept": "text/html,application/xhtml+xml"}


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def _parents(db) -> list[int]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(PupilContact.contact_id)
                .where(PupilContact.pupil_id == db.world.pupil_oak)
                .order_by(PupilContact.contact_id)
            )
        )


def _holiday_request(context, db, clock) -> tuple[int, int]:
    """Leave refused, taken anyway, and the school's request; the clock left on 14 Nov 2024."""
    at(clock, date(2024, 10, 1))
    ctx = context("oak_lead")
    leave = apply_for_leave(
        ctx,
        ApplyForLeave(
            db.world.pupil_oak,
            db.world.oakfield,
            _parents(db)[0],
            date(2024, 9, 30),
            date(2024, 11, 4),
            date(2024, 11, 8),
            "family holiday abroad",
        ),
    )
    decide_leave(
        ctx,
        leave.id,
        DecideLeave(
            "refused",
            False,
            "a holiday is not an exceptional circumstance",
            date(2024, 10, 1),
            "Head Teacher",
            "Headteacher",
        ),
    )
    ctx.commit()
    at(clock, date(2024, 11, 12))
    ctx = context("oak_lead")
    record_leave_taken(ctx, leave.id, date(2024, 11, 4), date(2024, 11, 8))
    case = open_case(
        ctx,
        OpenCase(
            db.world.pupil_oak,
            db.world.oakfield,
            CaseKind.TERM_TIME_HOLIDAY,
            Stage.MONITOR,
            "holiday taken after leave was refused",
        ),
    )
    request = make_request(
        ctx,
        MakeRequest(
            case.id,
            "holiday",
            "Leave refused; taken anyway; 10 sessions G",
            leave_request_id=leave.id,
        ),
    )
    ctx.commit()
    at(clock, date(2024, 11, 14))
    return case.id, request.id


def _part(text: str, start: str, end: str | None = None) -> str:
    """The page from ``start`` up to ``end`` (or the end of the page)."""
    first = text.index(start)
    return text[first : text.index(end, first) if end else len(text)]


def _version(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found, "the page offers no form"
    return found.group(1)


def _issue_through_the_form(client, db, request_id: int, posted_on: str = "2024-11-14"):
    page = client.get(f"/penalty-notices/requests/{request_id}")
    return client.post(
        f"/penalty-notices/requests/{request_id}/issue",
        data={
            "expected_version": _version(page.text),
            "posted_on": posted_on,
            "contact_ids": [str(c) for c in _parents(db)],
        },
        follow_redirects=False,
    )


def _notices(db) -> list[PenaltyNotice]:
    with db.factory() as session:
        found = list(session.scalars(select(PenaltyNotice).order_by(PenaltyNotice.id)))
        session.expunge_all()
        return found


def test_the_officer_sees_the_request_in_the_queue_and_on_the_threshold_list(
    client_as, context, db, clock
):
    case_id, request_id = _holiday_request(context, db, clock)
    with db.factory() as session:
        scan_la(session, db.world.la, as_at=date(2024, 11, 14), clock=clock)
        session.commit()
    client = client_as("statutory")
    page = client.get("/penalty-notices")
    assert page.status_code == 200
    assert 'href="/penalty-notices"' in page.text  # the nav link
    requests = _part(page.text, 'id="requests"', 'id="threshold"')
    assert "Amelia Ashdown" in requests and "Oakfield Primary" in requests
    assert "Term-time holiday (leave not authorised)" in requests
    assert f'href="/penalty-notices/requests/{request_id}"' in requests
    assert ">10<" in requests  # the sessions relied on
    threshold = _part(page.text, 'id="threshold"', 'id="drafts"')
    assert "Penalty-notice threshold" in threshold
    assert f'href="/cases/{case_id}"' in threshold
    assert f'href="/penalty-notices/requests/{request_id}"' in threshold
    assert 'href="/penalty-notices/register"' in page.text

    # The school sees its own request, read-only.
    school = client_as("oak_lead").get("/penalty-notices")
    assert f'href="/penalty-notices/requests/{request_id}"' in school.text
    assert "The local authority decides requests" in school.text
    request_page = client_as("oak_lead").get(f"/penalty-notices/requests/{request_id}")
    assert request_page.status_code == 200
    assert "Issue the notices" not in request_page.text
    assert "family holiday abroad" in request_page.text  # the leave request kept with it


def test_the_request_page_shows_each_parents_checks(client_as, context, db, clock):
    _, request_id = _holiday_request(context, db, clock)
    page = client_as("statutory").get(f"/penalty-notices/requests/{request_id}")
    assert page.status_code == 200
    assert "Leave refused; taken anyway; 10 sessions G" in page.text
    assert "a holiday is not an exceptional circumstance" in page.text
    assert "4 November 2024" in page.text and "8 November 2024" in page.text
    checks = _part(page.text, 'id="checks"', 'id="issue"')
    assert "Ms Dana Ashdown" in checks and "Mr Evan Ashdown" in checks
    assert checks.count("A notice may be issued") == 2
    assert "£80.00 if paid within 21 days, £160.00 within 28 days" in checks
    for contact_id in _parents(db):
        assert re.search(rf'id="parent-{contact_id}"[^>]*checked', page.text)
    assert 'for="issue-posted_on"' in page.text and 'value="2024-11-14"' in page.text
    assert "Decline the request" in page.text


def test_issuing_through_the_form_makes_a_notice_for_each_parent(client_as, context, db, clock):
    case_id, request_id = _holiday_request(context, db, clock)
    client = client_as("statutory")
    issued = _issue_through_the_form(client, db, request_id)
    assert issued.status_code == 303
    assert issued.headers["location"] == f"/penalty-notices?issued={request_id}"
    found = _notices(db)
    assert [n.status for n in found] == ["issued", "issued"]
    assert {n.pay_by for n in found} == {date(2024, 12, 15)}
    confirmation = client.get(issued.headers["location"])
    assert "Penalty notices issued for Amelia Ashdown" in confirmation.text
    for n in found:
        assert f'href="/penalty-notices/{n.id}">{n.reference}</a>' in confirmation.text
    awaiting = _part(confirmation.text, 'id="awaiting-payment"')
    assert "8 December 2024" in awaiting and "15 December 2024" in awaiting
    assert "25 days left" in awaiting and "32 days left" in awaiting

    case = client.get(f"/cases/{case_id}")
    section = _part(case.text, 'id="penalty-notices"', 'id="deadlines"')
    assert found[0].reference in section and "Issued: awaiting payment" in section
    assert "Accepted" in section

    notice = client.get(f"/penalty-notices/{found[0].id}")
    assert notice.status_code == 200
    assert "Issued: awaiting payment" in notice.text and "18 November 2024" in notice.text
    assert f'href="/penalty-notices/{found[0].id}/notice"' in notice.text
    letter = client.get(f"/penalty-notices/{found[0].id}/notice")
    assert letter.status_code == 200
    assert letter.headers["content-type"].startswith("text/html")
    assert found[0].reference in letter.text


def test_a_third_notice_for_the_same_parent_and_child_is_refused_with_the_reason(
    client_as, context, db, clock
):
    _, request_id = _holiday_request(context, db, clock)
    dana = _parents(db)[0]
    ctx = context("statutory")
    record_enquiry(
        ctx,
        RecordEnquiry(
            db.world.pupil_oak,
            dana,
            "Otherborough Council",
            date(2024, 11, 13),
            date(2024, 11, 13),
            "two notices issued last year, both paid",
            [
                ReportedNotice("OB-1", date(2023, 10, 2), "paid"),
                ReportedNotice("OB-2", date(2024, 2, 5), "paid"),
            ],
        ),
    )
    ctx.commit()
    client = client_as("statutory")
    page = client.get(f"/penalty-notices/requests/{request_id}")
    assert "penalty notices have already been issued to this parent" in page.text
    assert not re.search(rf'id="parent-{dana}"[^>]*checked', page.text)

    refused = _issue_through_the_form(client, db, request_id)
    assert refused.status_code == 409
    assert "There is a problem" in refused.text
    assert "Ms Dana Ashdown: 2 penalty notices have already been issued" in refused.text
    assert "within 3 years of the first" in refused.text
    assert f'href="#parent-{dana}"' in refused.text
    assert _notices(db) == []  # nothing written: neither parent's notice


def test_a_payment_at_day_20_marks_the_notice_paid_and_a_bad_amount_names_the_field(
    client_as, context, db, clock
):
    _, request_id = _holiday_request(context, db, clock)
    client = client_as("statutory")
    assert _issue_through_the_form(client, db, request_id).status_code == 303
    first, second = _notices(db)
    at(clock, date(2024, 12, 7))  # day 20, counting the day of receipt (18 Nov) as day 1
    page = client.get(f"/penalty-notices/{first.id}")
    assert 'for="payment-amount"' in page.text and 'name="method"' in page.text

    bad = client.post(
        f"/penalty-notices/{second.id}/payment",
        data={
            "expected_version": _version(page.text),
            "paid_on": "2024-12-07",
            "amount": "80p",
            "method": "online",
            "finance_reference": "FIN-2",
        },
    )
    assert bad.status_code == 422
    assert "Amount paid: enter the amount in pounds, for example 80 or 80.00" in bad.text
    assert 'href="#payment-amount"' in bad.text
    assert 'value="80p"' in bad.text  # kept in the form

    paid = client.post(
        f"/penalty-notices/{first.id}/payment",
        data={
            "expected_version": _version(page.text),
            "paid_on": "2024-12-07",
            "amount": "80.00",
            "method": "online",
            "finance_reference": "FIN-1",
        },
        follow_redirects=False,
    )
    assert paid.status_code == 303
    after = client.get(paid.headers["location"])
    assert "The payment is recorded" in after.text
    assert "<strong>Paid</strong>" in after.text and "FIN-1" in after.text
    assert "Record a payment" not in after.text
    assert [n.status for n in _notices(db)] == ["paid", "issued"]

    wrong = client.post(
        f"/penalty-notices/{second.id}/payment",
        data={
            "expected_version": _version(client.get(f"/penalty-notices/{second.id}").text),
            "paid_on": "2024-12-07",
            "amount": "160",
            "method": "online",
            "finance_reference": "FIN-3",
        },
    )
    assert wrong.status_code == 422
    assert "Amount paid: £80.00 is due for a payment on 7 December 2024" in wrong.text


def test_the_register_filters_and_downloads_csv(client_as, context, db, clock):
    _, request_id = _holiday_request(context, db, clock)
    client = client_as("statutory")
    assert _issue_through_the_form(client, db, request_id).status_code == 303
    references = [n.reference for n in _notices(db)]

    everything = client.get("/penalty-notices/register")
    assert everything.status_code == 200
    assert all(ref in everything.text for ref in references)
    assert "Showing 1 to 2 of 2 notices" in everything.text
    awaiting = client.get(
        "/penalty-notices/register",
        params={"status": "awaiting_payment", "month": "2024-11", "reason": "holiday"},
    )
    assert all(ref in awaiting.text for ref in references)
    assert 'href="/penalty-notices/register.csv?status=awaiting_payment' in awaiting.text
    paid = client.get("/penalty-notices/register", params={"status": "paid"})
    assert "No notices match" in paid.text and references[0] not in paid.text
    october = client.get("/penalty-notices/register", params={"month": "2024-10"})
    assert "No notices match" in october.text
    bad = client.get("/penalty-notices/register", params={"month": "Nov 2024"})
    assert bad.status_code == 422
    assert "Month of issue: enter it as YYYY-MM" in bad.text and 'href="#month"' in bad.text

    download = client.get(
        "/penalty-notices/register.csv", params={"status": "awaiting_payment", "month": "2024-11"}
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:4] == ["Notice", "Case", "School URN", "School"]
    assert sorted(row[0] for row in rows[1:]) == sorted(references)
    assert {row[12] for row in rows[1:]} == {"80.00"}
    empty = client.get("/penalty-notices/register.csv", params={"status": "paid"})
    assert len(list(csv.reader(io.StringIO(empty.text)))) == 1  # the header only

    reports = client.get("/penalty-notices/reports")
    assert reports.status_code == 200
    assert "Oakfield Primary" in reports.text and "November 2024" in reports.text


def test_no_one_sees_requests_or_notices_outside_their_scope(client_as, context, db, clock):
    _, request_id = _holiday_request(context, db, clock)
    assert _issue_through_the_form(client_as("statutory"), db, request_id).status_code == 303
    notice_id = _notices(db)[0].id
    paths = (
        f"/penalty-notices/requests/{request_id}",
        f"/penalty-notices/{notice_id}",
        f"/penalty-notices/{notice_id}/notice",
    )
    other_school = client_as("hill_lead")
    for path in paths:
        hidden = other_school.get(path, headers=HTML)
        assert hidden.status_code == 404, path
        assert "Page not found" in hidden.text and "Amelia" not in hidden.text
    queue = other_school.get("/penalty-notices")
    assert queue.status_code == 200 and "Amelia" not in queue.text
    register = other_school.get("/penalty-notices/register")
    assert "Amelia" not in register.text and "Showing" not in register.text
    refused = other_school.post(
        f"/penalty-notices/{notice_id}/payment",
        data={"paid_on": "2024-11-14", "amount": "80", "method": "online"},
    )
    assert refused.status_code == 404

    # The school that asked may read its notices but not act on them.
    own = client_as("oak_lead").get(f"/penalty-notices/{notice_id}")
    assert own.status_code == 200 and "Record a payment" not in own.text

    admin = client_as("admin")
    assert 'href="/penalty-notices"' not in admin.get("/").text
    for path in ("/penalty-notices", "/penalty-notices/register", "/penalty-notices/reports"):
        assert admin.get(path, headers=HTML).status_code == 403, path
    for path in (*paths, f"/pupils/{db.world.pupil_oak}/leave"):
        assert admin.get(path, headers=HTML).status_code == 404, path


def test_a_school_records_leave_and_requests_notices_from_the_case_page(client_as, db, clock):
    at(clock, date(2024, 10, 1))
    client = client_as("oak_lead")
    dana = _parents(db)[0]
    pupil = client.get(f"/pupils/{db.world.pupil_oak}")
    assert f'href="/pupils/{db.world.pupil_oak}/leave"' in pupil.text
    form = client.get(f"/pupils/{db.world.pupil_oak}/leave")
    assert form.status_code == 200 and 'for="leave-contact_id"' in form.text
    application = {
        "school_id": db.world.oakfield,
        "contact_id": dana,
        "applied_on": "2024-09-30",
        "first_day": "2024-11-08",
        "last_day": "2024-11-04",
        "reason": "family holiday abroad",
    }
    backwards = client.post(f"/pupils/{db.world.pupil_oak}/leave", data=application)
    assert backwards.status_code == 422
    assert "Last day of leave: before the first day" in backwards.text
    assert 'href="#leave-last_day"' in backwards.text
    recorded = client.post(
        f"/pupils/{db.world.pupil_oak}/leave",
        data={**application, "first_day": "2024-11-04", "last_day": "2024-11-08"},
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    leave_path = recorded.headers["location"].split("?")[0]
    leave_id = int(leave_path.rsplit("/", 1)[1])

    decision = {
        "decision": "authorised",
        "exceptional_circumstances": "no",
        "reasons": "a holiday is not an exceptional circumstance",
        "decided_on": "2024-10-01",
        "decided_by_name": "Head Teacher",
        "decided_by_position": "Headteacher",
    }
    not_exceptional = client.post(f"{leave_path}/decision", data=decision)
    assert not_exceptional.status_code == 422
    assert "Exceptional circumstances: leave in term time may be granted only" in (
        not_exceptional.text
    )
    refused = client.post(
        f"{leave_path}/decision", data={**decision, "decision": "refused"}, follow_redirects=False
    )
    assert refused.status_code == 303

    at(clock, date(2024, 11, 12))
    taken = client.post(
        f"{leave_path}/taken",
        data={"first_absent": "2024-11-04", "last_absent": "2024-11-08"},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    page = client.get(taken.headers["location"])
    assert "The leave taken is laid in the register" in page.text
    register = _part(page.text, 'id="register"')
    assert register.count("<td>G</td>") == 10

    case = client.post(
        f"/pupils/{db.world.pupil_oak}/cases",
        data={
            "school_id": db.world.oakfield,
            "stage": "monitor",
            "kind": "term_time_holiday",
            "reason": "holiday taken after leave was refused",
        },
        follow_redirects=False,
    )
    case_path = case.headers["location"]
    case_page = client.get(case_path)
    assert "Request penalty notices" in case_page.text
    assert "&#34;no application&#34;" in case_page.text  # the hint names the words needed
    assert f'<option value="{leave_id}">4 November 2024 to 8 November 2024' in case_page.text

    no_leave = client.post(
        f"{case_path}/penalty-notice-requests",
        data={"reason": "holiday", "summary": "Taken without asking", "leave_request_id": ""},
    )
    assert no_leave.status_code == 422
    assert "Leave request: a holiday request keeps the parent&#39;s leave application" in (
        no_leave.text
    )
    assert 'href="#penalty-leave_request_id"' in no_leave.text

    requested = client.post(
        f"{case_path}/penalty-notice-requests",
        data={
            "reason": "holiday",
            "summary": "Leave refused; taken anyway; 10 sessions G",
            "leave_request_id": str(leave_id),
        },
        follow_redirects=False,
    )
    assert requested.status_code == 303
    shown = client.get(requested.headers["location"])
    assert "Penalty notices requested" in shown.text
    assert _part(shown.text, 'id="sessions"', 'id="leave"').count("<td>G</td>") == 10
    after = client.get(case_path)
    assert "awaiting the LA's decision" in after.text
    assert (
        'action="/cases/'
        not in after.text.split('id="penalty-notices"')[1].split('id="deadlines"')[0]
    )


def test_unpaid_at_28_days_the_officer_prosecutes_or_withdraws(client_as, context, db, clock):
    _, request_id = _holiday_request(context, db, clock)
    client = client_as("statutory")
    assert _issue_through_the_form(client, db, request_id).status_code == 303
    first, second = _notices(db)
    at(clock, date(2024, 12, 16))  # the day after the 28 days beginning with 18 Nov
    queue = client.get("/penalty-notices")
    due = _part(queue.text, 'id="decisions-due"')
    assert first.reference in due and second.reference in due
    assert "No notices are awaiting payment." in queue.text

    page = client.get(f"/penalty-notices/{first.id}")
    assert "Unpaid at 28 days: decision due" in page.text
    assert "Decide to prosecute" in page.text
    assert 'value="not_prosecuting"' in page.text
    no_reasons = client.post(
        f"/penalty-notices/{first.id}/prosecute",
        data={"expected_version": _version(page.text), "note": " "},
    )
    assert no_reasons.status_code == 422
    assert "Reasons: record the reasons for the decision" in no_reasons.text
    assert 'href="#prosecute-note"' in no_reasons.text
    prosecuted = client.post(
        f"/penalty-notices/{first.id}/prosecute",
        data={"expected_version": _version(page.text), "note": "No reply to two letters"},
        follow_redirects=False,
    )
    assert prosecuted.status_code == 303
    assert "<strong>Prosecution</strong>" in client.get(prosecuted.headers["location"]).text

    other = client.get(f"/penalty-notices/{second.id}")
    withdrawn = client.post(
        f"/penalty-notices/{second.id}/withdraw",
        data={
            "expected_version": _version(other.text),
            "ground": "not_prosecuting",
            "note": "Father has left the household",
        },
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    after = client.get(withdrawn.headers["location"])
    assert "Unpaid at 28 days and the LA decided not to prosecute" in after.text
    assert [n.status for n in _notices(db)] == ["prosecution", "withdrawn"]


def test_a_draft_is_issued_or_cancelled_from_its_page(client_as, context, db, clock):
    from workflows.penalties.notices import DraftNotices, draft_notices

    case_id, request_id = _holiday_request(context, db, clock)
    ctx = context("statutory")
    draft_notices(ctx, DraftNotices(case_id, "holiday", request_id=request_id))
    ctx.commit()
    first, second = _notices(db)
    client = client_as("statutory")
    queue = client.get("/penalty-notices")
    assert first.reference in _part(queue.text, 'id="drafts"', 'id="awaiting-payment"')

    page = client.get(f"/penalty-notices/{first.id}")
    assert "Issue the notice" in page.text and "Cancel the draft" in page.text
    assert f'href="/penalty-notices/{first.id}/notice"' not in page.text
    assert client.get(f"/penalty-notices/{first.id}/notice", headers=HTML).status_code == 404
    too_late = client.post(
        f"/penalty-notices/{first.id}/issue",
        data={"expected_version": _version(page.text), "posted_on": "2025-01-06"},
    )
    assert too_late.status_code == 422
    assert "Date of posting: at most 7 days ahead" in too_late.text
    issued = client.post(
        f"/penalty-notices/{first.id}/issue",
        data={"expected_version": _version(page.text), "posted_on": "2024-11-14"},
        follow_redirects=False,
    )
    assert issued.status_code == 303
    assert "The notice is issued." in client.get(issued.headers["location"]).text

    other = client.get(f"/penalty-notices/{second.id}")
    cancelled = client.post(
        f"/penalty-notices/{second.id}/cancel",
        data={"expected_version": _version(other.text), "reason": "Father no longer at home"},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    assert [n.status for n in _notices(db)] == ["issued", "cancelled"]
