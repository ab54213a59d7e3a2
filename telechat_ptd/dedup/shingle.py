"""Shingles for near-duplicate detection.

A repost rarely differs from its original only by whole words: it is re-punctuated,
re-spaced, converted to traditional script, renumbered, wrapped in other boilerplate. So
shingles come from a *dedup-normalized* text: traditional → simplified, lower case, every
digit → 0, punctuation, symbols and whitespace dropped (Chinese) or turned into single word
separators (languages written with spaces). Chinese documents get character n-grams, others
word n-grams, chosen per document by the share of Han characters among letters.

A shingle is a substring of the dedup-normalized text; ``shingles()`` returns them as
strings (for datasketch and tests) and ``shingle_bytes()`` as UTF-8 spans for the
compiled hashing path. Both always agree.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from telechat_ptd import charclass as cc
from telechat_ptd.charclass import codepoints
from telechat_ptd.kernels import flags_present
from telechat_ptd.normalize.chinese import changed_chars, to_simplified


class Shingling(NamedTuple):
    unit: str  # "char" or "word"
    utf8: np.ndarray  # uint8: the dedup-normalized text, UTF-8
    starts: np.ndarray  # int64 byte offset where each shingle starts
    ends: np.ndarray  # int64 byte offset where each shingle ends (exclusive)


@lru_cache(maxsize=1)
def _keep_table() -> np.ndarray:
    """1 for letters (kept as they are), 2 for digits (become '0'), 0 for the rest."""
    classes = cc.bmp_table()
    keep = np.zeros(0x10000, dtype=np.uint8)
    letters = (classes == cc.HAN) | (classes == cc.LATIN) | (classes == cc.KANA) | (classes == cc.HANGUL)
    keep[letters | (classes == cc.LETTER) | (classes == cc.MARK)] = 1
    keep[classes == cc.DIGIT] = 2
    return keep


@lru_cache(maxsize=4)
def _traditional_table(config: str) -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    table[np.asarray(changed_chars(config), dtype=np.int64)] = 1
    return table


@njit(cache=True, nogil=True)
def _normalized_utf8(cps, keep, word_mode):
    """UTF-8 of the kept characters (digits as '0'); in word mode runs of dropped characters
    become one space. Returns (bytes, byte offset of each kept character + end, word starts)."""
    out = np.empty(cps.size * 4 + 1, dtype=np.uint8)
    char_off = np.empty(cps.size + 1, dtype=np.int64)
    word_starts = np.empty(cps.size + 1, dtype=np.int64)
    n = 0
    nchars = 0
    nwords = 0
    pending_space = False
    for i in range(cps.size):
        c = cps[i]
        k = keep[c] if c < 0x10000 else 1  # astral: CJK extensions and other letters
        if k == 0:
            pending_space = nchars > 0
            continue
        if k == 2:
            c = 0x30
        if word_mode and (pending_space or nchars == 0):
            if nchars > 0:
                out[n] = 0x20
                n += 1
            word_starts[nwords] = n
            nwords += 1
        pending_space = False
        char_off[nchars] = n
        nchars += 1
        if c < 0x80:
            out[n] = c
            n += 1
        elif c < 0x800:
            out[n] = 0xC0 | (c >> 6)
            out[n + 1] = 0x80 | (c & 0x3F)
            n += 2
        elif c < 0x10000:
            out[n] = 0xE0 | (c >> 12)
            out[n + 1] = 0x80 | ((c >> 6) & 0x3F)
            out[n + 2] = 0x80 | (c & 0x3F)
            n += 3
        else:
            out[n] = 0xF0 | (c >> 18)
            out[n + 1] = 0x80 | ((c >> 12) & 0x3F)
            out[n + 2] = 0x80 | ((c >> 6) & 0x3F)
            out[n + 3] = 0x80 | (c & 0x3F)
            n += 4
    char_off[nchars] = n
    word_starts[nwords] = n + 1  # sentinel: one past the end, as if a space followed
    return out[:n], char_off[: nchars + 1], word_starts[: nwords + 1]


def is_char_unit(text_cps: np.ndarray, min_han_share: float) -> bool:
    from telechat_ptd.kernels import class_counts

    c = class_counts(text_cps, cc.bmp_table(), cc.N_CLASSES)
    letters = c[cc.HAN] + c[cc.LATIN] + c[cc.KANA] + c[cc.HANGUL] + c[cc.LETTER]
    return letters > 0 and (c[cc.HAN] + c[cc.KANA]) / letters >= min_han_share


def shingle_bytes(text: str, n_char: int, n_word: int, unit: str = "auto", min_han_share: float = 0.3,
                  opencc: str | None = "t2s") -> Shingling:
    """The shingles of ``text`` as byte spans of its dedup-normalized UTF-8.

    A text shorter than one n-gram is a single shingle (itself); an empty one has none.
    """
    if opencc:
        cps = codepoints(text)
        if flags_present(cps, _traditional_table(opencc)):
            text = to_simplified(text, opencc)
    cps = codepoints(text.lower())
    char_mode = unit == "char" or (unit == "auto" and is_char_unit(cps, min_han_share))
    utf8, char_off, word_starts = _normalized_utf8(cps, _keep_table(), not char_mode)
    if char_mode:
        k = len(char_off) - 1
        if k == 0:
            return Shingling("char", utf8, np.empty(0, np.int64), np.empty(0, np.int64))
        m = max(k - n_char + 1, 1)
        return Shingling("char", utf8, char_off[:m], char_off[np.minimum(np.arange(m) + n_char, k)])
    words = len(word_starts) - 1
    if words == 0:
        return Shingling("word", utf8, np.empty(0, np.int64), np.empty(0, np.int64))
    m = max(words - n_word + 1, 1)
    # a word n-gram ends where the word after it starts, minus the separating space
    ends = word_starts[np.minimum(np.arange(m) + n_word, words)] - 1
    return Shingling("word", utf8, word_starts[:m], ends)


def shingles(text: str, n_char: int, n_word: int, unit: str = "auto", min_han_share: float = 0.3,
             opencc: str | None = "t2s") -> list[str]:
    """The shingles as strings: what datasketch (or any other MinHash) would be fed."""
    s = shingle_bytes(text, n_char, n_word, unit, min_han_share, opencc)
    data = s.utf8.tobytes()
    return [data[a:b].decode("utf-8") for a, b in zip(s.starts.tolist(), s.ends.tolist())]
