"""Retune filter thresholds from ``ptd annotate`` output (the notebooks' importable logic)."""

from telechat_ptd.tuning.decide import TuningError
from telechat_ptd.tuning.tuner import Tuner, WhatIf, compare_counts, docs_html, run_clean

__all__ = ["Tuner", "TuningError", "WhatIf", "compare_counts", "docs_html", "run_clean"]
