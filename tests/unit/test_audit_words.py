"""The audit log page says each recorded outcome in words a manager reads."""

from __future__ import annotations

import pytest

from api.pages.audit import _outcome_words


@pytest.mark.parametrize(
    ("outcome", "shown"),
    [
        ("200", "Done"),
        ("303", "Done"),
        ("ok", "Done"),
        ("404", "Refused (404)"),
        ("403", "Refused (403)"),
        ("refused", "Refused"),
        ("422", "Not accepted (422)"),
        ("500", "Failed (500)"),
        ("unlocked", "Unlocked"),
    ],
)
def test_the_log_page_says_each_outcome_in_words(outcome, shown):
    assert _outcome_words(outcome)[0] == shown
