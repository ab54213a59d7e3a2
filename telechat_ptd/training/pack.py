"""Pretraining samples from weighted datasets: documents -> tokens + <_end>, concatenated and
cut into ``max_seq_len`` samples, stored as memory-mapped arrays.

Weights follow TeleChat's ``data.json`` (dataset path -> weight): a weight w keeps each
document floor(w) times plus once more with probability frac(w), so 0.3 keeps ~30% of a
dataset and 2.5 repeats it 2.5 times on average. Every token also carries the index of its
dataset (``datasets.bin``), so training can report per-dataset loss and the mix can be checked.
The order of documents is a seeded permutation: the same inputs and seed give the same bytes.
"""

from __future__ import annotations

import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOKEN_DTYPE = np.uint32


@dataclass
class PackResult:
    out: Path
    samples: int
    tokens: int  # in samples
    dropped_tail: int  # tokens after the last full sample
    per_dataset: dict[str, dict]
    seconds: float


def load_data_json(path: str | Path) -> dict[str, float]:
    """TeleChat's data.json: {"dataset path or glob": weight}; paths relative to the file."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"{path}: expected an object of dataset path -> weight")
    out = {}
    for name, weight in spec.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0 or not math.isfinite(weight):
            raise ValueError(f"{path}: weight of {name!r} must be a number >= 0, got {weight!r}")
        out[str(path.parent / name) if not Path(name).is_absolute() else name] = float(weight)
    return out


def repeats(weight: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """How many times each of ``n`` documents is used under ``weight``."""
    whole = math.floor(weight)
    return whole + (rng.random(n) < weight - whole).astype(np.int64)


_TOKENIZER = None


def load_tokenizer(tokenizer_dir: str):
    """Per process: one tokenizer, encoding on one core (workers are the parallelism)."""
    import os

    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from transformers import AutoTokenizer

    global _TOKENIZER
    _TOKENIZER = AutoTokenizer.from_pretrained(tokenizer_dir)
    return _TOKENIZER


def process_tokenizer():
    """The tokenizer ``load_tokenizer`` loaded in this process (a worker's own)."""
    return _TOKENIZER


def _encode(texts: list[str]) -> list[np.ndarray]:
    end = _TOKENIZER.convert_tokens_to_ids("<_end>")
    return [np.array(ids + [end], dtype=TOKEN_DTYPE) for ids in _TOKENIZER(texts, add_special_tokens=False)["input_ids"]]


@contextmanager
def worker_pool(workers: int, tokenizer_dir: str):
    """Processes with a tokenizer each (None for one worker: encode in this process)."""
    if workers <= 1:
        yield None
        return
    context = get_context("fork" if sys.platform.startswith("linux") else "spawn")  # fork: no re-import per worker
    with ProcessPoolExecutor(workers, mp_context=context, initializer=load_tokenizer, initargs=(tokenizer_dir,)) as pool:
        yield pool


def pack(datasets: dict[str, float], tokenizer_dir: str | Path, out_dir: str | Path, max_seq_len: int = 4096,
         seed: int = 0, num_samples: int | None = None, batch: int = 256, workers: int = 1) -> PackResult:
    """Tokenize every dataset (``workers`` processes), apply weights, shuffle documents with
    ``seed``, concatenate and cut. ``num_samples`` stops after that many samples."""
    from telechat_ptd.shards import iter_texts

    started = time.perf_counter()
    tok = load_tokenizer(str(tokenizer_dir))
    end_id = tok.convert_tokens_to_ids("<_end>")
    rng = np.random.default_rng(seed)
    docs: list[np.ndarray] = []
    owner: list[int] = []
    per_dataset: dict[str, dict] = {}
    with worker_pool(workers, str(tokenizer_dir)) as pool:
        for index, (name, weight) in enumerate(datasets.items()):
            stats = per_dataset[name] = {"weight": weight, "documents": 0, "used": 0, "tokens": 0}
            texts = list(iter_texts([name]))
            stats["documents"] = len(texts)
            times = repeats(weight, len(texts), rng)
            kept = [(t, int(k)) for t, k in zip(texts, times) if k]
            chunks = [[t for t, _ in kept[i : i + batch]] for i in range(0, len(kept), batch)]
            encoded = pool.map(_encode, chunks) if pool is not None else map(_encode, chunks)
            counts = iter(k for _, k in kept)
            for arrays in encoded:
                for arr in arrays:
                    k = next(counts)
                    docs += [arr] * k
                    owner += [index] * k
                    stats["used"] += k
                    stats["tokens"] += k * arr.size
    order = rng.permutation(len(docs))
    total = sum(docs[i].size for i in order)
    total = int(total)
    samples = total // max_seq_len if num_samples is None else min(num_samples, total // max_seq_len)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokens = np.lib.format.open_memmap(out / "tokens.npy", mode="w+", dtype=TOKEN_DTYPE, shape=(samples, max_seq_len))
    sources = np.lib.format.open_memmap(out / "datasets.npy", mode="w+", dtype=np.uint16, shape=(samples, max_seq_len))
    flat_t, flat_s = tokens.reshape(-1), sources.reshape(-1)
    pos, need = 0, samples * max_seq_len
    for i in order:
        if pos >= need:
            break
        take = min(docs[i].size, need - pos)
        flat_t[pos : pos + take] = docs[i][:take]
        flat_s[pos : pos + take] = owner[i]
        pos += take
    tokens.flush()
    sources.flush()
    names = list(datasets)
    in_samples = np.bincount(sources.reshape(-1), minlength=len(names)) if samples else np.zeros(len(names), np.int64)
    for name, n in zip(names, in_samples):
        per_dataset[name]["tokens_in_samples"] = int(n)
    meta = {"mode": "pretrain", "max_seq_len": max_seq_len, "samples": samples, "seed": seed, "tokenizer": str(tokenizer_dir),
            "vocab_size": len(tok), "end_id": int(end_id), "datasets": names, "per_dataset": per_dataset}
    (out / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    return PackResult(out, samples, samples * max_seq_len, total - samples * max_seq_len, per_dataset, time.perf_counter() - started)


class PackedDataset:
    """A map-style PyTorch dataset over a pack: item i -> {"input_ids", "labels", "dataset_ids"}
    as int64 tensors (labels = input_ids; the model shifts them)."""

    def __init__(self, path: str | Path):
        path = Path(path)
        self.meta = json.loads((path / "meta.json").read_text())
        self.tokens = np.load(path / "tokens.npy", mmap_mode="r")
        self.sources = np.load(path / "datasets.npy", mmap_mode="r")

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def __getitem__(self, i: int) -> dict:
        import torch

        ids = torch.from_numpy(self.tokens[i].astype(np.int64))
        return {"input_ids": ids, "labels": ids.clone(), "dataset_ids": torch.from_numpy(self.sources[i].astype(np.int64))}
