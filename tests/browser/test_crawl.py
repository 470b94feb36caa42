"""Every page each role reaches from the service navigation is accessible: each navigation
page, and from each the first link of each list or table on it (bounded, and each kind of page
once), is screenshotted and checked by axe-core."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import sign_in

ROLES = ["school", "traded", "statutory", "manager", "admin"]
# Each role's navigation, as api/pages/common.py NAVIGATION gives it.
EXPECTED_NAV = {
    "school": ["My work", "Caseload", "Schools", "Penalty notices", "Imports"],
    "traded": ["My work", "Caseload", "Schools", "Penalty notices", "Reports"],
    "statutory": ["My work", "Caseload", "Schools", "Penalty notices", "Reports"],
    "manager": [
        "My work",
        "Caseload",
        "Schools",
        "Penalty notices",
        "Reports",
        "Imports",
        "Outbox",
        "Audit",
    ],
    "admin": ["Imports", "Outbox", "Audit", "Admin"],
}
MOST_FOLLOWED_PER_PAGE = 6
NOT_PAGES = re.compile(r"\.(csv|pdf|json|zip)$|/download|/logout|/schema", re.I)

# Kinds of page (an address with its numbers taken out) already followed in this session's crawl:
# each is checked once, by the first role that reaches it, so the crawl stays quick (the case and
# pupil pages are checked again, as other roles, by the walk, scope and blocked-action tests).
_seen: set[str] = set()


def kind_of(path: str) -> str:
    return re.sub(r"/\d+", "/{id}", path)


def first_links(page, base_url: str) -> list[str]:
    """Every link of a section's own navigation (the admin pages', say), then the first link of
    each list and table in the page's main content, in page order."""
    hrefs = page.evaluate(
        """() => {
          const found = [];
          for (const nav of document.querySelectorAll('main nav, .govuk-width-container > nav')) {
            for (const a of nav.querySelectorAll('a[href]')) found.push(a.href);
          }
          for (const list of document.querySelectorAll('main ul, main ol, main tbody, main dl')) {
            if (list.closest('nav, .govuk-error-summary')) continue;
            const a = list.querySelector('a[href]');
            if (a) found.push(a.href);
          }
          return found;
        }"""
    )
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base_url or NOT_PAGES.search(parts.path):
            continue
        if parts.path == urlsplit(page.url).path:  # a link within the page, or a re-sort
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in paths:
            paths.append(path)
    return paths


@pytest.mark.parametrize("username", ROLES)
def test_every_page_in_reach_of_the_navigation_is_accessible(page, visitor, server, username):
    sign_in(visitor, page, username, check=False)
    nav = page.locator("header nav a")
    labels = [t.strip() for t in nav.all_inner_texts()]
    assert labels == EXPECTED_NAV[username], labels
    sections = [urlsplit(h).path for h in [a.get_attribute("href") for a in nav.all()] if h]
    problems = []
    for section in sections:
        answer = page.goto(section)
        if answer is None or answer.status != 200:
            problems.append(f"{section}: HTTP {answer.status if answer else None}")
            visitor.check(page)
            continue
        visitor.check(page)
        _seen.add(kind_of(section))
        followed = 0
        for path in first_links(page, server.base_url):
            key = kind_of(urlsplit(path).path)
            if key in _seen or followed >= MOST_FOLLOWED_PER_PAGE:
                continue
            _seen.add(key)
            followed += 1
            answer = page.goto(path)
            if answer is None or answer.status != 200:
                problems.append(
                    f"{path} (from {section}): HTTP {answer.status if answer else None}"
                )
            visitor.check(page)
    if any(": HTTP 5" in p for p in problems):
        problems.append(f"server log:\n{server.log_tail()}")
    assert not problems, "\n".join(problems)
