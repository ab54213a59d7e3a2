"""One document, measured once.

Every rule family reads the same codepoint classes, lines and tokens; computing them once per
document (and lazily where only some families need them) is what makes the rule stage fast.
"""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np

from telechat_ptd import charclass as cc
from telechat_ptd import kernels

_WORD = re.compile(r"\S+")


class TextView:
    def __init__(self, text: str):
        self.text = text
        self.cps = cc.codepoints(text)
        self.counts: list[int] = kernels.class_counts(self.cps, cc.bmp_table(), cc.N_CLASSES).tolist()
        self.lang = "none"  # set by the script family before the language's rules run

    # --- sizes ---------------------------------------------------------------------------
    @property
    def n_chars(self) -> int:
        return len(self.text)

    @cached_property
    def n_visible(self) -> int:
        return len(self.text) - self.counts[cc.SPACE] - self.counts[cc.NEWLINE]

    @cached_property
    def n_letters(self) -> int:
        c = self.counts
        return c[cc.HAN] + c[cc.LATIN] + c[cc.KANA] + c[cc.HANGUL] + c[cc.LETTER]

    # --- lines and paragraphs ------------------------------------------------------------
    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines (normalized text has no edge whitespace on lines)."""
        return [line for line in self.text.split("\n") if line.strip()]

    @cached_property
    def paragraphs(self) -> list[str]:
        if "\n" not in self.text:
            return [self.text] if self.text.strip() else []
        return [p for p in re.split(r"\n\s*\n", self.text) if p.strip()]

    # --- tokens: characters for Chinese, whitespace words otherwise -----------------------
    @cached_property
    def words(self) -> list[str]:
        return _WORD.findall(self.text)

    @cached_property
    def tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """(token ids, token lengths in characters) for n-gram statistics.

        Chinese has no spaces, so its tokens are the visible characters themselves (the
        codepoint is the id); other languages use whitespace-separated words.
        """
        if self.lang in ("zh", "ja"):
            if self.n_visible == self.cps.size:
                ids = self.cps.astype(np.uint64)
            else:
                ids = kernels.visible_codepoints(self.cps, cc.bmp_table())
            return ids, np.ones(ids.size, dtype=np.int64)
        words = self.words
        vocab: dict[str, int] = {}
        ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), dtype=np.uint64, count=len(words))
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        # Spread ids over 64 bits so that the polynomial n-gram hash mixes well.
        return ids * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1), lengths

    def ratio(self, count: float, denominator: int | None = None) -> float:
        d = self.n_visible if denominator is None else denominator
        return float(count) / d if d else 0.0
