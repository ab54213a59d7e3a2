"""The small GPT-2 on a pack: per-dataset losses, curriculum re-weighting, the prior."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from telechat_ptd.corpora import peoples_daily_articles
from telechat_ptd.pipeline.cli import main
from telechat_ptd.training.lm import LMConfig, fit_prior, train
from telechat_ptd.training.pack import pack

TINY = dict(n_layer=1, n_embd=32, n_head=2, batch_size=4, eval_every=5, eval_samples=4, lr=1e-2)


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    rng = random.Random(0)
    easy = ["".join(f"今天是星期{rng.choice('一二三四五六日')}，天气{rng.choice(['晴', '阴', '小雨'])}。" for _ in range(12)) for _ in range(150)]
    hard = peoples_daily_articles()[:300]
    for name, docs in (("easy", easy), ("hard", hard)):
        (root / name).mkdir()
        (root / name / "0.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps({"data": d}, ensure_ascii=False) + "\n" for d in docs).encode()))
    assert main(["train-tokenizer", str(root / "easy"), str(root / "hard"), "-o", str(root / "tok"), "--vocab-size", "800"]) == 0
    pack({str(root / "easy"): 1.0, str(root / "hard"): 1.0}, root / "tok", root / "packed", max_seq_len=32, seed=0)
    return root


def test_training_lowers_the_loss_of_every_dataset(packed):
    history = train(packed / "packed", None, LMConfig(steps=30, **TINY))
    first, last = history[0]["losses"], history[-1]["losses"]
    assert set(first) == {"easy", "hard"}
    assert all(last[n] < first[n] - 0.5 for n in first)
    assert last["easy"] < last["hard"]  # the templated text is the easy one
    assert all(e["weights"] == history[0]["weights"] for e in history)  # static: weights never move


def test_training_runs_on_the_resolved_device(packed, meta_device):
    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        train(packed / "packed", None, LMConfig(steps=2, **TINY))


def test_curriculum_moves_weight_to_the_dataset_above_its_reference(packed, tmp_path):
    history = train(packed / "packed", tmp_path / "m", LMConfig(steps=30, curriculum_start=0.0, **TINY), curriculum=True,
                    reference={"easy": 100.0, "hard": 0.0}, weights={"easy": 1, "hard": 1})
    hard = [e["weights"]["hard"] for e in history]
    assert hard[0] == pytest.approx(0.5) and hard[-1] > 0.9
    from transformers import GPT2LMHeadModel

    assert GPT2LMHeadModel.from_pretrained(tmp_path / "m").config.n_layer == 1
    assert len((tmp_path / "m" / "log.jsonl").read_text().splitlines()) == len(history)


def test_prior_is_the_best_loss_of_the_mixtures(packed):
    prior = fit_prior(packed / "packed", LMConfig(steps=10, **TINY))
    assert set(prior) == {"easy", "hard"}
    uniform = train(packed / "packed", None, LMConfig(steps=10, **TINY), weights={"easy": 1, "hard": 1})[-1]["losses"]
    assert all(prior[n] <= uniform[n] + 1e-9 for n in prior)


def test_cli_trains_static_and_curriculum_and_plots(packed, tmp_path, capsys):
    assert main(["train-lm", "--packed", str(packed / "packed"), "-o", str(tmp_path / "out"), "--curriculum", "--steps", "10",
                 "--layers", "1", "--dim", "32", "--heads", "2", "--eval-every", "5", "--batch-size", "4"]) == 0
    assert (tmp_path / "out" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / "static" / "log.jsonl").exists() and (tmp_path / "out" / "curriculum" / "sampler.json").exists()
    assert "final weight" in capsys.readouterr().out
