"""One document through normalization and the rule filters: the pure core of ``clean``.

The Beam DoFn, ``annotate``, the notebooks and the tests all call this, so a decision made in
a notebook is the decision the job makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telechat_ptd.filters.engine import RuleFilter
from telechat_ptd.normalize import Normalizer
from telechat_ptd.pipeline.config import Config

KEEP = "keep"


@dataclass
class Outcome:
    text: str  # normalized text (the raw text when normalization is off)
    stage: str | None = None  # stage that rejected the document; None when kept
    reason: str | None = None
    detail: str | None = None
    lang: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    boilerplate_lines: int = 0

    @property
    def kept(self) -> bool:
        return self.reason is None


class DocumentProcessor:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.normalizer = Normalizer(cfg.normalize) if cfg.normalize.enabled else None
        self.filter = RuleFilter(cfg.filters) if cfg.filters.enabled else None

    def process(self, text: str, complete: bool = False) -> Outcome:
        """Normalize and filter; ``complete`` computes every signal even after a failure."""
        removed = 0
        if self.normalizer is not None:
            text, removed = self.normalizer.normalize(text)
            if not text:
                return Outcome(text, "normalize", "empty_after_normalize", None, boilerplate_lines=removed)
        if self.filter is None:
            return Outcome(text, boilerplate_lines=removed)
        verdict = self.filter.evaluate(text, complete=complete)
        stage = "filter" if verdict.reason else None
        return Outcome(text, stage, verdict.reason, verdict.detail, verdict.lang, verdict.signals, removed)
