"""Reflow (WCAG 1.4.10): at 320 CSS pixels wide, as at 400 % zoom, pages read without scrolling
sideways, except inside data tables (which the criterion exempts); axe-core checks each page at
that width too (touch targets, contrast against a different layout)."""

from __future__ import annotations

from tests.browser.conftest import sign_in

SIDEWAYS = """() => [...document.querySelectorAll('main *, header *, footer *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(el => !el.closest('table, pre, code, [data-scrollable], .app-scroll'))
  .slice(0, 8)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
             + (el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\\s+/).join('.') : ''))"""


def test_pages_reflow_at_320_pixels(browser, visitor, server):
    context = browser.new_context(base_url=server.base_url, viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        sign_in(visitor, page, "school")  # the sign-in page and the landing page, checked
        (case_id,) = server.query(
            "SELECT c.id FROM case_file c JOIN app_user u ON u.id = c.owner_id"
            " WHERE u.username = 'school' ORDER BY c.id DESC LIMIT 1"
        )[0]
        problems = {}
        for path in ("/", "/caseload", f"/cases/{case_id}"):
            visitor.visit(page, path)
            wide = page.evaluate(SIDEWAYS)
            if wide:
                problems[path] = wide
        assert not problems, f"content wider than 320 px outside tables: {problems}"
    finally:
        context.close()
