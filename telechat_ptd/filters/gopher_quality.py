"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1).

English keeps Gopher's word-level definitions. Chinese has no spaces, so its "words" are its
visible characters: word length is meaningless (its rule is off), "alphabetic words" become
letters among visible characters, and the stop-word rule counts the function characters
的/了/是/在/和... that any running Chinese prose contains.
"""

from __future__ import annotations

from pydantic import BaseModel

from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "gopher_quality"
SIGNALS = (
    "n_words",
    "mean_word_len",
    "symbol_word_ratio",
    "bullet_line_ratio",
    "ellipsis_line_ratio",
    "alpha_word_ratio",
    "stopword_hits",
)

EN_STOPWORDS = frozenset(["the", "be", "to", "of", "and", "that", "have", "with"])
ZH_STOPCHARS = "的了是在和有也就不这我他们"
BULLETS = ("•", "●", "○", "■", "□", "▪", "▫", "◆", "◇", "►", "▶", "-", "*", "·", "–", "—", "➢", "✓")
ELLIPSES = ("...", "…")


class Thresholds(BaseModel):
    min_words: int | None
    max_words: int | None
    min_mean_word_len: float | None
    max_mean_word_len: float | None
    max_symbol_word_ratio: float | None
    max_bullet_line_ratio: float | None
    max_ellipsis_line_ratio: float | None
    min_alpha_word_ratio: float | None
    min_stopword_hits: int | None


RULES = (
    Rule("n_words", "min_words", "min", "gopher_few_words"),
    Rule("n_words", "max_words", "max", "gopher_many_words"),
    Rule("mean_word_len", "min_mean_word_len", "min", "gopher_short_words"),
    Rule("mean_word_len", "max_mean_word_len", "max", "gopher_long_words"),
    Rule("symbol_word_ratio", "max_symbol_word_ratio", "max", "gopher_symbols"),
    Rule("bullet_line_ratio", "max_bullet_line_ratio", "max", "gopher_bullet_lines", per_line=True),
    Rule("ellipsis_line_ratio", "max_ellipsis_line_ratio", "max", "gopher_ellipsis_lines", per_line=True),
    Rule("alpha_word_ratio", "min_alpha_word_ratio", "min", "gopher_non_alpha"),
    Rule("stopword_hits", "min_stopword_hits", "min", "gopher_stopwords"),
)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    text = view.text
    lines = view.lines
    n_lines = len(lines) or 1
    hash_ellipsis = text.count("#") + text.count("...") + text.count("…")
    out = {
        "bullet_line_ratio": sum(line.startswith(BULLETS) for line in lines) / n_lines,
        "ellipsis_line_ratio": sum(line.endswith(ELLIPSES) for line in lines) / n_lines,
    }
    if view.lang in ("zh", "ja"):
        n = view.n_visible
        out.update(
            n_words=n,
            mean_word_len=1.0 if n else 0.0,
            symbol_word_ratio=hash_ellipsis / n if n else 0.0,
            alpha_word_ratio=view.n_letters / n if n else 0.0,
            stopword_hits=sum(text.count(c) for c in ZH_STOPCHARS),
        )
    else:
        words = view.words
        n = len(words)
        out.update(
            n_words=n,
            mean_word_len=sum(map(len, words)) / n if n else 0.0,
            symbol_word_ratio=hash_ellipsis / n if n else 0.0,
            alpha_word_ratio=sum(any(ch.isalpha() for ch in w) for w in words) / n if n else 0.0,
            stopword_hits=sum(w.lower() in EN_STOPWORDS for w in words),
        )
    return out
