"""Gopher repetition rules (Rae et al. 2021, appendix A.1.1, table A1).

Duplicate lines and paragraphs, the share of characters in the most frequent 2/3/4-grams, and
the share of characters covered by repeated 5..10-grams. Chinese uses character n-grams;
English uses word n-grams, as Gopher does.

The n-gram part runs in a compiled kernel (``kernels.ngram_signals``): nine sizes per document cost
about as much as one NumPy call each.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pydantic import BaseModel

from telechat_ptd.kernels import ngram_signals
from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "gopher_repetition"
TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)
SIGNALS = (
    "dup_line_frac",
    "dup_para_frac",
    "dup_line_char_frac",
    "dup_para_char_frac",
    *(f"top_{n}gram_frac" for n in TOP_NS),
    *(f"dup_{n}gram_frac" for n in DUP_NS),
)

class Thresholds(BaseModel):
    # Signal parameter: n-gram n counts tokens times this. Chinese characters carry less than
    # an English word (a word is ~1.7 characters), so Chinese uses 2 (5-gram -> 10 characters).
    ngram_scale: int
    max_dup_line_frac: float | None
    max_dup_para_frac: float | None
    max_dup_line_char_frac: float | None
    max_dup_para_char_frac: float | None
    max_top_2gram_frac: float | None
    max_top_3gram_frac: float | None
    max_top_4gram_frac: float | None
    max_dup_5gram_frac: float | None
    max_dup_6gram_frac: float | None
    max_dup_7gram_frac: float | None
    max_dup_8gram_frac: float | None
    max_dup_9gram_frac: float | None
    max_dup_10gram_frac: float | None


RULES = (
    Rule("dup_line_frac", "max_dup_line_frac", "max", "dup_lines"),
    Rule("dup_para_frac", "max_dup_para_frac", "max", "dup_paragraphs"),
    Rule("dup_line_char_frac", "max_dup_line_char_frac", "max", "dup_line_chars"),
    Rule("dup_para_char_frac", "max_dup_para_char_frac", "max", "dup_paragraph_chars"),
    *(Rule(f"top_{n}gram_frac", f"max_top_{n}gram_frac", "max", f"top_{n}gram") for n in TOP_NS),
    *(Rule(f"dup_{n}gram_frac", f"max_dup_{n}gram_frac", "max", f"dup_{n}gram") for n in DUP_NS),
)


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier item, share of characters in those repeats)."""
    if len(items) < 2:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = total_chars = 0
    for item in items:
        total_chars += len(item)
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items / len(items), (dup_chars / total_chars if total_chars else 0.0)


@lru_cache(maxsize=16)
def _kernel_args(scale: int, dup_limits: tuple[float | None, ...]) -> tuple[np.ndarray, ...]:
    """Sizes, kinds and early-stop floors for the kernel, built once per threshold set.

    A repeated-n-gram size may stop the scan when its value is at or below every threshold
    from there on (coverage only shrinks as n grows).
    """
    floors = [min((x for x in dup_limits[i:] if x is not None), default=-1.0) for i in range(len(DUP_NS))]
    return (
        np.array([n * scale for n in (*TOP_NS, *DUP_NS)], dtype=np.int64),
        np.array([True] * len(TOP_NS) + [False] * len(DUP_NS)),
        np.array([-1.0] * len(TOP_NS) + floors, dtype=np.float64),
    )


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    out["dup_line_frac"], out["dup_line_char_frac"] = duplicate_fractions(view.lines)
    out["dup_para_frac"], out["dup_para_char_frac"] = duplicate_fractions(view.paragraphs)

    ids, lengths = view.tokens
    cum = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=cum[1:])
    dup_limits = tuple(getattr(th, f"max_dup_{n}gram_frac") for n in DUP_NS)
    values = ngram_signals(ids, cum, *_kernel_args(th.ngram_scale, dup_limits), complete)
    for name, value in zip(SIGNALS[4:], values.tolist()):
        if value >= 0.0:
            out[name] = value
    return out
