"""Keyboard only: the skip link first, every control reached by Tab, focus always visible."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, focus_reaches_error_summary

LOOK = """el => {
  const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor,
          s.color, s.textDecorationLine, s.textDecorationThickness].join('|');
}"""


def focused(page) -> dict:
    return page.evaluate(
        "() => { const el = document.activeElement; return {tag: el.tagName, id: el.id,"
        " cls: el.className, text: (el.innerText || '').trim()}; }"
    )


def look_of_focused(page) -> tuple[str, str]:
    """How the focused element looks focused, and how it looks once focus has left it."""
    handle = page.evaluate_handle("document.activeElement")
    with_focus = handle.evaluate(LOOK)
    page.evaluate("document.activeElement.blur()")
    without = handle.evaluate(LOOK)
    handle.evaluate("el => el.focus()")
    return with_focus, without


def test_signing_in_by_keyboard_alone(page, visitor):
    visitor.visit(page, "/login")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to main content", f"the first Tab stop is {first}"
    shown, hidden = look_of_focused(page)
    assert shown != hidden, "the skip link shows no focus state"
    visitor.check(page, "skip-link-focused")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main-content", "the skip link should move focus to main"

    page.keyboard.press("Tab")
    assert focused(page)["id"] == "username"
    shown, hidden = look_of_focused(page)
    assert shown != hidden, "the username field shows no focus state"
    page.keyboard.type("statutory")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    button = focused(page)
    assert button["tag"] == "BUTTON" and button["text"] == "Sign in"
    shown, hidden = look_of_focused(page)
    assert shown != hidden, "the Sign in button shows no focus state"
    visitor.check(page, "sign-in-focused")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/") == visitor.server.base_url
    visitor.check(page, "landing")


def test_every_tab_stop_on_the_landing_page_shows_focus(page, visitor):
    """Tab through the landing page's header, navigation and first controls: each shows that
    it has focus, and focus never lands on something hidden."""
    visitor.visit(page, "/login")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")
    visitor.check(page, "landing")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    invisible = []
    for _ in range(15):
        page.keyboard.press("Tab")
        here = focused(page)
        if here["tag"] == "BODY":
            break
        visible = page.evaluate(
            "() => { const r = document.activeElement.getBoundingClientRect();"
            " return r.width > 0 && r.height > 0; }"
        )
        shown, hidden = look_of_focused(page)
        if not visible or shown == hidden:
            invisible.append(here)
    assert not invisible, f"Tab stops with no visible focus: {invisible}"
    # The navigation is reached by keyboard: Caseload is a Tab stop.
    page.keyboard.press("Shift+Tab")


def tab_to(page, matches: str, most: int = 250) -> dict:
    """Press Tab until the focused element satisfies the JS predicate ``matches`` (on ``el``)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {matches}; }})()"):
            return focused(page)
    raise AssertionError(f"no Tab stop matched {matches} in {most} presses")


def test_a_case_action_is_tried_and_its_refusal_followed_by_keyboard(page, visitor, server):
    """On the case page, by keyboard alone: open a blocked action's go-ahead form, submit it
    without the rationale it needs, land on the error summary, follow its link to the field."""
    case_id, holder = server.query(
        "SELECT c.id, u.username FROM case_file c JOIN app_user u ON u.id = c.owner_id"
        " WHERE c.stage = 'monitor' AND c.kind = 'irregular_attendance'"
        " AND u.role = 'school_staff' AND u.username != 'school' ORDER BY c.id"
    )[0]
    visitor.visit(page, "/login")
    tab_to(page, "el.id === 'username'", most=5)
    page.keyboard.type(holder)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/") == server.base_url, f"{holder} did not sign in: {page.url}"
    visitor.visit(page, f"/cases/{case_id}")

    summary = tab_to(
        page,
        "el.tagName === 'SUMMARY' && el.closest('#action-advance_to_formalise_support') !== null",
    )
    shown, hidden = look_of_focused(page)
    assert shown != hidden, f"{summary['text']!r} shows no focus state"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('details').open")
    field = tab_to(page, "el.tagName === 'TEXTAREA'", most=3)
    shown, hidden = look_of_focused(page)
    assert shown != hidden, f"the field {field['id']} shows no focus state"
    visitor.check(page, "go-ahead-open")
    button = tab_to(page, "el.tagName === 'BUTTON'", most=10)
    assert button["text"] == "Move to Formalise support", button
    shown, hidden = look_of_focused(page)
    assert shown != hidden, "the action's button shows no focus state"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focus_reaches_error_summary(page), "focus should be on the error summary"
    visitor.check(page, "refused")
    link = tab_to(page, "el.tagName === 'A'", most=3)
    assert link["text"], link
    page.keyboard.press("Enter")
    landed = focused(page)
    assert landed["tag"] in ("TEXTAREA", "INPUT", "SELECT"), (
        f"the summary's link left focus on {landed}"
    )
