"""Character-class ratios: decoration symbols, digits, URLs and whitespace.

Spam, tables of numbers, link farms and layout debris each push one of these up while prose
keeps them low (Data-Juicer and RedPajama use the same family of signals).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from telechat_ptd import charclass as cc
from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "ratios"
SIGNALS = ("symbol_ratio", "digit_ratio", "url_ratio", "whitespace_ratio")

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。；）)】]+", re.IGNORECASE)


class Thresholds(BaseModel):
    max_symbol_ratio: float | None
    max_digit_ratio: float | None
    max_url_ratio: float | None
    max_whitespace_ratio: float | None


RULES = (
    Rule("symbol_ratio", "max_symbol_ratio", "max", "symbol_ratio"),
    Rule("digit_ratio", "max_digit_ratio", "max", "digit_ratio"),
    Rule("url_ratio", "max_url_ratio", "max", "url_ratio"),
    Rule("whitespace_ratio", "max_whitespace_ratio", "max", "whitespace_ratio"),
)


def url_chars(text: str) -> int:
    if "://" not in text and "www." not in text and "WWW." not in text:
        return 0
    return sum(m.end() - m.start() for m in _URL.finditer(text))


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    c = view.counts
    n = view.n_chars
    return {
        "symbol_ratio": view.ratio(c[cc.SYMBOL]),
        "digit_ratio": view.ratio(c[cc.DIGIT]),
        "url_ratio": url_chars(view.text) / n if n else 0.0,
        # Spaces only: line structure has its own rules, "spaced out" text is what this catches.
        "whitespace_ratio": c[cc.SPACE] / n if n else 0.0,
    }
