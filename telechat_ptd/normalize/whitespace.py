"""Whitespace: one kind of space, one kind of line break, no blank-line runs.

Paragraph breaks (one blank line) survive because the Gopher paragraph signals need them.
"""

from __future__ import annotations

import re

_SPACE_CHARS = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_BREAK_CHARS = "\r\u2028\u2029\x0b\x0c\x85"
SPECIAL = [ord(c) for c in _SPACE_CHARS + _BREAK_CHARS]

_SPACES = re.compile(f"[ {_SPACE_CHARS}]+")
_BREAKS = re.compile(f"\r\n?|[{_BREAK_CHARS[1:]}]")


def normalize_lines(text: str, special: bool = True) -> list[str]:
    """Lines with single plain spaces and no edge whitespace; blank lines kept as ''.

    ``special=False`` promises the text has no tab, exotic space or exotic line break (the
    normalizer knows from its character scan) and skips the regular expressions.
    """
    if special:
        text = _BREAKS.sub("\n", text)
        return [_SPACES.sub(" ", line).strip(" ") for line in text.split("\n")]
    return [(_SPACES.sub(" ", line) if "  " in line else line).strip(" ") for line in text.split("\n")]


def join_lines(lines: list[str]) -> str:
    """Join lines, collapsing runs of blank lines to one and trimming the edges."""
    out: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)
