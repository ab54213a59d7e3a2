"""FineWeb's own line rules (Penedo et al. 2024, "The FineWeb Datasets", §3.3.2).

Share of lines ending in terminal punctuation (for Chinese: or holding a 。！？), share of short lines, share of characters in
duplicated lines, and newlines per word (list-like pages). For Chinese a "word" is a visible
character and a short line is counted in characters, with its own length parameter.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from telechat_ptd.charclass import TERMINAL_PUNCT
from telechat_ptd.filters.gopher_repetition import duplicate_fractions
from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "fineweb"
_CJK_STOP = re.compile("[。！？]")
SIGNALS = ("line_punct_ratio", "short_line_ratio", "dup_line_char_frac", "list_ratio")


class Thresholds(BaseModel):
    short_line_chars: int  # signal parameter: a line this long or shorter is "short"
    min_line_punct_ratio: float | None
    max_short_line_ratio: float | None
    fineweb_max_dup_line_char_frac: float | None
    max_list_ratio: float | None


RULES = (
    Rule("line_punct_ratio", "min_line_punct_ratio", "min", "line_punct", per_line=True),
    Rule("short_line_ratio", "max_short_line_ratio", "max", "short_line_ratio", per_line=True),
    Rule("dup_line_char_frac", "fineweb_max_dup_line_char_frac", "max", "char_dup_ratio"),
    Rule("list_ratio", "max_list_ratio", "max", "list_ratio"),
)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    lines = view.lines
    n_lines = len(lines)
    if not n_lines:
        return dict.fromkeys(SIGNALS, 0.0)
    cjk = view.lang in ("zh", "ja")
    words = view.n_visible if cjk else len(view.words)
    if cjk:
        # A Chinese paragraph cut mid-sentence still holds sentences; a menu item holds none.
        prose = sum(line[-1] in TERMINAL_PUNCT or _CJK_STOP.search(line) is not None for line in lines)
    else:
        prose = sum(line[-1] in TERMINAL_PUNCT for line in lines)
    return {
        "line_punct_ratio": prose / n_lines,
        "short_line_ratio": sum(len(line) <= th.short_line_chars for line in lines) / n_lines,
        "dup_line_char_frac": duplicate_fractions(lines)[1],
        "list_ratio": view.text.count("\n") / words if words else 0.0,
    }
