"""Broken Unicode, control and zero-width characters.

ftfy is the right tool for mojibake but costs ~200 ns per character, and most documents have
none. UTF-8 read as Latin-1 / cp1252 (the common case on the Chinese web) always leaves a
character from U+00C2-U+00F4 (a UTF-8 lead byte) or a C1 control behind, so in ``auto`` mode
ftfy only runs on documents holding one of ``MOJIBAKE_HINTS``. ``always`` runs it on
everything (for mojibake through cp437, MacRoman or cp1251).
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
import numpy as np

from telechat_ptd.charclass import codepoints, from_codepoints

# ftfy without the steps that would damage Chinese text: curly quotes are real Chinese
# punctuation, and width folding is our own rule that keeps Chinese punctuation.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    fix_line_breaks=False,
    explain=False,
)

MOJIBAKE_HINTS = [*range(0x80, 0xA0), *range(0xC2, 0xF5), *range(0xD800, 0xE000)]

# C0/C1 controls except tab, newline and carriage return; zero-width and bidi format
# characters, BOM, soft hyphen, interlinear annotation and object replacement characters.
STRIPPED = [
    *(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)),
    *range(0x7F, 0xA0),
    0xAD, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
    *range(0x2066, 0x206A), 0xFEFF, *range(0xFFF9, 0xFFFD),
]
_STRIP_TABLE = np.zeros(0x10000, dtype=bool)
_STRIP_TABLE[STRIPPED] = True
_SURROGATE = re.compile("[\ud800-\udfff]")


def fix_unicode(text: str) -> str:
    """ftfy's mojibake repair, lone surrogates replaced, NFC."""
    text = ftfy.fix_text(text, _FTFY_CONFIG)
    # Lone surrogates cannot be encoded to UTF-8 and would break the writer.
    return unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))


def nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def strip_controls(text: str) -> str:
    cps = codepoints(text)
    return from_codepoints(cps[~_STRIP_TABLE[np.minimum(cps, 0xFFFF)]])
