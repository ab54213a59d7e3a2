"""The safety decisions from a document's stored signals, shared by the job, ``ptd annotate``
and the notebook what-if.

The lexicon's signals are per category and the categories come from the user's files, so a
row keeps one summary: the category that decides (the densest failing one, else the densest).
Deciding from that summary gives the job's answer for the thresholds it was computed with.
"""

from __future__ import annotations

from collections.abc import Mapping

from telechat_ptd.safety import blocklist as bl
from telechat_ptd.safety import lexicon as lx

# Annotate columns and their types.
SIGNALS = {
    "url_blocked": float, "url_blocklist_category": str, "lexicon_category": str, "lexicon_hits": float,
    "lexicon_density": float, "pii_hits": float, "pii_density": float,
}


def stage_enabled(cfg) -> bool:
    """Whether a job with ``cfg`` (the whole Config) runs the safety stage at all."""
    s = cfg.safety
    return s.blocklist.enabled or s.lexicon.enabled or s.pii.enabled or cfg.scorers.toxicity.enabled


def lexicon_summary(signals: Mapping[str, float], cfg: lx.LexiconConfig) -> dict:
    """``lexicon_category``, ``lexicon_hits`` and ``lexicon_density`` of the deciding category."""
    categories = [k[len("lex_"):-len("_hits")] for k in signals if k.startswith("lex_") and k.endswith("_hits")]
    reason, _ = lx.decide(signals, cfg)
    if reason is not None:
        category = reason[len("lexicon_"):]
    elif categories:
        category = max(categories, key=lambda c: (signals[lx.density_key(c)], signals[lx.hits_key(c)], c))
    else:
        return {"lexicon_category": "", "lexicon_hits": 0.0, "lexicon_density": 0.0}
    return {"lexicon_category": category, "lexicon_hits": float(signals[lx.hits_key(category)]),
            "lexicon_density": float(signals[lx.density_key(category)])}


def lists_verdict(scores: Mapping, blocklist: bl.BlocklistConfig, lexicon: lx.LexiconConfig) -> tuple[str, str] | None:
    """(reason, detail) of the blocklist, then the lexicon summary; None when both pass."""
    if blocklist.enabled:
        reason, detail = bl.decide(scores)
        if reason is not None:
            return reason, detail
    category = scores.get("lexicon_category")
    if lexicon.enabled and category:
        summary = {lx.hits_key(category): scores.get("lexicon_hits") or 0.0,
                   lx.density_key(category): scores.get("lexicon_density") or 0.0}
        reason, detail = lx.decide(summary, lexicon)
        if reason is not None:
            return reason, detail
    return None


def pii_verdict(scores: Mapping, pii) -> tuple[str, str] | None:
    """(pii_density_high, detail) when the document is denser in personal data than allowed."""
    density = scores.get("pii_density")
    if pii.enabled and pii.max_density is not None and density is not None and density > pii.max_density:
        return "pii_density_high", f"pii_density {density:.2f} > {pii.max_density:g} per 1,000 chars"
    return None
