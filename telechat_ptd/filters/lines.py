"""Line statistics: navigation menus, tag clouds and tables are many very short lines."""

from __future__ import annotations

from pydantic import BaseModel

from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "lines"
SIGNALS = ("mean_line_chars",)


class Thresholds(BaseModel):
    min_mean_line_chars: float | None
    # Share-of-lines rules (bullets, ellipses, punctuation, short lines, javascript, policy)
    # only decide for documents with at least this many non-empty lines.
    line_rules_min_lines: int


RULES = (Rule("mean_line_chars", "min_mean_line_chars", "min", "short_lines"),)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    lines = view.lines
    return {"mean_line_chars": sum(map(len, lines)) / len(lines) if lines else 0.0}
