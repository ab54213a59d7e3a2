"""Document length in visible (non-whitespace) characters and in lines."""

from __future__ import annotations

from pydantic import BaseModel

from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "length"
SIGNALS = ("chars", "lines")


class Thresholds(BaseModel):
    min_chars: int | None
    max_chars: int | None
    min_lines: int | None
    max_lines: int | None


RULES = (
    Rule("chars", "min_chars", "min", "too_short"),
    Rule("chars", "max_chars", "max", "too_long"),
    Rule("lines", "min_lines", "min", "too_few_lines"),
    Rule("lines", "max_lines", "max", "too_many_lines"),
)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    return {"chars": view.n_visible, "lines": len(view.lines)}
