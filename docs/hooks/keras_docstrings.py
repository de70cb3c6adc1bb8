"""Griffe extension: read tfface's keras-hub-style docstrings.

keras-hub (and tfface) head their runnable examples `Example:` and write
them unindented below it; Griffe's Google parser knows only `Examples:` with
an indented body, and would render the doctest lines as nested quotes. This
extension rewrites such a section before the docstring is parsed, so the
examples render as Python code blocks.
"""

from __future__ import annotations

import re

import griffe

_HEADING = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):[ \t]*$")


def google_examples(text: str) -> str:
    """`Example:` and its unindented body → `Examples:` with the body indented
    (up to the next section heading at the same indentation)."""
    lines, out, indent = text.splitlines(), [], None
    for line in lines:
        heading = _HEADING.match(line)
        if heading and (indent is None or heading.group(1) == indent):
            indent = heading.group(1) if heading.group(2) == "Example" else None
            out.append(f"{heading.group(1)}Examples:" if indent is not None else line)
        elif indent is not None and line.strip():
            out.append("    " + line)
        else:
            out.append(line)
    return "\n".join(out)


class KerasStyleDocstrings(griffe.Extension):
    """Rewrites `Example:` sections (see `google_examples`) on every object."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        """Rewrites `obj`'s docstring before Griffe parses it."""
        if obj.docstring is not None:
            obj.docstring.value = google_examples(obj.docstring.value)
