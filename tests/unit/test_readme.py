"""The README's state-machine diagram is the machine's own drawing."""

from pathlib import Path

from workflows.diagram import mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_diagram_matches_the_state_machine():
    text = README.read_text()
    start = text.index("<!-- state-machine:start -->")
    end = text.index("<!-- state-machine:end -->")
    block = text[start:end]
    body = block[block.index("```mermaid\n") + len("```mermaid\n") : block.rindex("```")]
    assert body == mermaid(), "README diagram is stale: paste `casework workflow diagram` output"
