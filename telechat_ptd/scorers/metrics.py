"""How well a score separates good documents (label 1) from bad ones (label 0)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the chance a random good document outscores a random bad
    one (the Mann-Whitney statistic, ties counted half)."""
    from scipy.stats import rankdata

    y = np.asarray(labels) == 1
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        raise ValueError("ROC-AUC needs both labels")
    ranks = rankdata(np.asarray(scores, dtype=float))
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def binary_metrics(labels: Sequence[int], probs: Sequence[float], threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision and recall of label 1 at ``threshold``, and ROC-AUC."""
    y = np.asarray(labels) == 1
    predicted = np.asarray(probs, dtype=float) >= threshold
    tp = int((y & predicted).sum())
    fp = int((~y & predicted).sum())
    fn = int((y & ~predicted).sum())
    return {
        "accuracy": float((y == predicted).mean()),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "roc_auc": roc_auc(labels, probs),
    }
