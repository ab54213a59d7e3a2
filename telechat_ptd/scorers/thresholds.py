"""The scorers' decisions: each signal against its configured threshold.

Like the rule filters, a missing signal (an empty document, a language without a model)
never fails a document, and a threshold set to null only annotates.
"""

from __future__ import annotations

from telechat_ptd.scorers.config import ScorersConfig

SIGNALS: dict[str, tuple[str, ...]] = {
    "kenlm": ("kenlm_perplexity", "kenlm_bucket"),
    "fasttext": ("fasttext_quality",),
    "bert": ("bert_quality",),
    "gpt2": ("gpt2_perplexity",),
    "toxicity": ("toxicity",),
}
REASONS = ("kenlm_perplexity_high", "kenlm_bucket", "fasttext_quality_low", "bert_quality_low", "gpt2_perplexity_high", "toxic")


def _above(value, limit) -> bool:
    return value is not None and limit is not None and value > limit


def _below(value, limit) -> bool:
    return value is not None and limit is not None and value < limit


def verdict(name: str, cfg: ScorersConfig, scores: dict) -> tuple[str, str] | None:
    """(reason, detail) when scorer ``name``'s signals in ``scores`` fail its thresholds."""
    if name == "kenlm":
        c = cfg.kenlm
        ppl = scores.get("kenlm_perplexity")
        if _above(ppl, c.max_perplexity):
            return "kenlm_perplexity_high", f"kenlm_perplexity {ppl:.1f} > {c.max_perplexity:g}"
        bucket = scores.get("kenlm_bucket")
        if bucket is not None and bucket in c.drop_buckets:
            return "kenlm_bucket", f"kenlm_bucket {bucket} in {c.drop_buckets}"
    elif name == "fasttext":
        q = scores.get("fasttext_quality")
        if _below(q, cfg.fasttext.min_quality):
            return "fasttext_quality_low", f"fasttext_quality {q:.3f} < {cfg.fasttext.min_quality:g}"
    elif name == "bert":
        q = scores.get("bert_quality")
        if _below(q, cfg.bert.min_quality):
            return "bert_quality_low", f"bert_quality {q:.3f} < {cfg.bert.min_quality:g}"
    elif name == "gpt2":
        ppl = scores.get("gpt2_perplexity")
        if _above(ppl, cfg.gpt2.max_perplexity):
            return "gpt2_perplexity_high", f"gpt2_perplexity {ppl:.1f} > {cfg.gpt2.max_perplexity:g}"
    elif name == "toxicity":
        t = scores.get("toxicity")
        if _above(t, cfg.toxicity.max_toxicity):
            return "toxic", f"toxicity {t:.3f} > {cfg.toxicity.max_toxicity:g}"
    else:
        raise ValueError(f"unknown scorer {name!r}")
    return None


def first_failure(names: list[str], cfg: ScorersConfig, scores: dict) -> tuple[str, str] | None:
    """The first of ``names`` (in their order) whose thresholds ``scores`` fail."""
    for name in names:
        failed = verdict(name, cfg, scores)
        if failed:
            return failed
    return None
