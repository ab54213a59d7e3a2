"""Codepoint classes as a lookup table over the Basic Multilingual Plane.

Counting character classes one character at a time in Python costs ~100 µs for a
1,500-character document; one compiled pass over the UTF-32 codepoints with this table
(``kernels.class_counts``) costs about 1 µs. Every ratio signal comes from those counts.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

# Class ids. Keep them small: they index the bincount array.
OTHER = 0  # unassigned and everything not below
SPACE = 1  # horizontal whitespace
NEWLINE = 2
HAN = 3  # CJK unified ideographs (all extensions) and compatibility ideographs
LATIN = 4  # Latin letters, ASCII and accented
DIGIT = 5  # any decimal digit
PUNCT = 6  # sentence punctuation, ASCII and CJK
SYMBOL = 7  # symbols and "odd" punctuation: # $ % & * < > @ [ ] ^ _ ` { | } ~, So, Sm ...
KANA = 8
HANGUL = 9
LETTER = 10  # other scripts' letters: Cyrillic, Greek, Arabic, Thai ...
CONTROL = 11  # controls, format chars, surrogates, private use: signs of binary garbage
REPLACEMENT = 12  # U+FFFD: bytes that were not valid in their encoding
MARK = 13  # combining marks
N_CLASSES = 14

# Punctuation that belongs to running prose. Everything else in P* goes to SYMBOL, so that
# "symbol_ratio" measures decoration (★【】###) rather than ordinary commas.
PROSE_PUNCT = set(",.;:!?'\"()-/") | set(
    "，。！？；：、“”‘’（）《》〈〉「」『』【】…—～·﹏﹑﹔"
)
# Brackets 【】 are common in Chinese news headlines; they stay prose punctuation.

TERMINAL_PUNCT = frozenset(".!?\"'。！？…”’」』）)")


def _classify(cp: int) -> int:
    ch = chr(cp)
    if ch == "\n":
        return NEWLINE
    if ch in " \t\r\x0b\x0c" or unicodedata.category(ch) == "Zs":
        return SPACE
    if cp == 0xFFFD:
        return REPLACEMENT
    if 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF:
        return HAN
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D:
        return KANA
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
        return HANGUL
    cat = unicodedata.category(ch)
    if cat == "Nd":
        return DIGIT
    if cat[0] == "L":
        if "LATIN" in unicodedata.name(ch, ""):
            return LATIN
        return LETTER
    if cat[0] == "M":
        return MARK
    if cat[0] == "P":
        return PUNCT if ch in PROSE_PUNCT else SYMBOL
    if cat[0] == "S" or cat[0] == "N":
        return SYMBOL
    if cat in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
        return CONTROL
    return OTHER


@lru_cache(maxsize=1)
def bmp_table() -> np.ndarray:
    """Class of every Basic Multilingual Plane codepoint (built once, ~0.1 s)."""
    return np.fromiter((_classify(cp) for cp in range(0x10000)), dtype=np.uint8, count=0x10000)


def codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_codepoints(cps: np.ndarray) -> str:
    return cps.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def flag_table(*groups: tuple[int, list[int]]) -> np.ndarray:
    """A uint8 table over the BMP with ``flag`` set on each listed codepoint."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for flag, cps in groups:
        table[np.asarray(cps, dtype=np.int64)] |= flag
    return table
