"""``toxicity``: P(offensive) of a document from a fastText classifier.

The safety stage's model signal. It is the quality classifier's machinery with its own labels,
trained by ``ptd train-fasttext --task toxicity`` on labeled offensive text (COLD: label 1 =
offensive); a word-bag model, because offensive Chinese is carried by its words (slurs, insults
about a region, a gender or a race) and scores at thousands of documents per second.
"""

from __future__ import annotations

from telechat_ptd.scorers.fasttext_quality import FastTextScorer, Labels

SIGNAL = "toxicity"
TOXICITY = Labels("__label__toxic", "__label__ok", SIGNAL)


class ToxicityScorer(FastTextScorer):
    LABELS = TOXICITY
    TASK = "toxicity"
    signals = (SIGNAL,)
