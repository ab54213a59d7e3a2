"""The scorers' decisions: each signal against its configured threshold.

Like the rule filters, a missing signal (an empty document, a language without a model)
never fails a document, and a threshold set to null only annotates.
"""

from __future__ import annotations

from telechat_ptd.scorers.config import ScorersConfig

SIGNALS: dict[str, tuple[str, ...]] = {
    "kenlm": ("kenlm_perplexity", "kenlm_bucket", "kenlm_context_ratio"),
    "fasttext": ("fasttext_quality",),
    "bert": ("bert_quality",),
    "gpt2": ("gpt2_perplexity",),
    "toxicity": ("toxicity",),
}


def _above(value, limit) -> bool:
    return value is not None and limit is not None and value > limit


def _below(value, limit) -> bool:
    return value is not None and limit is not None and value < limit


# scorer -> its rules, checked in order: (signal, "max" or "min", its threshold's config field,
# reason, value format)
RULES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "kenlm": (("kenlm_perplexity", "max", "max_perplexity", "kenlm_perplexity_high", ".1f"),
              ("kenlm_context_ratio", "max", "max_context_ratio", "kenlm_context_ratio_high", ".3f")),
    "fasttext": (("fasttext_quality", "min", "min_quality", "fasttext_quality_low", ".3f"),),
    "bert": (("bert_quality", "min", "min_quality", "bert_quality_low", ".3f"),),
    "gpt2": (("gpt2_perplexity", "max", "max_perplexity", "gpt2_perplexity_high", ".1f"),),
    "toxicity": (("toxicity", "max", "max_toxicity", "toxic", ".3f"),),
}


def verdict(name: str, cfg: ScorersConfig, scores: dict) -> tuple[str, str] | None:
    """(reason, detail) when scorer ``name``'s signals in ``scores`` fail its thresholds."""
    if name not in RULES:
        raise ValueError(f"unknown scorer {name!r}")
    for signal, kind, field, reason, fmt in RULES[name]:
        value, limit = scores.get(signal), getattr(getattr(cfg, name), field)
        if (_above if kind == "max" else _below)(value, limit):
            return reason, f"{signal} {value:{fmt}} {'>' if kind == 'max' else '<'} {limit:g}"
    bucket = scores.get("kenlm_bucket") if name == "kenlm" else None
    if bucket is not None and bucket in cfg.kenlm.drop_buckets:
        return "kenlm_bucket", f"kenlm_bucket {bucket} in {cfg.kenlm.drop_buckets}"
    return None


def first_failure(names: list[str], cfg: ScorersConfig, scores: dict) -> tuple[str, str] | None:
    """The first of ``names`` (in their order) whose thresholds ``scores`` fail."""
    for name in names:
        failed = verdict(name, cfg, scores)
        if failed:
            return failed
    return None
