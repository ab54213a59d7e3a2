"""C4 page rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", §2.2).

C4 drops a page that has "lorem ipsum", a curly bracket, or fewer than 5 sentences, and drops
lines that mention javascript or cookie/privacy policies. Here every one of these is a
document signal with a threshold: a single brace in a Chinese article about maths should not
drop it, but a page that is mostly template code should go. Line removal itself is the
boilerplate normalizer's job, so that rules only ever decide, never edit.
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel

from telechat_ptd import charclass as cc
from telechat_ptd.kernels import count_sentence_ends
from telechat_ptd.filters.rule import Rule
from telechat_ptd.filters.view import TextView

NAME = "c4"
SIGNALS = ("lorem_ipsum", "curly_brace_ratio", "javascript_line_ratio", "policy_line_ratio", "sentences")

# English phrases are matched in lower-cased lines, and only when the text has Latin letters
# (lower() on Chinese text is slow and pointless).
POLICY_EN = re.compile("terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies")
POLICY_ZH = ("隐私政策", "隐私条款", "使用条款", "服务条款", "用户协议", "免责声明")

_ENDS = np.zeros(0x10000, dtype=bool)
_ENDS[[ord(c) for c in "。！？；!?"]] = True


class Thresholds(BaseModel):
    max_lorem_ipsum: float | None
    max_curly_brace_ratio: float | None
    max_javascript_line_ratio: float | None
    max_policy_line_ratio: float | None
    min_sentences: int | None


RULES = (
    Rule("lorem_ipsum", "max_lorem_ipsum", "max", "lorem_ipsum"),
    Rule("curly_brace_ratio", "max_curly_brace_ratio", "max", "curly_brace"),
    Rule("javascript_line_ratio", "max_javascript_line_ratio", "max", "javascript", per_line=True),
    Rule("policy_line_ratio", "max_policy_line_ratio", "max", "policy_lines", per_line=True),
    Rule("sentences", "min_sentences", "min", "few_sentences"),
)


def count_sentences(view: TextView) -> int:
    """Sentence-ending runs; a trailing sentence without final punctuation counts too."""
    n = count_sentence_ends(view.cps, _ENDS)
    tail = view.text.rstrip()
    if tail and tail[-1] not in cc.TERMINAL_PUNCT:
        n += 1
    return n


def _line_share(view: TextView, match) -> float:
    return sum(match(line) for line in view.lines) / len(view.lines)


def signals(view: TextView, th, complete: bool) -> dict[str, float]:
    text = view.text
    latin = view.counts[cc.LATIN] > 0
    lower = text.lower() if latin else ""
    policy = 0.0
    if latin and POLICY_EN.search(lower):
        policy = _line_share(view, lambda ln: POLICY_EN.search(ln.lower()) is not None or any(p in ln for p in POLICY_ZH))
    elif any(p in text for p in POLICY_ZH):
        policy = _line_share(view, lambda ln: any(p in ln for p in POLICY_ZH))
    braces = text.count("{") + text.count("}") if view.counts[cc.SYMBOL] else 0
    return {
        "lorem_ipsum": float("lorem ipsum" in lower),
        "curly_brace_ratio": view.ratio(braces),
        "javascript_line_ratio": _line_share(view, lambda ln: "javascript" in ln.lower()) if "javascript" in lower else 0.0,
        "policy_line_ratio": policy,
        "sentences": count_sentences(view),
    }
