"""Bindings are declared with label keys; each node swaps in its language's text when created."""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from .i18n import Labels


def localise_bindings(node: DOMNode, labels: Labels) -> None:
    """Replace ``description``/``tooltip`` label keys of ``node``'s bindings by their text."""
    for key, bindings in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            replace(b, description=labels(b.description) if b.description else b.description,
                    tooltip=labels(b.tooltip) if b.tooltip else b.tooltip)
            for b in bindings
        ]
