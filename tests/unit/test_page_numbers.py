"""Numbers typed or posted into page forms (ids, versions, counts)."""

import pytest

from api.pages.common import LARGEST_NUMBER, is_number


@pytest.mark.parametrize(
    ("text", "usable"),
    [
        ("7", True),
        (" 12 ", True),
        (str(LARGEST_NUMBER), True),
        (str(LARGEST_NUMBER + 1), False),  # no such row: the database's integers stop here
        ("³", False),  # a digit to str.isdigit, not to int
        ("١٢", False),  # Arabic-Indic digits
        ("-1", False),
        ("1.5", False),
        ("", False),
        ("12a", False),
    ],
)
def test_only_ascii_whole_numbers_the_database_can_hold_are_used(text, usable):
    assert is_number(text) is usable
