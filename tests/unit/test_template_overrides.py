"""An LA's own wording: a template of the same name under the overrides directory for its
profile (or a profile it extends) replaces the built-in one, under the same rules."""

from __future__ import annotations

import pytest

from notifications.letters.kinds import KINDS
from notifications.letters.render import missing_elements, render_letter
from notifications.overrides import BUILT_IN, search_path
from notifications.rendering import MissingField, render_email
from tests.unit.test_letters_golden import sample
from tests.unit.test_mail_rendering import CONTEXT


@pytest.fixture
def overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_TEMPLATE_OVERRIDES", str(tmp_path))
    return tmp_path


def write(root, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_profiles_own_directory_comes_first_then_the_one_it_extends(overrides):
    write(overrides, "knowsley/email/generic.txt", "Knowsley: {{ recipient_name }}\n")
    write(overrides, "national/email/generic.txt", "National: {{ recipient_name }}\n")
    assert search_path("knowsley") == [overrides / "knowsley", overrides / "national", BUILT_IN]
    assert render_email("generic", CONTEXT, "knowsley").text == "Knowsley: Ms O'Neill\n"
    # Essex has no directory of its own: it takes the national wording it extends.
    assert render_email("generic", CONTEXT, "essex").text == "National: Ms O'Neill\n"
    # The part not overridden, and any profile-less render, stay built in.
    assert "Dear Ms O&#39;Neill," in render_email("generic", CONTEXT, "knowsley").html
    assert "Dear Ms O'Neill," in render_email("generic", CONTEXT).text


def test_without_overrides_every_profile_uses_the_built_in_wording(overrides):
    assert search_path("knowsley") == [BUILT_IN]
    assert render_email("generic", CONTEXT, "knowsley") == render_email("generic", CONTEXT)


def test_an_override_is_as_strict_and_escaped_as_the_built_in(overrides):
    write(overrides, "knowsley/email/generic.html", "<p>{{ recipient_name }} {{ ward }}</p>")
    with pytest.raises(MissingField) as raised:
        render_email("generic", CONTEXT, "knowsley")
    assert raised.value.field == "ward"
    write(overrides, "knowsley/email/generic.html", "<p>{{ paragraphs[0] }}</p>")
    html = render_email("generic", CONTEXT, "knowsley").html
    assert html == "<p>Attendance is &lt;b&gt;89%&lt;/b&gt; &amp; falling.</p>"


def test_an_overridden_letter_that_drops_a_required_element_is_caught(overrides):
    kind = KINDS["notice_to_improve"]
    built_in = (BUILT_IN / kind.template).read_text()
    # The LA's own wording keeps the structure but loses the warning of what may follow.
    start = built_in.index('<div class="callout" data-element="warning">')
    end = built_in.index("</div>", start) + len("</div>")
    write(overrides, f"knowsley/{kind.template}", built_in[:start] + built_in[end:])
    data = sample("notice_to_improve")
    assert missing_elements(render_letter(kind, data), kind.required_elements) == []
    assert missing_elements(render_letter(kind, data, "knowsley"), kind.required_elements) == [
        "warning"
    ]
