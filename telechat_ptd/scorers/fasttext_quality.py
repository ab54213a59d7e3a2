"""fastText quality classifier: P(high quality) of a document from its bag of words and word pairs.

Trained on real documents (``__label__hq``) against low-quality ones (``__label__lq``: degraded
reference text, labeled dirty pages, spam), as CCNet and DCLM filter with fastText. A document is
one line of words: jieba's segmentation for Chinese, whitespace tokens otherwise (the same
``degrade.words`` that makes the degradations), so Chinese word pairs carry word order.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from telechat_ptd.scorers.degrade import words
from telechat_ptd.scorers.labeled import split_held_out
from telechat_ptd.scorers.metrics import binary_metrics
from telechat_ptd.scorers.modelpath import ModelPathError, local_copy

HQ = "__label__hq"
LQ = "__label__lq"
SIGNAL = "fasttext_quality"


@dataclass(frozen=True)
class Labels:
    """A binary task: the label whose probability is the signal, and the other one. The names
    are stored in the model, so a scorer refuses a model trained for another task."""

    positive: str
    negative: str
    signal: str


QUALITY = Labels(HQ, LQ, SIGNAL)
UNBALANCED = 3.0  # a class this many times larger than the other is reported
# The fastText wheel initialises the input matrix in ten blocks, one per training thread, and
# leaves the blocks no thread reaches as uninitialised memory (NaN at random): 11 threads (10
# blocks plus the remainder of the division) cover all of it.
MIN_THREADS = 11


def fasttext_line(text: str) -> str:
    """``text`` as one line of space-separated words, the form fastText trains on and predicts."""
    return " ".join(words(text))


def _fasttext():
    import fasttext

    fasttext.FastText.eprint = lambda *_: None  # load_model's warning about a removed API, on every load
    return fasttext


@dataclass
class FastTextTrainResult:
    path: Path
    train_pos: int
    train_neg: int
    held_out_pos: int
    held_out_neg: int
    precision: float  # of the positive class at P(positive) >= 0.5, on the held-out split
    recall: float
    f1: float
    roc_auc: float
    seconds: float


def train_fasttext(
    positive: Iterable[str],
    negative: Iterable[str],
    out_path: str | Path,
    *,
    held_out: float = 0.1,
    seed: int = 0,
    epoch: int = 10,
    lr: float = 0.5,
    word_ngrams: int = 2,
    dim: int = 64,
    bucket: int = 200_000,
    min_count: int = 1,
    balance: bool = False,
    labels: Labels = QUALITY,
    log: Callable[[str], None] = print,
) -> FastTextTrainResult:
    """Train on ``positive`` (high quality) vs ``negative`` documents, normalized as the pipeline's
    scorers see them (``labeled.labeled_texts``, ``reference.normalized``), save the model to
    ``out_path`` (.bin) and measure it on a ``held_out`` fraction of each class, never trained on.
    ``balance`` subsamples the larger class to the size of the smaller. ``labels`` names the
    classes (``positive`` is the class whose probability the model scores). fastText trains with at
    least ``MIN_THREADS`` threads (lock-free), so runs with the same ``seed`` differ slightly."""
    if not 0 < held_out < 1:
        raise ValueError(f"held_out must be between 0 and 1, got {held_out}")
    started = time.perf_counter()
    rng = random.Random(seed)
    classes = {}
    pos, neg = labels.positive, labels.negative
    for label, name, texts in ((pos, "positive", positive), (neg, "negative", negative)):
        lines = [line for line in map(fasttext_line, texts) if line]
        classes[label] = (name, lines)
    n_pos, n_neg = len(classes[pos][1]), len(classes[neg][1])
    if balance and n_pos and n_neg:
        n = min(n_pos, n_neg)
        classes = {label: (name, rng.sample(lines, n)) for label, (name, lines) in classes.items()}
        log(f"balanced: {n:,} documents per class (of {n_pos:,} positive, {n_neg:,} negative)")
    elif max(n_pos, n_neg) > UNBALANCED * max(1, min(n_pos, n_neg)):
        log(f"warning: unbalanced classes ({n_pos:,} positive, {n_neg:,} negative documents); "
            "the model leans toward the larger one (balance=True subsamples it)")
    train, test = {}, {}
    for label, (name, lines) in classes.items():
        train[label], test[label] = split_held_out(lines, held_out, rng, name)
    rows = [f"{label} {line}" for label, lines in train.items() for line in lines]
    rng.shuffle(rows)  # SGD with a decaying learning rate must not see one class last
    fasttext = _fasttext()
    with tempfile.TemporaryDirectory(prefix="ptd-fasttext-") as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
        try:
            model = fasttext.train_supervised(
                input=str(train_file), epoch=epoch, lr=lr, wordNgrams=word_ngrams, dim=dim, bucket=bucket,
                minCount=min_count, thread=max(MIN_THREADS, os.cpu_count() or 1), seed=seed, verbose=0,
            )
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
            raise ValueError(f"fastText training diverged (NaN) at lr={lr}; "
                             f"try a lower learning rate, e.g. --lr {lr / 5:g}") from None
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    scorer = FastTextScorer(model, labels)
    p_pos, p_neg = scorer.probability(test[pos]), scorer.probability(test[neg])
    metrics = binary_metrics([1] * len(p_pos) + [0] * len(p_neg), p_pos + p_neg)
    precision, recall = metrics["precision"], metrics["recall"]
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FastTextTrainResult(
        out, len(train[pos]), len(train[neg]), len(test[pos]), len(test[neg]),
        precision, recall, f1, metrics["roc_auc"], time.perf_counter() - started,
    )


class FastTextScorer:
    """``fasttext_quality``: P(hq) of the whole document; None for a text without words."""

    REQUIRED: tuple[str, ...] = ()
    LABELS = QUALITY
    TASK = "quality"
    signals = (SIGNAL,)

    def __init__(self, model, labels: Labels | None = None) -> None:
        self.model = model
        self.labels = labels or self.LABELS

    @classmethod
    def load(cls, path: str) -> FastTextScorer:
        local = local_copy(path)
        name = f"fastText {cls.TASK} model"
        try:
            model = _fasttext().load_model(local)
        except ValueError as exc:
            raise ModelPathError(f"{name}: cannot load {path} ({exc})") from None
        labels = set(model.get_labels())
        expected = {cls.LABELS.positive, cls.LABELS.negative}
        if labels != expected:
            raise ModelPathError(f"{name}: {path} has labels {', '.join(sorted(labels))}; expected "
                                 f"{' and '.join(sorted(expected))} (a model from ptd train-fasttext --task {cls.TASK})")
        return cls(model)

    def probability(self, lines: list[str]) -> list[float]:
        """P(positive label) of non-empty ``fasttext_line``s, predicted as one batch."""
        labels, probs = self.model.predict(lines, k=-1)
        # fastText's probabilities can exceed 1 by rounding
        positive = self.labels.positive
        return [min(1.0, float(dict(zip(ls, ps)).get(positive, 0.0))) for ls, ps in zip(labels, probs)]

    def score(self, texts: list[str]) -> list[dict[str, float | str | None]]:
        signal = self.labels.signal
        lines = [fasttext_line(text) for text in texts]
        present = [i for i, line in enumerate(lines) if line]
        out: list[dict[str, float | str | None]] = [{signal: None} for _ in texts]
        if present:
            for i, p in zip(present, self.probability([lines[i] for i in present])):
                out[i][signal] = p
        return out
