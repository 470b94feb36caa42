"""Unique Pupil Numbers: DATA-FORMATS.md §2 (format, check letter, test vectors)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from casework.errors import InvalidInput
from casework.upn import ALPHABET, check_letter, is_temporary, make_upn, upn_problem, validate_upn

# An independent oracle, written the way DATA-FORMATS.md §2.1 describes python-stdnum: index every
# character into 'ABCDEFGHJKLMNPQRTUVWXYZ0123456789' (so digit d counts as 23 + d, i.e. d mod 23),
# weight it by its position (2..13), sum, mod 23, and map back into the 23-letter alphabet.
_STDNUM = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"


def oracle_letter(body: str) -> str:
    return _STDNUM[sum(_STDNUM.index(c) * p for p, c in enumerate(body, start=2)) % 23]


# DATA-FORMATS.md §2.2, row by row.
VALID_VECTORS = [
    pytest.param("B801200005001", id="stdnum-doctest"),
    pytest.param("A950000178301", id="cin-1510-A"),
    pytest.param("H243278544154", id="cin-1510-H"),
    pytest.param("R674123101121", id="dfe-mtc-fixture"),
    pytest.param("F340212324001", id="knowsley-340-synthetic"),
    pytest.param("E34021232401A", id="temporary-synthetic"),
]

# (upn, the correct check letter the table names)
INVALID_VECTORS = [
    # the doctest's invalid twin of B801200005001: the same digits, so B is correct
    pytest.param("A801200005001", "B", id="stdnum-doctest-wrong-letter"),
    pytest.param("R247962919251", "Q", id="cin-1510-should-be-Q"),
    pytest.param("X428558133462", "W", id="cin-1510-should-be-W"),
]


@pytest.mark.parametrize("upn", VALID_VECTORS)
def test_published_valid_vectors_are_accepted(upn):
    assert upn_problem(upn) is None
    assert validate_upn(upn) == upn


@pytest.mark.parametrize(("upn", "correct"), INVALID_VECTORS)
def test_published_invalid_vectors_are_refused_naming_the_correct_letter(upn, correct):
    problem = upn_problem(upn)
    assert problem is not None
    assert "check letter" in problem
    assert problem.endswith(f"should be {correct}")
    # and the named letter really is the fix
    assert upn_problem(correct + upn[1:]) is None


def test_temporary_upn_is_recognised_and_permanent_is_not():
    assert is_temporary("E34021232401A")
    assert not is_temporary("F340212324001")


MALFORMED = [
    pytest.param("I801200005001", id="check-letter-I"),
    pytest.param("O801200005001", id="check-letter-O"),
    pytest.param("S801200005001", id="check-letter-S"),
    pytest.param("E34021232401I", id="temporary-final-I"),
    pytest.param("E34021232401O", id="temporary-final-O"),
    pytest.param("E34021232401S", id="temporary-final-S"),
    pytest.param("B80120000500", id="too-short-11-digits"),
    pytest.param("B8012000050011", id="too-long-13-digits"),
    pytest.param("801200005001", id="no-check-letter"),
    pytest.param("1801200005001", id="digit-where-letter-belongs"),
    pytest.param("B8012000050A1", id="letter-in-the-middle"),
    pytest.param("B80120000500AB", id="two-trailing-letters"),
    pytest.param("B8012-0000-5001", id="punctuation"),
    pytest.param("B8012 00005001", id="inner-space"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("upn", MALFORMED)
def test_malformed_upns_are_refused_with_the_format_rule(upn):
    problem = upn_problem(upn)
    assert problem is not None
    assert "12 digits" in problem
    with pytest.raises(InvalidInput):
        validate_upn(upn)


def test_format_rule_names_the_letters_never_used():
    problem = upn_problem("I801200005001")
    assert "I, O and S" in problem


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("b801200005001", "B801200005001", id="lowercase-permanent"),
        pytest.param("e34021232401a", "E34021232401A", id="lowercase-temporary"),
        pytest.param("  F340212324001\n", "F340212324001", id="surrounding-whitespace"),
    ],
)
def test_validate_upn_normalises_case_and_whitespace(given, expected):
    assert validate_upn(given) == expected


def test_validate_upn_problem_names_field_value_and_rule():
    with pytest.raises(InvalidInput) as raised:
        validate_upn("r247962919251", field="pupils[3].upn")
    [problem] = raised.value.problems
    assert problem.field == "pupils[3].upn"
    assert problem.value == "r247962919251"  # what the user typed, not the normalised form
    assert "should be Q" in problem.rule
    assert "pupils[3].upn" in str(raised.value)


def test_validate_upn_default_field_is_upn():
    with pytest.raises(InvalidInput) as raised:
        validate_upn("not a upn")
    assert raised.value.problems[0].field == "upn"


def test_non_ascii_digits_are_refused():
    fullwidth = "B" + "".join(chr(0xFF10 + int(c)) for c in "801200005001")  # U+FF10..FF19
    with pytest.raises(InvalidInput):
        validate_upn(fullwidth)


def test_upn_problem_explains_a_trailing_newline_rather_than_raising():
    assert upn_problem("B801200005001\n") is not None


# --- properties --------------------------------------------------------------------------------

digits12 = st.text(alphabet="0123456789", min_size=12, max_size=12)
temporary_bodies = st.builds(
    lambda d, letter: d + letter,
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from(ALPHABET),
)


@given(st.one_of(digits12, temporary_bodies))
def test_check_letter_agrees_with_the_reference_algorithm(body):
    assert check_letter(body) == oracle_letter(body)
    assert upn_problem(check_letter(body) + body) is None


@given(
    la=st.integers(0, 999),
    establishment=st.integers(0, 9999),
    year=st.integers(2000, 2099),
    serial=st.integers(0, 10**6),
)
def test_make_upn_always_builds_a_valid_permanent_upn(la, establishment, year, serial):
    upn = make_upn(la, establishment, year, serial)
    assert upn_problem(upn) is None
    assert not is_temporary(upn)
    assert upn[1:4] == f"{la:03d}"
    assert upn[4:8] == f"{establishment:04d}"
    assert upn[8:10] == f"{year % 100:02d}"


# Is every single-digit change caught? Changing the digit at position p (2..13) by delta
# (1 <= |delta| <= 9) changes the weighted sum by p * delta. 23 is prime and neither factor is a
# multiple of 23, so p * delta is never 0 mod 23: the check letter always changes. So the strong
# property is true and is asserted as such. The same argument covers a changed temporary letter
# (|delta| <= 22) and swapping two different adjacent digits (the sum changes by +-(a - b)).


@given(body=digits12, data=st.data())
def test_changing_any_one_digit_of_a_permanent_upn_makes_it_invalid(body, data):
    upn = check_letter(body) + body
    index = data.draw(st.integers(1, 12), label="index")
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != upn[index]]))
    changed = upn[:index] + new_digit + upn[index + 1 :]
    problem = upn_problem(changed)
    assert problem is not None
    assert problem.endswith(f"should be {oracle_letter(changed[1:])}")


@given(body=digits12, data=st.data())
def test_changing_the_check_letter_makes_it_invalid(body, data):
    right = check_letter(body)
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != right]))
    assert upn_problem(wrong + body) is not None


@given(body=temporary_bodies, data=st.data())
def test_changing_the_final_letter_of_a_temporary_upn_makes_it_invalid(body, data):
    upn = check_letter(body) + body
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != upn[-1]]))
    assert upn_problem(upn[:-1] + other) is not None


@given(body=digits12, data=st.data())
def test_swapping_two_different_adjacent_digits_makes_it_invalid(body, data):
    upn = check_letter(body) + body
    swappable = [i for i in range(1, 12) if upn[i] != upn[i + 1]]
    assume(swappable)  # e.g. all digits equal: no swap changes anything
    i = data.draw(st.sampled_from(swappable))
    swapped = upn[:i] + upn[i + 1] + upn[i] + upn[i + 2 :]
    assert upn_problem(swapped) is not None
