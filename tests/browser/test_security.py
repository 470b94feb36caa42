"""In a real browser (issue 9): the content security policy blocks inline script and the tests
notice it; a letter preview keeps its print styles under the policy; an administrator issues a
token (shown once) and revokes it through the pages, every form carrying its CSRF token."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def test_the_policy_blocks_inline_script_and_the_tests_notice(page, visit, visitor):
    visit(page, "/login")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.injected = true'; document.body.append(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in text for _, text in visitor.csp_violations)
    visitor.csp_violations.clear()  # seen: this test's own injection is not a page's fault


def test_a_letter_preview_keeps_its_styles_under_the_policy(page, visit, visitor, server):
    (case_id,) = server.query(
        "SELECT c.id FROM case_file c JOIN app_user u ON u.id = c.owner_id"
        " WHERE u.username = 'school' AND c.closed_at IS NULL ORDER BY c.id LIMIT 1"
    )[0]
    sign_in(visitor, page, "school", check=False)
    page.goto(f"/cases/{case_id}/letters/new")
    kinds = page.locator("#letter-kind option").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)"
    )
    for kind in kinds:
        page.goto(f"/cases/{case_id}/letters/new?kind={kind}")
        with page.expect_navigation():
            page.get_by_role("button", name="Preview").click()
        if page.locator("iframe.letter-preview__frame").count():
            break
    else:
        raise AssertionError(f"no letter of {kinds} previewed without more details")
    frame = page.frame_locator("iframe.letter-preview__frame").first
    font = frame.locator("body").evaluate("body => getComputedStyle(body).fontFamily")
    assert "Arial" in font, font  # the letter's own <style>, allowed by its hash
    visitor.check(page, "letter-preview")


def test_an_admin_issues_a_token_shown_once_and_revokes_it(page, visit, visitor):
    sign_in(visitor, page, "admin", check=False)
    visit(page, "/admin/tokens")
    page.get_by_role("button", name="Issue a token").click()
    page.wait_for_url("**/admin/tokens/new")
    visitor.check(page, "issue-form")
    page.get_by_label("What the integration is").fill("Browser test MIS")
    page.locator("#token-school_ids").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Issue the token").click()
    token = page.locator("#token").input_value()
    assert token.startswith("cw_")
    visitor.check(page, "issued")
    visit(page, "/admin/tokens")
    assert token not in page.content()
    row = page.locator("tr", has_text="Browser test MIS")
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    assert "The token is revoked" in page.locator(".govuk-notification-banner").inner_text()
    assert "Revoked" in page.locator("tr", has_text="Browser test MIS").inner_text()
    visitor.check(page, "revoked")
