"""A small GPT-2 trained on a pack, with static or curriculum mixing, on the CPU in minutes
(or on a GPU when there is one, for larger models and longer runs).

The pack's samples are grouped by the dataset most of their tokens come from; the
``CurriculumSampler`` picks a group, then a sample of it. Every ``eval_every`` steps the model's
loss on held-out samples is measured per dataset (token by token, from the pack's per-token
dataset ids): it is logged, and with ``curriculum`` it re-weights the sampler against the
reference losses (``fit_prior``). Static mixing uses the same sampler without updates, so the
two runs differ only in the weights.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from telechat_ptd.training.curriculum import CurriculumSampler


@dataclass
class LMConfig:
    steps: int = 300
    batch_size: int = 8
    lr: float = 3e-3
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    eval_every: int = 25
    eval_samples: int = 16  # per dataset, held out from training
    eta: float = 1.0
    floor: float = 0.05
    # Losses of the first steps say how fast a dataset is learned, not how far it stays from
    # its reference: curriculum updates start after this share of the steps.
    curriculum_start: float = 0.2
    seed: int = 0
    device: str = "auto"  # cuda when torch sees a GPU


class PackGroups:
    """Samples of a pretraining pack grouped by majority dataset, with held-out samples."""

    def __init__(self, path: str | Path, eval_samples: int, seed: int):
        path = Path(path)
        self.meta = json.loads((path / "meta.json").read_text())
        self.tokens = np.load(path / "tokens.npy", mmap_mode="r")
        self.sources = np.load(path / "datasets.npy", mmap_mode="r")
        names = [Path(n).name or n for n in self.meta["datasets"]]
        majority = np.array([np.bincount(row, minlength=len(names)).argmax() for row in self.sources])
        rng = np.random.default_rng(seed)
        self.names = names
        self.train: dict[str, np.ndarray] = {}
        self.eval: dict[str, np.ndarray] = {}
        for k, name in enumerate(names):
            rows = rng.permutation(np.flatnonzero(majority == k))
            if len(rows) < 2:
                continue
            held = min(eval_samples, len(rows) // 4 or 1)
            self.eval[name], self.train[name] = rows[:held], rows[held:]
        if not self.train:
            raise ValueError(f"{path}: no dataset has enough samples to train on")


def _batch(tokens: np.ndarray, rows, device):
    import torch

    return torch.from_numpy(np.asarray(tokens[np.sort(rows)], dtype=np.int64)).to(device)


def eval_losses(model, groups: PackGroups) -> dict[str, float]:
    """Mean next-token loss per dataset over the held-out samples, attributed token by token."""
    import torch

    totals = np.zeros(len(groups.names))
    counts = np.zeros(len(groups.names))
    model.eval()
    with torch.inference_mode():
        rows = np.concatenate(list(groups.eval.values()))
        for start in range(0, len(rows), 16):
            part = np.sort(rows[start : start + 16])
            ids = _batch(groups.tokens, part, model.device)
            logits = model(ids).logits[:, :-1]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), reduction="none")
            owner = np.asarray(groups.sources[part], dtype=np.int64)[:, 1:].reshape(-1)
            np.add.at(totals, owner, loss.float().cpu().numpy())
            np.add.at(counts, owner, 1)
    model.train()
    return {name: float(totals[k] / counts[k]) for k, name in enumerate(groups.names) if counts[k]}


def train(pack_dir: str | Path, out_dir: str | Path | None, cfg: LMConfig, curriculum: bool = False,
          reference: dict[str, float] | None = None, weights: dict[str, float] | None = None, log=None) -> list[dict]:
    """Train; returns the log (one entry per evaluation: step, losses, weights). Saves the model
    and log.jsonl into ``out_dir`` when given."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from telechat_ptd.device import resolve_device

    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    groups = PackGroups(pack_dir, cfg.eval_samples, cfg.seed)
    sizes = {n: len(r) for n, r in groups.train.items()}
    start_weights = weights or sizes  # static default: the pack's own mix
    sampler = CurriculumSampler(sizes, {n: start_weights.get(n, 0.0) for n in sizes}, reference, cfg.eta, cfg.floor, cfg.seed)
    model = GPT2LMHeadModel(GPT2Config(
        vocab_size=groups.meta["vocab_size"], n_positions=groups.meta["max_seq_len"], n_embd=cfg.n_embd,
        n_layer=cfg.n_layer, n_head=cfg.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=groups.meta["end_id"], eos_token_id=groups.meta["end_id"], loss_type="ForCausalLM",
    )).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    warm = max(1, cfg.steps // 10)  # linear warm-up, then cosine decay
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, cfg.steps - warm)))
    )
    history: list[dict] = []
    started = time.perf_counter()
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            losses = eval_losses(model, groups)
            if curriculum and step >= cfg.curriculum_start * cfg.steps and step:
                sampler.update(losses)
            entry = {"step": step, "losses": losses, "weights": sampler.current_weights(), "seconds": time.perf_counter() - started}
            history.append(entry)
            if log is not None:
                log(f"step {step:5d}  " + "  ".join(f"{n} {v:.3f} (w {entry['weights'].get(n, 0):.2f})" for n, v in losses.items()))
        if step == cfg.steps:
            break
        picks = [next(sampler) for _ in range(cfg.batch_size)]
        ids = _batch(groups.tokens, [groups.train[name][i] for name, i in picks], model.device)
        loss = model(ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
    if out_dir is not None:
        out = Path(out_dir)
        model.save_pretrained(out)
        (out / "log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in history))
        (out / "sampler.json").write_text(json.dumps(sampler.state_dict()))
    return history


def fit_prior(pack_dir: str | Path, cfg: LMConfig, log=None) -> dict[str, float]:
    """Reference loss per dataset: runs of the same budget (``cfg.steps``) on several mixtures
    (uniform, and each dataset at 70%), taking for each dataset the lowest final loss any
    mixture reached: what the model can attain on it at this budget, so a dataset whose loss
    stays above its reference is one the mix under-serves."""
    groups = PackGroups(pack_dir, cfg.eval_samples, cfg.seed)
    names = list(groups.train)
    mixtures = [dict.fromkeys(names, 1.0)]
    if len(names) > 1:
        for focus in names:
            mixtures.append({n: (0.7 if n == focus else 0.3 / (len(names) - 1)) for n in names})
    best: dict[str, float] = {}
    for mix in mixtures:
        final = train(pack_dir, None, cfg, weights=mix)[-1]["losses"]
        if log is not None:
            log("mixture " + ", ".join(f"{n} {w:.2f}" for n, w in mix.items()) + " -> " + ", ".join(f"{n} {v:.3f}" for n, v in final.items()))
        for n, v in final.items():
            best[n] = min(best.get(n, float("inf")), v)
    return best


def plot(static: list[dict], curriculum: list[dict], path: str | Path) -> None:
    """Per-dataset eval loss (static dashed, curriculum solid) and the curriculum's weights."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(static[0]["losses"])
    for i, name in enumerate(names):
        color = f"C{i}"
        a.plot([e["step"] for e in static], [e["losses"][name] for e in static], "--", color=color, label=f"{name} static")
        a.plot([e["step"] for e in curriculum], [e["losses"][name] for e in curriculum], "-", color=color, label=f"{name} curriculum")
        b.plot([e["step"] for e in curriculum], [e["weights"].get(name, 0) for e in curriculum], color=color, label=name)
    a.set_xlabel("step")
    a.set_ylabel("held-out loss")
    a.legend(fontsize=8)
    a.set_title("per-dataset loss")
    b.set_xlabel("step")
    b.set_ylabel("sampling weight")
    b.set_title("curriculum weights")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
