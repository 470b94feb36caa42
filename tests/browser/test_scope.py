"""Scope by address: a school's attendance lead opens their own pupils and cases, and gets "Page
not found" for another school's, however the address was come by."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def test_a_school_user_gets_not_found_for_another_schools_pupil_and_case(page, visitor, server):
    (own_school,) = server.query(
        "SELECT us.school_id FROM user_school us JOIN app_user u ON u.id = us.user_id"
        " WHERE u.username = 'school'"
    )[0]
    own_case, own_pupil = server.query(
        "SELECT id, pupil_id FROM case_file WHERE school_id = ? ORDER BY id LIMIT 1", own_school
    )[0]
    # A case at another school, for a pupil never enrolled at the user's school.
    other_case, other_pupil, other_school = server.query(
        "SELECT c.id, c.pupil_id, c.school_id FROM case_file c WHERE c.school_id != ?"
        " AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE e.pupil_id = c.pupil_id"
        " AND e.school_id = ?) ORDER BY c.id LIMIT 1",
        own_school,
        own_school,
    )[0]

    others = [name for (name,) in server.query("SELECT name FROM school WHERE id != ?", own_school)]

    sign_in(visitor, page, "school")
    # Their caseload is their own school's alone.
    visitor.visit(page, "/caseload")
    listed = page.locator("main").inner_text()
    assert not [name for name in others if name in listed], "another school in the caseload"
    # Their own school's records open.
    visitor.visit(page, f"/cases/{own_case}")
    visitor.visit(page, f"/pupils/{own_pupil}")
    # Another school's do not, and the page says nothing about them.
    for path in (
        f"/pupils/{other_pupil}",
        f"/cases/{other_case}",
        f"/schools/{other_school}/registers",
    ):
        visitor.visit(page, path, status=404)
        assert page.locator("h1").inner_text() == "Page not found", path
        assert str(other_case) not in page.locator("main").inner_text()
