"""Letter templates: every required element present, a template that lost one caught, strict
about missing fields, escaped, plain English; and the extra fields checked before rendering."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader

from casework.errors import InvalidInput
from notifications.letters import render as letter_render
from notifications.letters.fields import checked_extra
from notifications.letters.kinds import (
    COMMON_ELEMENTS,
    KINDS,
    NOTICE_TO_IMPROVE_ELEMENTS,
    kind_named,
)
from notifications.letters.render import (
    clock_time,
    day_date,
    element_texts,
    missing_elements,
    render_letter,
)
from notifications.penalty_notice import TEMPLATES
from tests.unit.test_letters_golden import SAMPLES, rendered_html, sample

NTI = KINDS["notice_to_improve"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_letter_holds_every_element_its_kind_requires(kind):
    html = rendered_html(kind)
    assert missing_elements(html, KINDS[kind].required_elements) == []


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_letter_names_the_parent_child_school_next_steps_and_contact(kind):
    texts = element_texts(rendered_html(kind))
    assert set(COMMON_ELEMENTS) <= set(texts)
    assert "Ms Dana Ashdown" in texts["recipient"] and "L00 0AA" in texts["recipient"]
    assert "Amelia Ashdown" in texts["child_and_school"]
    assert "Oakfield Primary" in texts["child_and_school"]
    assert "LT-340-24-00001-03" in texts["contact"]


def test_the_notice_to_improve_states_each_national_element():
    texts = element_texts(rendered_html("notice_to_improve"))
    assert "section 7 of the Education Act 1996" in texts["parental_duty"]
    record = texts["attendance_record"]
    assert "10 sessions of unauthorised absence" in record
    assert "4 November 2024" in record and "8 November 2024" in record
    assert record.count("unauthorised absence") >= 10  # every session relied on is listed
    assert "Attendance Improvement Meeting" in texts["support_so_far"]
    assert "An Early Help assessment, offered on 20 September 2024" in texts["further_support"]
    assert "penalty notice" in texts["warning"] and "prosecute" in texts["warning"]
    assert "6 school weeks" in texts["timeframe"] and "15 January 2025" in texts["timeframe"]
    assert "No unauthorised absence" in texts["sufficient_improvement"]
    assert "before the period ends" in texts["early_penalty_grounds"]


def _render_with(overrides: dict[str, str], kind=NTI) -> str:
    """The letter rendered with some template files replaced (the others from disk)."""
    env = letter_render.environment().overlay(
        loader=ChoiceLoader([DictLoader(overrides), letter_render.environment().loader])
    )
    return env.get_template(kind.template).render(letter=sample(kind.key))


def _source(name: str) -> str:
    return (TEMPLATES / name).read_text()


@pytest.mark.parametrize("key", sorted(NOTICE_TO_IMPROVE_ELEMENTS))
def test_a_notice_to_improve_template_that_lost_an_element_is_caught(key):
    name = NTI.template if key not in COMMON_ELEMENTS else "letters/_layout.html"
    source = _source(name)
    marker = f'data-element="{key}"'
    assert source.count(marker) == 1, f"{key} must be wrapped exactly once in {name}"
    mutated = source.replace(marker, 'data-removed="yes"')
    html = _render_with({name: mutated})
    assert missing_elements(html, NTI.required_elements) == [key]


def test_an_emptied_element_is_caught_as_missing():
    source = _source(NTI.template)
    emptied = re.sub(
        r'(<div class="callout" data-element="timeframe">).*?(</div>)',
        r"\1\2",
        source,
        flags=re.S,
    )
    assert emptied != source
    assert missing_elements(_render_with({NTI.template: emptied}), NTI.required_elements) == [
        "timeframe"
    ]


def test_a_missing_field_stops_the_render_naming_it():
    letter = sample("notice_to_improve")
    del letter["notice"]["expires_on"]
    with pytest.raises(InvalidInput) as refused:
        render_letter(NTI, letter)
    assert refused.value.problems[0].field == "expires_on"

    letter = sample("first_day_absence")
    del letter["school"]
    with pytest.raises(InvalidInput) as refused:
        render_letter(KINDS["first_day_absence"], letter)
    assert refused.value.problems[0].field == "school"


def test_names_are_escaped():
    letter = sample("concern_letter")
    letter["recipient"]["name"] = "<script>alert(1)</script> & Co"
    html = render_letter(KINDS["concern_letter"], letter)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


class _Prose(HTMLParser):
    """The sentences a parent reads: paragraph and list text, not tables or the address."""

    def __init__(self):
        super().__init__()
        self.depth = {"table": 0, "head": 0, "header": 0}
        self.inside = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.depth:
            self.depth[tag] += 1
        if tag in ("p", "li"):
            self.inside += 1
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.depth:
            self.depth[tag] -= 1
        if tag in ("p", "li"):
            self.inside -= 1

    def handle_data(self, data):
        if self.inside and not any(self.depth.values()):
            self.parts.append(data)


def sentences(html: str) -> list[list[str]]:
    parser = _Prose()
    parser.feed(html)
    text = "".join(parser.parts)
    found = []
    for block in text.split("\n"):
        for sentence in re.split(r"(?<=[.!?:])\s+", " ".join(block.split())):
            words = re.findall(r"[A-Za-z0-9£%'\u2019-]+", sentence)
            if words:
                found.append(words)
    return found


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_letters_are_written_in_short_plain_sentences(kind):
    """Reading-age aware: short sentences (GOV.UK's plain-English advice is no more than 25
    words a sentence; these letters average well under 15)."""
    found = sentences(rendered_html(kind))
    lengths = [len(words) for words in found]
    assert sum(lengths) / len(lengths) <= 12, kind
    longest = max(found, key=len)
    assert len(longest) <= 25, " ".join(longest)


def test_dates_and_times_read_as_people_write_them():
    assert day_date("2024-11-27") == "Wednesday 27 November 2024"
    assert clock_time("09:30") == "9:30am"
    assert clock_time("14:00") == "2pm"
    assert clock_time("12:15") == "12:15pm"
    assert clock_time("00:05") == "12:05am"


def test_every_template_exists_and_extends_the_shared_layout():
    for kind in KINDS.values():
        path = Path(TEMPLATES / kind.template)
        assert path.is_file(), kind.template
        if kind.key != "penalty_notice":
            assert '{% extends "letters/_layout.html" %}' in path.read_text()


# --- extra fields --------------------------------------------------------------------------------


def test_extra_fields_are_checked_and_named():
    fields = KINDS["attendance_concern_meeting"].fields
    with pytest.raises(InvalidInput) as refused:
        checked_extra(
            "attendance_concern_meeting",
            fields,
            {"meeting_date": "27/11/2024", "meeting_time": "9.30", "colour": "blue"},
        )
    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {
        "extra.colour",
        "extra.meeting_date",
        "extra.meeting_time",
        "extra.meeting_place",
    }
    assert "YYYY-MM-DD" in problems["extra.meeting_date"].rule
    assert "required" in problems["extra.meeting_place"].rule


def test_extra_fields_come_out_as_json():
    from datetime import date

    got = checked_extra(
        "aim_action_plan",
        KINDS["aim_action_plan"].fields,
        {
            "actions": [{"action": " Walk  to school ", "who": "Parent"}],
            "meeting_date": date(2024, 11, 20),
        },
    )
    assert got == {
        "actions": [{"action": "Walk to school", "who": "Parent", "by": ""}],
        "meeting_date": "2024-11-20",
    }


def test_an_unknown_kind_is_named():
    with pytest.raises(InvalidInput) as refused:
        kind_named("love_letter")
    assert refused.value.problems[0].field == "kind"
    assert "notice_to_improve" in refused.value.problems[0].rule
