"""LA profiles: the shipped TOML files load, map stages to levels as the sources say, and a broken
profile is refused with its name."""

from __future__ import annotations

import shutil
import tomllib

import msgspec
import pytest

import config.profiles as profiles
from casework.durations import Duration, Unit
from casework.vocabulary import OPEN_STAGES, InterventionKind, Stage
from config.profiles import available_profiles, load_profile


@pytest.fixture
def profile_dir(tmp_path, monkeypatch):
    """An empty profile directory in place of config/profiles, with the cache cleared around it so
    no other test sees a profile read from here."""
    monkeypatch.setattr(profiles, "PROFILE_DIR", tmp_path)
    load_profile.cache_clear()
    yield tmp_path
    load_profile.cache_clear()


def test_the_shipped_profiles_are_the_expected_ones():
    assert {"national", "knowsley", "essex", "telford-and-wrekin"} <= set(available_profiles())


@pytest.mark.parametrize("key", available_profiles())
def test_every_profile_loads(key):
    profile = load_profile(key)
    assert profile.key == key
    assert profile.name.strip()


@pytest.mark.parametrize("key", available_profiles())
def test_each_stage_maps_to_at_most_one_level_and_open_stages_to_exactly_one(key):
    profile = load_profile(key)
    for stage in Stage:
        holding = [level.number for level in profile.levels if stage.value in level.stages]
        assert len(holding) <= 1, f"{stage} is in levels {holding}"
        if stage in OPEN_STAGES:
            assert holding, f"{stage} has no level"
    assert profile.level_for(Stage.CLOSED.value) is None


@pytest.mark.parametrize("key", available_profiles())
def test_profiles_name_only_real_stages_kinds_and_codes(key):
    profile = load_profile(key)
    stages = {s.value for s in Stage}
    kinds = {k.value for k in InterventionKind}
    assert {s for level in profile.levels for s in level.stages} <= stages
    assert set(profile.approval_required_before) <= stages
    assert set(profile.statutory_stages) <= stages
    assert set(profile.facilitate.school_action_kinds) <= kinds
    assert set(profile.formalise.support_kinds) <= kinds
    # RULES.md §2.1: only unauthorised codes count towards the threshold
    assert set(profile.notice_to_improve.counted_codes) <= {"G", "N", "O", "U"}


# Knowsley handbook: Level 1 Universal (school action: expect, monitor, listen), Level 2 Early
# intervention (traded officer, AIM, Early Help: facilitate), Level 3 Targeted (Family First or
# statutory officer: formalise), Level 4 Statutory (prosecution, educational neglect: enforce).
@pytest.mark.parametrize(
    ("stage", "level"),
    [
        (Stage.EXPECT, 1),
        (Stage.MONITOR, 1),
        (Stage.LISTEN, 1),
        (Stage.FACILITATE, 2),
        (Stage.FORMALISE, 3),
        (Stage.ENFORCE, 4),
    ],
)
def test_knowsley_levels_follow_the_handbook(stage, level):
    assert load_profile("knowsley").level_for(stage.value).number == level


def test_knowsley_has_exactly_four_levels():
    assert [level.number for level in load_profile("knowsley").levels] == [1, 2, 3, 4]


def test_knowsley_level_2_rules_follow_the_handbook_and_appendix_c():
    rules = load_profile("knowsley").facilitate
    # Level 2 / Step 1: "completed actions at the Universal stage and an Early Help assessment"
    assert rules.require_early_help is True
    assert rules.min_school_actions == 2
    # Appendix C: "over a period of 6 weeks" / "not engaged with process after 3 weeks"
    assert rules.school_action_period.duration() == Duration(6, Unit.SCHOOL_WEEKS)
    assert rules.non_engagement_period.duration() == Duration(3, Unit.SCHOOL_WEEKS)
    # inherited from national (tables are merged key by key)
    assert rules.school_action_kinds == load_profile("national").facilitate.school_action_kinds


def test_knowsley_and_telford_ask_approval_before_enforce_and_national_does_not():
    assert load_profile("knowsley").approval_required_before == [Stage.ENFORCE.value]
    assert load_profile("telford-and-wrekin").approval_required_before == [Stage.ENFORCE.value]
    assert load_profile("national").approval_required_before == []
    assert load_profile("essex").approval_required_before == []


def test_national_threshold_is_ten_sessions_in_ten_school_weeks():
    rules = load_profile("national").notice_to_improve
    assert (rules.threshold_sessions, rules.threshold_school_weeks) == (10, 10)


def test_essex_notice_to_improve_runs_six_weeks_and_inherits_the_rest():
    essex, national = load_profile("essex"), load_profile("national")
    assert essex.notice_to_improve.period.duration() == Duration(6, Unit.SCHOOL_WEEKS)
    assert essex.notice_to_improve == msgspec.structs.replace(
        national.notice_to_improve, period=essex.notice_to_improve.period
    )
    assert essex.levels == national.levels


def test_an_unknown_profile_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="no-such-la"):
        load_profile("no-such-la")


SHIPPED_DIR = profiles.PROFILE_DIR


def _copy_national(directory):
    shutil.copy(SHIPPED_DIR / "national.toml", directory)


BROKEN = [
    pytest.param(
        'extends = "national"\nkey = "broken"\nname = "Broken"\n'
        '[notice_to_improve]\nperiod = { amount = 6, unit = "weeks" }\n',
        id="unknown-unit",
    ),
    pytest.param(
        'extends = "national"\nkey = "broken"\nname = "Broken"\naproval_required_before = []\n',
        id="misspelt-key",
    ),
    pytest.param(
        'extends = "national"\nkey = "broken"\nname = "Broken"\n'
        '[facilitate]\nmin_school_actions = "two"\n',
        id="wrong-type",
    ),
    pytest.param('key = "broken"\nname = "Broken"\n', id="missing-tables-without-extends"),
]


@pytest.mark.parametrize("text", BROKEN)
def test_an_invalid_profile_is_refused_naming_it(profile_dir, text):
    _copy_national(profile_dir)
    (profile_dir / "broken.toml").write_text(text)
    with pytest.raises(ValueError, match="'broken'"):
        load_profile("broken")


def test_a_profile_extending_itself_is_refused(profile_dir):
    (profile_dir / "loop.toml").write_text('extends = "loop"\nkey = "loop"\nname = "Loop"\n')
    with pytest.raises(ValueError, match="loop extends itself"):
        load_profile("loop")


def test_a_cycle_of_profiles_is_refused(profile_dir):
    (profile_dir / "a.toml").write_text('extends = "b"\nkey = "a"\nname = "A"\n')
    (profile_dir / "b.toml").write_text('extends = "a"\nkey = "b"\nname = "B"\n')
    with pytest.raises(ValueError, match="extends itself"):
        load_profile("a")


def test_a_missing_parent_is_named(profile_dir):
    (profile_dir / "orphan.toml").write_text('extends = "gone"\nkey = "orphan"\nname = "O"\n')
    with pytest.raises(KeyError, match="gone"):
        load_profile("orphan")


def test_a_profile_in_the_temporary_directory_loads_and_overrides(profile_dir):
    _copy_national(profile_dir)
    (profile_dir / "testshire.toml").write_text(
        'extends = "national"\nkey = "testshire"\nname = "Testshire"\n'
        '[notice_to_improve]\nperiod = { amount = 3, unit = "school_weeks" }\n'
    )
    profile = load_profile("testshire")
    assert profile.notice_to_improve.period.duration() == Duration(3, Unit.SCHOOL_WEEKS)
    assert profile.notice_to_improve.threshold_sessions == 10  # from national


def test_a_profile_with_a_toml_syntax_error_is_refused_naming_it(profile_dir):
    (profile_dir / "typo.toml").write_text('key = "typo"\nname = Typo\n')
    with pytest.raises(ValueError, match="typo"):
        load_profile("typo")


def test_a_profile_naming_an_unknown_stage_is_refused(profile_dir):
    _copy_national(profile_dir)
    (profile_dir / "typo.toml").write_text(
        'extends = "national"\nkey = "typo"\nname = "Typo"\n'
        'approval_required_before = ["enforcement"]\n'
    )
    with pytest.raises(ValueError, match="typo"):
        load_profile("typo")


def test_shipped_profiles_are_valid_toml_with_their_own_key():
    for key in available_profiles():
        data = tomllib.loads((SHIPPED_DIR / f"{key}.toml").read_text())
        assert data["key"] == key
