"""The state machine as Mermaid text, drawn by ``transitions`` from the same definition."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from workflows.machine import STATES, TRANSITIONS


class _Drawing:
    pass


def mermaid() -> str:
    machine = GraphMachine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial=None,
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title="Case stages",
    )
    drawing = _Drawing()
    machine.add_model(drawing, initial="expect")
    text = drawing.get_graph().draw(None)
    # Drop the "active state" styling: the README shows the machine, not one case.
    return (
        "\n".join(
            line.rstrip()
            for line in text.splitlines()
            if not line.strip().startswith(("Class ", "classDef"))
        ).strip()
        + "\n"
    )
