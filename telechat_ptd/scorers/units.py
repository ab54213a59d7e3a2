"""The units a KenLM model counts: one per Chinese character, one per English word.

Chinese has no spaces, and a word segmenter's mistakes would become the model's vocabulary, so
each Han character (and kana, Hangul syllable, CJK punctuation mark) is its own unit, as
character-level LMs for Chinese do. Latin-script text is lower-cased words with punctuation
split off. Every digit becomes 0, as in CCNet, so numbers share statistics instead of
spreading over thousands of rare n-grams. Training and scoring must cut text the same way;
``VERSION`` is stored with each model and checked when it loads.
"""

from __future__ import annotations

import re

VERSION = 1
NAME = "zh-char+word"  # recorded in meta.json: what one unit is

# Scripts written without spaces: every character is a unit.
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han (extension A, unified, compatibility)
    "\uac00-\ud7af"  # Hangul syllables
    "\U00020000-\U0003134f"  # Han extensions B-G
)
# A CJK character; else a run of letters/digits of other scripts; else any other visible
# character alone (punctuation, symbols). Whitespace and control characters separate units and
# never appear in one: KenLM splits its input on them.
_UNIT = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+|[^\s\x00-\x1f\x7f-\x9f]")
_DIGIT = re.compile(r"\d")


def fold(text: str) -> str:
    """Lower case, every decimal digit (any script) as 0."""
    return _DIGIT.sub("0", text.lower())


def units(line: str) -> list[str]:
    """The units of one line of text."""
    return _UNIT.findall(fold(line))


def unit_lines(text: str) -> list[str]:
    """Each non-empty line of ``text`` as space-separated units: KenLM's sentences, which
    are the document's lines as in CCNet."""
    out = []
    for line in text.splitlines():
        tokens = units(line)
        if tokens:
            out.append(" ".join(tokens))
    return out
