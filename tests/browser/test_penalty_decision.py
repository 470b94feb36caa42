"""The threshold met on an open case asks for a decision: the case holder records that support
continues, through the form under the case's deadlines, and the decision deadline is met."""

from __future__ import annotations

from tests.browser.conftest import focus_reaches_error_summary, sign_in

REASON = "Browser test: the family is engaging with Early Help; attendance reviewed in 3 weeks."


def test_the_case_holder_records_carrying_on_with_support(page, visitor, server):
    rows = server.query(
        "SELECT c.id, u.username FROM deadline d JOIN case_file c ON c.id = d.case_id"
        " JOIN app_user u ON u.id = c.owner_id"
        " WHERE d.kind = 'penalty_decision' AND d.status IN ('pending', 'fired')"
        " AND c.closed_at IS NULL AND u.role IN ('school_staff', 'traded_officer',"
        " 'statutory_officer') ORDER BY c.id"
    )
    assert rows, "the demo has no open case waiting for a penalty-notice decision"
    case_id, holder = rows[0]
    sign_in(visitor, page, holder, check=False)
    visitor.visit(page, f"/cases/{case_id}")
    form = page.locator("form#penalty-decision")
    assert "Threshold met" in form.inner_text()

    # No reason: the GOV.UK error summary names the field, and nothing is recorded.
    with page.expect_navigation():
        form.get_by_role("button", name="Carry on with support").click()
    assert focus_reaches_error_summary(page), "focus should move to the error summary"
    summary = page.locator(".govuk-error-summary")
    assert "Reason" in summary.inner_text()
    visitor.check(page, "no-reason")

    page.locator("#penalty-decision-reason").fill(REASON)
    with page.expect_navigation():
        page.locator("form#penalty-decision").get_by_role(
            "button", name="Carry on with support"
        ).click()
    banner = page.locator(".govuk-notification-banner--success")
    assert "support continues" in banner.inner_text()
    # The decision is in the chronology with its reason, and there is nothing left to decide.
    chronology = page.get_by_role("table", name="Chronology, oldest first")
    assert REASON in chronology.inner_text()
    assert page.locator("form#penalty-decision").count() == 0
    visitor.check(page, "recorded")
