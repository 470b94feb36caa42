"""The ``[retention]`` table of an LA profile: the national defaults, an LA's override, and values
below a legal or working minimum refused when the profile loads, naming field, value and rule."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

import config.profiles as profiles
from config.profiles import available_profiles, load_profile
from workflows.retention import years_before

SHIPPED_DIR = profiles.PROFILE_DIR


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    shutil.copy(SHIPPED_DIR / "national.toml", tmp_path)
    monkeypatch.setattr(profiles, "PROFILE_DIR", tmp_path)
    load_profile.cache_clear()
    yield tmp_path
    load_profile.cache_clear()


def _la(directory, retention: str) -> None:
    (directory / "testshire.toml").write_text(
        f'extends = "national"\nkey = "testshire"\nname = "Testshire"\n[retention]\n{retention}\n'
    )


def test_the_national_defaults():
    rules = load_profile("national").retention
    assert (rules.registers_years, rules.closed_case_years, rules.enforcement_case_years) == (
        6,
        6,
        10,
    )
    assert rules.case_until_age == 25
    assert (rules.sent_message_days, rules.failed_message_days) == (90, 365)
    assert rules.sign_in_attempt_days == 90


@pytest.mark.parametrize("key", available_profiles())
def test_every_shipped_profile_keeps_registers_at_least_6_years(key):
    assert load_profile(key).retention.registers_years >= 6


def test_an_la_may_keep_records_longer(profile_dir):
    _la(profile_dir, "registers_years = 8\nclosed_case_years = 7")
    rules = load_profile("testshire").retention
    assert (rules.registers_years, rules.closed_case_years) == (8, 7)
    assert rules.enforcement_case_years == 10  # from national


REFUSED = [
    pytest.param(
        "registers_years = 5",
        "retention.registers_years = 5 is refused: attendance registers must be kept at least 6",
        id="registers-below-6-years",
    ),
    pytest.param(
        "closed_case_years = 12",
        "retention.enforcement_case_years = 10 is refused: an enforcement case is kept at least "
        "as long as any closed case",
        id="enforcement-shorter-than-closed",
    ),
    pytest.param(
        "closed_case_years = 2\nenforcement_case_years = 2",
        "retention.enforcement_case_years = 2 is refused: enforcement cases are kept at least "
        "penalty_notices.limit_years",
        id="enforcement-shorter-than-the-penalty-look-back",
    ),
    pytest.param(
        "failed_message_days = 30",
        "retention.failed_message_days = 30 is refused: a failed email is kept at least as long",
        id="failed-shorter-than-sent",
    ),
    pytest.param("sent_message_days = 0", "sent_message_days", id="zero-days"),
    pytest.param("sign_in_attempt_days = -1", "sign_in_attempt_days", id="negative-days"),
    pytest.param("case_until_age = 200", "case_until_age", id="age-out-of-range"),
    pytest.param("keep_forever = true", "keep_forever", id="unknown-field"),
]


@pytest.mark.parametrize(("retention", "message"), REFUSED)
def test_a_value_below_the_minimum_is_refused_naming_it(profile_dir, retention, message):
    _la(profile_dir, retention)
    with pytest.raises(ValueError) as refused:
        load_profile("testshire")
    assert "'testshire'" in str(refused.value)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2030, 11, 20), 6, date(2024, 11, 20)),
        (date(2028, 2, 29), 1, date(2027, 2, 28)),  # no 29 February: the day before
        (date(2040, 3, 2), 25, date(2015, 3, 2)),
    ],
)
def test_years_before(day, years, expected):
    assert years_before(day, years) == expected
