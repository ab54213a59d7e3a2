"""Traditional to simplified Chinese with OpenCC.

The converter holds its dictionaries in C++ memory and cannot be pickled, so it is built
lazily, once per process (Beam workers included). Conversion costs ~20 ns per byte; the few
percent of documents that hold a character the conversion changes are the only ones that pay.
"""

from __future__ import annotations

from functools import lru_cache

import opencc


@lru_cache(maxsize=4)
def converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@lru_cache(maxsize=4)
def changed_chars(config: str) -> list[int]:
    """BMP codepoints that the conversion changes when they stand alone.

    A text with none of them comes back unchanged (phrase rules only refine how such
    characters convert), so it can skip the converter.
    """
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF and c != 0x0A]
    out = converter(config).convert("\n".join(chars)).split("\n")
    return [ord(c) for c, o in zip(chars, out) if c != o]


def to_simplified(text: str, config: str = "t2s") -> str:
    return converter(config).convert(text)
