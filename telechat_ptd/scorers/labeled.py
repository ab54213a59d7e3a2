"""Positive and negative training text for the quality classifiers.

Positives are reference documents; negatives are real low-quality documents and, with
``degrade``, degraded versions of *other* reference documents (a disjoint half), so no
document's original and degraded forms end on both sides of a held-out split.
"""

from __future__ import annotations

import random

from telechat_ptd.scorers.degrade import degrade as degrade_texts
from telechat_ptd.scorers.reference import normalized, read_texts


def labeled_texts(positive: list[str], negative: list[str] | None = None, degrade: list[str] | None = None,
                  max_docs: int | None = None, seed: int = 0, min_chars: int = 0) -> tuple[list[str], list[str]]:
    """(positive texts, negative texts), both normalized as the pipeline's scorers see them;
    positives shorter than ``min_chars`` (which the length filter removes before any scorer)
    are left out."""
    pos = [t for t in normalized(read_texts(positive)) if len(t) >= min_chars]
    rng = random.Random(seed)
    rng.shuffle(pos)
    if max_docs:
        pos = pos[:max_docs]
    neg = list(normalized(read_texts(negative))) if negative else []
    if degrade:
        half = len(pos) // 2
        pos, source = pos[:half], pos[half:]
        # Normalized again: the pipeline's normalizer repairs some garble before any scorer sees it.
        neg += list(normalized(text for _, text in degrade_texts(source, degrade, seed)))
    if not pos or not neg:
        raise ValueError("need both positive and negative documents (give --negative files, or --degrade to make negatives)")
    return pos, neg
