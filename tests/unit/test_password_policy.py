"""The rules for a new password (NCSC style): length over complexity, common ones refused."""

from __future__ import annotations

import pytest

from casework.errors import InvalidInput
from casework.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    check_new_password,
    common_passwords,
    password_problems,
)

# (password, username, the start of the one rule it breaks, or None when it is accepted)
CASES = [
    # Length is what counts; no composition rules.
    ("correct-horse-battery", "oak_lead", None),
    ("walrus lantern quietly", "oak_lead", None),
    ("all lower case words", "oak_lead", None),
    ("Ünïcödé kaffee tässe", "oak_lead", None),
    ("x" * 11, "oak_lead", f"must be at least {MIN_LENGTH} characters long (it has 11)"),
    ("", "oak_lead", f"must be at least {MIN_LENGTH} characters long (it has 0)"),
    ("k7#pQ2!z", "oak_lead", "must be at least"),  # complex but short is still short
    ("a" * (MAX_LENGTH + 1), "oak_lead", f"must be at most {MAX_LENGTH} characters long"),
    # The deny-list, as typed and with the usual decorations.
    ("1q2w3e4r5t6y", "oak_lead", "is one of the most common passwords"),
    ("PASSWORD1234", "oak_lead", "is a common password with numbers or symbols added"),
    ("Summer2024!!!", "oak_lead", "is a common password with numbers or symbols added"),
    ("!!iloveyou2024", "oak_lead", "is a common password with numbers or symbols added"),
    # Repeats and runs.
    ("aaaaaaaaaaaaaa", "oak_lead", "repeats characters"),
    ("abababababab", "oak_lead", "repeats characters"),
    ("abcdefghijklmn", "oak_lead", "is a run of characters in order"),
    ("1234567890123", "oak_lead", "is a run of characters in order"),
    ("9876543210987", "oak_lead", "is a run of characters in order"),
    ("qwertyuiopasd", "oak_lead", "is a run of characters in order"),
    # Context: the username and the service's name.
    ("oak_lead-is-my-name", "oak_lead", "must not contain your username"),
    ("my Casework login", "oak_lead", "must not contain the name of this service"),
    # A short username is not searched for (it would refuse ordinary words).
    ("jo-walrus-lantern", "jo", None),
]


@pytest.mark.parametrize(("password", "username", "rule"), CASES)
def test_each_rule(password, username, rule):
    problems = password_problems(password, username=username)
    if rule is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problems[0].startswith(rule), problems


def test_the_deny_list_holds_thousands_of_common_passwords_in_lower_case():
    listed = common_passwords()
    assert len(listed) >= 5000
    assert {"password", "123456", "qwerty", "iloveyou", "football"} <= listed
    assert all(entry == entry.lower() and entry.strip() == entry for entry in listed)


def test_a_refusal_names_the_field_and_every_rule_but_never_the_password():
    with pytest.raises(InvalidInput) as refused:
        check_new_password("Casework1234", username="oak_lead", field="new_password")
    problems = refused.value.problems
    assert [p.field for p in problems] == ["new_password"]
    assert all(p.value == "(hidden)" for p in problems)
    assert "Casework1234" not in str(refused.value)
    assert "name of this service" in problems[0].rule


def test_an_acceptable_password_passes_silently():
    check_new_password("correct-horse-battery", username="oak_lead")


def test_the_demo_password_is_one_the_policy_would_accept_for_every_demo_user():
    # Demo users are shown it at start-up and may keep it: it must be a password they could
    # have chosen, or the demo teaches a password the service itself refuses.
    from api.demo import DEMO_PASSWORD

    for username in ("admin", "manager", "statutory", "traded", "school", "lead.maplebrook"):
        assert password_problems(DEMO_PASSWORD, username=username) == []
