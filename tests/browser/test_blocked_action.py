"""A blocked action says why: the case page lists each action not possible yet with every
requirement that stands in its way, and going ahead without answering them is refused with the
same reasons in the error summary."""

from __future__ import annotations

import pytest

from tests.browser.conftest import focus_reaches_error_summary, sign_in


@pytest.fixture
def blocked_case(server) -> tuple[int, str]:
    """A Monitor case held by a school lead other than ``school`` (whose case the walk uses)."""
    rows = server.query(
        "SELECT c.id, u.username FROM case_file c JOIN app_user u ON u.id = c.owner_id"
        " WHERE c.stage = 'monitor' AND c.kind = 'irregular_attendance'"
        " AND u.role = 'school_staff' AND u.username != 'school' ORDER BY c.id"
    )
    assert rows, "the demo has no other school's Monitor case"
    return rows[0]


def test_a_blocked_action_shows_its_reasons(page, visitor, blocked_case):
    case_id, holder = blocked_case
    sign_in(visitor, page, holder)
    visitor.visit(page, f"/cases/{case_id}")
    main = page.locator("main")
    assert "Not possible yet" in main.inner_text()
    enforce = page.locator("#action-advance_to_enforce")
    text = enforce.inner_text()
    assert "Move to Enforce" in text
    for reason in (
        "Only a statutory officer or an LA manager may take legal action",
        "A manager must approve the move to Enforce first",
        "No Notice to Improve has been issued",
    ):
        assert reason in text, text
    # Nothing can be bypassed here, so no form to try.
    assert enforce.get_by_role("button").count() == 0

    # A requirement that may be bypassed with a rationale: going ahead without one is refused,
    # with the reason in the error summary, linked to the rationale's box.
    facilitate = page.locator("#action-advance_to_formalise_support")
    reasons = facilitate.inner_text()
    assert "skips Listen and understand, Facilitate support" in reasons, reasons
    facilitate.get_by_text("Go ahead, recording why each requirement is bypassed").click()
    visitor.check(page, "go-ahead-open")
    with page.expect_navigation():
        facilitate.get_by_role("button", name="Move to Formalise support").click()
    summary = page.locator(".govuk-error-summary, .error-summary")
    assert summary.count() == 1, "refusal should show the error summary"
    said = summary.inner_text()
    assert "skips Listen and understand, Facilitate support" in said, said
    assert focus_reaches_error_summary(page), "focus should move to the error summary"
    visitor.check(page, "refused")
    # The summary's first link goes to the field to fix.
    target = summary.get_by_role("link").first.get_attribute("href")
    assert target and page.locator(target).count() == 1, target
    # And the case has not moved.
    assert "Monitor" in page.locator("[aria-current='step']").inner_text()


def test_an_incomplete_intervention_shows_each_error_by_its_field(page, visitor, blocked_case):
    """The GOV.UK error pattern on the case page: a summary at the top, linked to each field,
    and the message beside the field; what was typed is kept."""
    case_id, holder = blocked_case
    sign_in(visitor, page, holder, check=False)
    visitor.visit(page, f"/cases/{case_id}")
    form = page.locator("form[action$='/interventions']")
    form.get_by_label("Who attended (optional)").fill("Attendance lead")
    form.get_by_label("Date").fill("")
    with page.expect_navigation():
        form.get_by_role("button", name="Record the intervention").click()
    summary = page.locator(".govuk-error-summary, .error-summary")
    assert summary.count() == 1
    assert page.title().startswith("Error:")
    links = summary.get_by_role("link")
    assert links.count() >= 1
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")
        assert target and target.startswith("#") and page.locator(target).count() == 1, target
        field = page.locator(target)
        described = field.get_attribute("aria-describedby") or ""
        assert "error" in described, f"{target} is not described by its error message"
    visitor.check(page, "intervention-errors")
    # Following the first link puts focus on its field.
    links.first.click()
    assert page.evaluate("document.activeElement.id") == links.first.get_attribute("href")[1:]
    assert (
        page.locator("form[action$='/interventions']")
        .get_by_label("Who attended (optional)")
        .input_value()
        == "Attendance lead"
    )
