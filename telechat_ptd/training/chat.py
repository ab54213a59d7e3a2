"""Chat (SFT) samples: dialogues packed greedily into left-padded fixed-length samples, with a
loss mask over the answers and their ``<_end>``.

A record is ``{"input": str, "output": str}`` (one turn; ``input`` may already hold earlier
turns marked with ``<_user>``/``<_bot>``, as TeleChat's data does) or ``{"turns": [[user, bot],
...]}`` (every answer is learned). Compared with TeleChat's original packing script:

- the mask is an array per sample, so it is right for any batch size (the original built one
  mask that was only right for batch size 1);
- padding is marked: ``segments`` is 0 on padding and k on the k-th dialogue of a sample, so
  the attention mask excludes padding and a model can keep dialogues from attending to each
  other (block-diagonal attention), with positions restarting per dialogue;
- packing is one pass (a dialogue joins the current sample if it fits, else starts the next),
  not the original's quadratic search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from telechat_ptd.training.pack import TOKEN_DTYPE, load_tokenizer, process_tokenizer, repeats, worker_pool


@dataclass
class ChatPackResult:
    out: Path
    samples: int
    dialogues: int
    too_long: int  # dialogues longer than a sample, left out and counted
    padding_fraction: float


def encode_dialogue(record: dict, tok) -> tuple[list[int], list[int]]:
    """(token ids, loss mask) of one record: <_user> q <_bot> a <_end> per turn; the mask is 1 on
    answer tokens and their <_end>."""
    ids_of = lambda text: tok.encode(text, add_special_tokens=False)  # noqa: E731
    user, bot, end = (tok.convert_tokens_to_ids(t) for t in ("<_user>", "<_bot>", "<_end>"))
    if "turns" in record:
        turns = record["turns"]
    elif "input" in record and "output" in record:
        turns = [[record["input"], record["output"]]]
    else:
        raise ValueError(f"a chat record needs input/output or turns, got fields {sorted(record)}")
    ids: list[int] = []
    mask: list[int] = []
    for question, answer in turns:
        prompt = ([] if str(question).startswith("<_user>") else [user]) + ids_of(question) + [bot]
        reply = ids_of(answer) + [end]
        ids += prompt + reply
        mask += [0] * len(prompt) + [1] * len(reply)
    return ids, mask


def weighted_records(datasets: dict[str, float], seed: int = 0) -> list[dict]:
    """Chat records of every dataset (jsonl files, folders, globs), each used as often as its
    weight says (see ``pack.repeats``), in a seeded shuffled order."""
    from telechat_ptd.shards import expand, iter_lines

    rng = np.random.default_rng(seed)
    records: list[dict] = []
    for name, weight in datasets.items():
        rows = []
        for path in expand([name]):
            for n, line in enumerate(iter_lines(path), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as exc:
                        raise ValueError(f"{path}:{n}: not JSON: {exc}") from None
        for row, times in zip(rows, repeats(weight, len(rows), rng)):
            records += [row] * int(times)
    return [records[i] for i in rng.permutation(len(records))]


def greedy_bins(lengths: list[int], capacity: int) -> list[list[int]]:
    """One pass: each item joins the current bin if it fits, else opens the next."""
    bins: list[list[int]] = []
    used = capacity + 1
    for i, n in enumerate(lengths):
        if used + n > capacity:
            bins.append([])
            used = 0
        bins[-1].append(i)
        used += n
    return bins


def _encode_chunk(records: list[dict]) -> list[tuple[list[int], list[int]]]:
    return [encode_dialogue(r, process_tokenizer()) for r in records]


def pack_chat(records: list[dict], tokenizer_dir: str | Path, out_dir: str | Path, max_seq_len: int = 4096,
              workers: int = 1, batch: int = 256) -> ChatPackResult:
    """Encode (``workers`` processes), pack greedily in record order, write the arrays."""
    tok = load_tokenizer(str(tokenizer_dir))
    pad = tok.convert_tokens_to_ids("<_pad>")
    chunks = [records[i : i + batch] for i in range(0, len(records), batch)]
    with worker_pool(workers, str(tokenizer_dir)) as pool:
        encoded = [e for part in (pool.map(_encode_chunk, chunks) if pool is not None else map(_encode_chunk, chunks)) for e in part]
    fitting = [e for e in encoded if len(e[0]) <= max_seq_len]
    bins = greedy_bins([len(ids) for ids, _ in fitting], max_seq_len)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokens = np.full((len(bins), max_seq_len), pad, dtype=TOKEN_DTYPE)
    loss = np.zeros((len(bins), max_seq_len), dtype=np.uint8)
    segments = np.zeros((len(bins), max_seq_len), dtype=np.uint16)
    for row, members in enumerate(bins):
        pos = max_seq_len - sum(len(fitting[i][0]) for i in members)  # left padding
        for k, i in enumerate(members, 1):
            ids, mask = fitting[i]
            tokens[row, pos : pos + len(ids)] = ids
            loss[row, pos : pos + len(ids)] = mask
            segments[row, pos : pos + len(ids)] = k
            pos += len(ids)
    np.save(out / "tokens.npy", tokens)
    np.save(out / "loss_mask.npy", loss)
    np.save(out / "segments.npy", segments)
    padding = float((segments == 0).mean()) if len(bins) else 0.0
    meta = {"mode": "chat", "max_seq_len": max_seq_len, "samples": len(bins), "dialogues": len(fitting),
            "too_long": len(encoded) - len(fitting), "padding_fraction": padding, "tokenizer": str(tokenizer_dir)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    return ChatPackResult(out, len(bins), len(fitting), len(encoded) - len(fitting), padding)


class ChatDataset:
    """Map-style PyTorch dataset over a chat pack: input_ids, labels (-100 off the answers),
    attention_mask (0 on padding), position_ids (restarting per dialogue) and segment_ids."""

    def __init__(self, path: str | Path):
        path = Path(path)
        self.tokens = np.load(path / "tokens.npy", mmap_mode="r")
        self.loss = np.load(path / "loss_mask.npy", mmap_mode="r")
        self.segments = np.load(path / "segments.npy", mmap_mode="r")

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def __getitem__(self, i: int) -> dict:
        import torch

        ids = self.tokens[i].astype(np.int64)
        seg = self.segments[i].astype(np.int64)
        starts = np.r_[True, seg[1:] != seg[:-1]]
        first = np.maximum.accumulate(np.where(starts, np.arange(seg.size), 0))
        positions = np.where(seg > 0, np.arange(seg.size) - first, 0)
        labels = np.where(self.loss[i] > 0, ids, -100)
        return {
            "input_ids": torch.from_numpy(ids), "labels": torch.from_numpy(labels),
            "attention_mask": torch.from_numpy((seg > 0).astype(np.int64)),
            "position_ids": torch.from_numpy(positions), "segment_ids": torch.from_numpy(seg),
        }
