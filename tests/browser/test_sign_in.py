"""Signing in and out through the form, as each demo role."""

from __future__ import annotations

import pytest

from tests.browser.conftest import focus_reaches_error_summary, sign_in

# Each role's landing page: words in its main content that show it is that person's, and for
# that role (the role in words, where they work, what they have to do).
ROLES = {
    "admin": ["Administrator", "Users and settings", "active users", "Manage users"],
    "manager": ["Local authority manager", "Everything in", "Your deadlines", "overdue"],
    "statutory": ["Statutory attendance officer", "Your deadlines", "overdue"],
    "traded": ["Traded attendance officer", "Maplebrook Primary School", "Your deadlines"],
    "school": ["School staff", "Maplebrook Primary School", "Your deadlines", "Overdue"],
    "lead.rowanwell": ["School staff", "Rowanwell High School", "Your deadlines"],
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_signs_in_to_a_useful_landing_page(page, visitor, username):
    sign_in(visitor, page, username)
    main = page.locator("main").inner_text()
    missing = [text for text in ROLES[username] if text not in main]
    assert not missing, f"{username}'s landing page lacks {missing}"
    assert page.locator("h1").count() == 1
    if username != "admin":
        # One click from a deadline to its case, where there is one.
        first_case = page.locator("main a[href^='/cases/']").first
        if first_case.count():
            with page.expect_navigation():
                first_case.click()
            assert page.url.split(visitor.server.base_url)[1].startswith("/cases/")
            visitor.check(page, "first-case")


def test_a_wrong_password_shows_the_error_summary_and_focuses_it(page, visitor):
    visitor.visit(page, "/login")
    page.get_by_label("Username").fill("statutory")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary, .error-summary")
    summary.wait_for()
    assert "There is a problem" in summary.inner_text()
    assert "The username or password is not right" in summary.inner_text()
    assert page.title().startswith("Error:")
    focused = focus_reaches_error_summary(page)
    assert focused, "focus should move to the error summary"
    # The summary's link takes focus to the field it is about.
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "username"
    visitor.check(page, "wrong-password")


def test_an_empty_form_says_what_is_missing(page, visitor):
    visitor.visit(page, "/login")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary, .error-summary")
    summary.wait_for()
    assert "Enter your username" in summary.inner_text()
    assert "Enter your password" in summary.inner_text()
    assert page.locator("#password-error").count() == 1
    visitor.check(page, "empty-form")


def test_sign_out_ends_the_session(page, visitor):
    sign_in(visitor, page, "traded")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/login")
    visitor.check(page, "signed-out")
    # The session is gone: the landing page no longer opens.
    page.goto("/")
    assert page.url.endswith("/login")
    assert "Sign out" not in page.content()


def test_a_page_without_a_session_goes_to_sign_in(page, visitor):
    for path in ("/", "/caseload", "/cases/1"):
        answer = page.goto(path)
        assert page.url.endswith("/login"), f"{path}: HTTP {answer.status if answer else None}"
    visitor.check(page, "sent-to-sign-in")


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(page, visitor):
    # statutory2: a demo user no other browser test signs in as.
    visitor.visit(page, "/login")
    for _ in range(10):
        page.get_by_label("Username").fill("statutory2")
        page.get_by_label("Password").fill("not-the-password")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
    said = page.locator(".govuk-error-summary, .error-summary").inner_text()
    visitor.check(page, "locked")
    assert "locked" in said.lower() or "try again" in said.lower(), said
