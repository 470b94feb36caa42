"""A demo case walked from Monitor to a Notice to Improve through the case page's own forms:
the school's attendance lead moves it on and records the support that did not work, then the
LA's statutory officer, in a browser of their own, issues the Notice to Improve."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in

WALK_REASON = "Browser test: attendance has not improved with support at this level."


def current_stage(page) -> str:
    return page.locator("[aria-current='step']").inner_text().split("\n")[0].strip()


def act(visitor, page, label: str, reason: str = WALK_REASON, *, check_open: bool = False) -> None:
    """Open an available action, give its reason and submit it, as a person would."""
    action = page.locator("details", has=page.locator("summary", has_text=re.compile(f"^{label}$")))
    assert action.count() == 1, f"{label} is not available now: {blocked_reasons(page, label)!r}"
    action.locator("summary").click()
    if check_open:  # the action's form, opened (once is enough: every action's is the same)
        visitor.check(page, f"open-{label}")
    action.get_by_label("Reason").fill(reason)
    with page.expect_navigation():
        action.get_by_role("button", name=label).click()
    assert page.locator(".govuk-error-summary, .error-summary").count() == 0, page.locator(
        ".govuk-error-summary, .error-summary"
    ).inner_text()
    visitor.check(page, f"after-{label}")


def blocked_reasons(page, label: str) -> str:
    item = page.locator("#actions ~ ul li, .blocked li", has_text=label).first
    return item.inner_text() if item.count() else ""


SCHOOL_ACTIONS = (
    "'letter', 'phone_call', 'meeting_with_parent', 'home_visit', 'pupil_check_in', "
    "'attendance_concern_meeting'"
)


@pytest.fixture
def walk_case(server) -> int:
    """A case for irregular attendance held by the demo's school lead (``school``), at Monitor
    or Listen and understand, whose school has done what Level 2 asks first: two school actions
    or more, the first over six school weeks ago (60 days is more than enough), and an Early Help
    assessment completed or declined. A Monitor case first, when the demo has one."""
    rows = server.query(
        "SELECT c.id FROM case_file c JOIN app_user u ON u.id = c.owner_id"
        " WHERE c.stage IN ('monitor', 'listen_and_understand')"
        " AND c.kind = 'irregular_attendance' AND u.username = 'school'"
        " AND EXISTS (SELECT 1 FROM intervention e WHERE e.case_id = c.id"
        "   AND e.kind = 'early_help_assessment' AND e.outcome IN ('completed', 'declined'))"
        f" AND (SELECT count(*) FROM intervention i WHERE i.case_id = c.id"
        f"   AND i.kind IN ({SCHOOL_ACTIONS})) >= 2"
        f" AND (SELECT min(i.occurred_on) FROM intervention i WHERE i.case_id = c.id"
        f"   AND i.kind IN ({SCHOOL_ACTIONS})) <= date('now', '-60 days')"
        " ORDER BY c.stage = 'monitor' DESC, c.id"
    )
    assert rows, "the demo has no case held by the school lead ready for Level 2"
    return rows[0][0]


def test_a_case_walks_from_monitor_to_a_notice_to_improve(browser, visitor, walk_case):
    path = f"/cases/{walk_case}"
    lead = visitor.new_page(browser)
    officer = visitor.new_page(browser)
    try:
        sign_in(visitor, lead, "school")
        visitor.visit(lead, path)
        if current_stage(lead) == "Monitor":
            act(visitor, lead, "Move to Listen and understand", check_open=True)
            assert current_stage(lead) == "Listen and understand"
            act(visitor, lead, "Move to Facilitate support")
        else:
            assert current_stage(lead) == "Listen and understand"
            act(visitor, lead, "Move to Facilitate support", check_open=True)
        assert current_stage(lead) == "Facilitate support"

        # Formalise waits for voluntary support that did not work.
        reasons = blocked_reasons(lead, "Move to Formalise support")
        assert "none is recorded as not engaged with or not improving" in reasons, reasons
        form = lead.locator("form[action$='/interventions']")
        form.get_by_label("Kind of intervention").select_option(
            label="Attendance Improvement Meeting (AIM)"
        )
        form.get_by_label("Summary").fill(
            "AIM arranged with the family; neither parent attended and attendance fell."
        )
        form.get_by_label("Family engaged").select_option(label="Not engaged")
        form.get_by_label("Outcome").select_option(label="Not improved")
        form.get_by_label("Who attended (optional)").fill("Attendance lead, traded officer")
        visitor.check(lead, "intervention-filled")
        with lead.expect_navigation():
            form.get_by_role("button", name="Record the intervention").click()
        visitor.check(lead, "intervention-recorded")
        interventions = lead.locator("table", has_text="Family engaged").last.inner_text()
        assert "neither parent attended" in interventions

        act(visitor, lead, "Move to Formalise support")
        assert current_stage(lead) == "Formalise support"

        # The LA's statutory officer, signed in separately, issues the notice.
        sign_in(visitor, officer, "statutory")
        visitor.visit(officer, path)
        assert current_stage(officer) == "Formalise support"
        act(visitor, officer, "Issue a Notice to Improve")
        assert current_stage(officer) == "Formalise support"
        main = officer.locator("main").inner_text()
        assert "Issue a Notice to Improve" in main  # the chronology's entry
        assert (
            "Notice to Improve"
            in officer.locator("table", has_text="Family engaged").last.inner_text()
        )
        # Enforce now waits on the notice running its course, not on its being issued.
        enforce = blocked_reasons(officer, "Move to Enforce")
        assert "No Notice to Improve has been issued" not in enforce, enforce
        assert "runs until" in enforce, enforce

        # The lead sees the same record.
        visitor.visit(lead, path)
        assert "Issue a Notice to Improve" in lead.locator("main").inner_text()
    finally:
        lead.context.close()
        officer.context.close()


def test_a_manager_approves_the_move_to_enforce_through_the_pages(browser, visitor, server):
    """Knowsley needs a manager's approval before Enforce: the statutory officer asks on the
    case page, the manager approves from My work, and the move is no longer blocked by it."""
    rows = server.query(
        "SELECT c.id FROM case_file c JOIN app_user u ON u.id = c.owner_id"
        " WHERE c.stage = 'formalise_support' AND u.username != 'school' ORDER BY c.id"
    )
    assert rows, "the demo has no Formalise case"
    path = f"/cases/{rows[0][0]}"
    officer = visitor.new_page(browser)
    manager = visitor.new_page(browser)
    try:
        sign_in(visitor, officer, "statutory")
        visitor.visit(officer, path)
        assert "A manager must approve the move to Enforce first" in blocked_reasons(
            officer, "Move to Enforce"
        )
        ask = officer.locator("form[action*='approval']")
        assert ask.count() > 0, "the case page has no form to ask for a manager's approval"
        ask.get_by_label("Reason").fill(WALK_REASON)
        with officer.expect_navigation():
            ask.get_by_role("button").click()
        visitor.check(officer, "approval-asked")

        sign_in(visitor, manager, "manager")
        # From My work's approvals waiting, one click to the case.
        with manager.expect_navigation():
            manager.locator(f'#approvals ~ * a[href="{path}"]').first.click()
        decide = manager.locator("form[action*='decision']")
        assert decide.count() > 0, "no form to approve or refuse"
        decide.get_by_label("Reason").fill("Support offered at every level; the panel agrees")
        with manager.expect_navigation():
            decide.get_by_role("button", name=re.compile("Approve")).click()
        visitor.check(manager, "approved")

        visitor.visit(officer, path)
        assert "A manager must approve" not in blocked_reasons(officer, "Move to Enforce")
    finally:
        officer.context.close()
        manager.context.close()
