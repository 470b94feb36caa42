"""The profile's [analytics] table: parsed into AnalyticsRules, the threshold copied from
[notice_to_improve], and mistakes refused with the profile's name."""

from __future__ import annotations

import shutil

import pytest

import config.profiles as profiles
from casework.durations import Duration, Unit
from config.profiles import PROPOSABLE_STAGES, AnalyticsRules, load_profile

SHIPPED_DIR = profiles.PROFILE_DIR


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "PROFILE_DIR", tmp_path)
    load_profile.cache_clear()
    shutil.copy(SHIPPED_DIR / "national.toml", tmp_path)
    yield tmp_path
    load_profile.cache_clear()


def _write(directory, body: str) -> None:
    (directory / "testshire.toml").write_text(
        'extends = "national"\nkey = "testshire"\nname = "Testshire"\n' + body
    )


def test_national_analytics_rules():
    rules = load_profile("national").analytics
    assert isinstance(rules, AnalyticsRules)
    # The threshold, and the LA's lateness trigger for a lateness penalty notice.
    assert rules.decision_flags == ["penalty_threshold", "late_after_close"]
    decision = load_profile("national").clocks["penalty_decision"]
    assert decision.armed_by == [
        "flag_raised:penalty_threshold",
        "flag_raised:late_after_close",
    ]
    assert decision.period.duration() == Duration(10, Unit.SCHOOL_DAYS)
    assert rules.trend_school_weeks == [3, 6]
    assert set(rules.propose.values()) <= set(PROPOSABLE_STAGES)
    assert rules.propose["below_95"] == "monitor"
    assert rules.propose["penalty_threshold"] == "listen_and_understand"
    assert rules.counted_codes == ("G", "N", "O", "U")


def test_an_la_overrides_numbers_and_inherits_the_rest(profile_dir):
    _write(
        profile_dir,
        '[notice_to_improve]\ncounted_codes = ["G", "O", "U"]\n'
        "[analytics]\nconcern_below_percent = 96.5\n",
    )
    rules = load_profile("testshire").analytics
    assert rules.concern_below_percent == 96.5
    assert rules.counted_codes == ("G", "O", "U")
    assert rules.late_u_marks == 14


def test_changed_run_lengths_switch_inherited_proposals_off_with_an_empty_stage(profile_dir):
    _write(profile_dir, "[analytics]\ncontinuous_absence_days = [10, 15]\n")
    with pytest.raises(ValueError, match="continuous_absence_20"):
        load_profile("testshire")
    load_profile.cache_clear()
    _write(
        profile_dir,
        "[analytics]\ncontinuous_absence_days = [10, 15]\n"
        '[analytics.propose]\ncontinuous_absence_20 = ""\n'
        'continuous_absence_15 = "listen_and_understand"\n',
    )
    rules = load_profile("testshire").analytics
    assert rules.propose["continuous_absence_15"] == "listen_and_understand"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param("[analytics]\nthreshold_sessions = 8\n", "notice_to_improve", id="threshold"),
        pytest.param("[analytics]\nlate_u_mark = 14\n", "late_u_mark", id="misspelt"),
        pytest.param("[analytics]\npersistent_percent = 110\n", "persistent", id="over-100"),
        pytest.param("[analytics]\nlate_u_marks = 0\n", "late_u_marks", id="zero"),
        pytest.param('[analytics.propose]\nbelow95 = "monitor"\n', "below95", id="unknown-flag"),
        pytest.param(
            '[analytics.propose]\nbelow_95 = "enforce"\n', "support first", id="stage-too-far"
        ),
        pytest.param('[analytics]\ndecision_flags = ["pa"]\n', "'pa'", id="unknown-decision"),
        pytest.param(
            '[analytics]\ndecision_flags = ["below_95"]\n',
            "no clock is armed_by 'flag_raised:below_95'",
            id="decision-without-a-clock",
        ),
        pytest.param(
            "[clocks.penalty_decision]\nenabled = false\n",
            "no clock is armed_by 'flag_raised:penalty_threshold'",
            id="decision-clock-switched-off",
        ),
        pytest.param(
            '[notice_to_improve]\ncounted_codes = ["G", "I"]\n', "'I'", id="authorised-counted"
        ),
        pytest.param(
            "[analytics]\ncontinuous_absence_days = [10, 10]\n", "twice", id="duplicate-run"
        ),
    ],
)
def test_mistakes_are_refused_naming_the_profile(profile_dir, body, problem):
    _write(profile_dir, body)
    with pytest.raises(ValueError, match="testshire") as raised:
        load_profile("testshire")
    assert problem in str(raised.value)
