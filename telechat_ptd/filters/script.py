"""Script composition: share of Chinese characters (ChineseWebText's "proportion of Chinese
characters") and of characters that only binary garbage or broken decoding produce."""

from __future__ import annotations

from pydantic import BaseModel

from telechat_ptd import charclass as cc
from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "script"
SIGNALS = ("han_ratio", "latin_ratio", "garbage_ratio")


class Thresholds(BaseModel):
    min_han_ratio: float | None
    min_latin_ratio: float | None
    max_garbage_ratio: float | None


RULES = (
    Rule("garbage_ratio", "max_garbage_ratio", "max", "garbage_chars"),
    Rule("han_ratio", "min_han_ratio", "min", "low_han_ratio"),
    Rule("latin_ratio", "min_latin_ratio", "min", "low_latin_ratio"),
)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    c = view.counts
    garbage = c[cc.REPLACEMENT] + c[cc.CONTROL] + c[cc.OTHER]
    return {
        "han_ratio": view.ratio(c[cc.HAN]),
        "latin_ratio": view.ratio(c[cc.LATIN]),
        "garbage_ratio": view.ratio(garbage),
    }
