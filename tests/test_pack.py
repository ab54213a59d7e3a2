"""Pretraining packing: weights, fixed-length samples, determinism, the PyTorch dataset."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from telechat_ptd.corpora import english_docs, peoples_daily_articles
from telechat_ptd.pipeline.cli import main
from telechat_ptd.training.pack import PackedDataset, load_data_json, pack, repeats


def write_shard(path, docs):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps({"data": d}, ensure_ascii=False) + "\n" for d in docs).encode()))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    news = peoples_daily_articles()[:400]
    english = english_docs()[:200]
    reviews = [a[:60] for a in peoples_daily_articles()[400:800]]
    write_shard(root / "news" / "0.jsonl.gz", news)
    write_shard(root / "english" / "0.jsonl.gz", english)
    write_shard(root / "short" / "0.jsonl.gz", reviews)
    tok = root / "tok"
    assert main(["train-tokenizer", str(root / "news"), str(root / "english"), "-o", str(tok), "--vocab-size", "2000"]) == 0
    (root / "data.json").write_text(json.dumps({"news": 1.0, "english": 2.5, "short": 0.3}))
    return root, tok, {"news": news, "english": english, "short": reviews}


def test_weights_keep_and_repeat_documents():
    rng = np.random.default_rng(0)
    assert (repeats(1.0, 1000, rng) == 1).all()
    assert (repeats(0.0, 1000, rng) == 0).all()
    r = repeats(2.5, 100_000, rng)
    assert set(np.unique(r)) == {2, 3} and abs(r.mean() - 2.5) < 0.01
    r = repeats(0.3, 100_000, rng)
    assert set(np.unique(r)) == {0, 1} and abs(r.mean() - 0.3) < 0.01


def test_pack_cuts_full_samples_in_the_weighted_mix(setup, tmp_path):
    root, tok, docs = setup
    result = pack(load_data_json(root / "data.json"), tok, tmp_path / "p", max_seq_len=256, seed=1)
    stats = result.per_dataset
    news, english, short = (stats[str(root / n)] for n in ("news", "english", "short"))
    assert news["used"] == 400
    assert 2 * 200 <= english["used"] <= 3 * 200 and abs(english["used"] / 200 - 2.5) < 0.2
    assert abs(short["used"] / 400 - 0.3) < 0.08  # binomial(400, 0.3): 4.6 sd
    ds = PackedDataset(tmp_path / "p")
    assert len(ds) == result.samples > 0
    item = ds[0]
    assert item["input_ids"].shape == (256,) and item["dataset_ids"].shape == (256,)
    # token shares in the samples follow the used tokens (only the dropped tail differs)
    total_used = sum(s["tokens"] for s in stats.values())
    for s in stats.values():
        assert abs(s["tokens_in_samples"] / result.tokens - s["tokens"] / total_used) < 0.01
    # documents are whole and separated by <_end>: decoding the stream gives the texts back
    from transformers import AutoTokenizer

    t = AutoTokenizer.from_pretrained(str(tok))
    stream = t.decode(np.load(tmp_path / "p" / "tokens.npy").reshape(-1)[: 256 * 8].tolist())
    pieces = stream.split("<_end>")[1:-1]
    assert pieces and all(p in docs["news"] or p in docs["english"] or p in docs["short"] for p in pieces)


def test_pack_is_deterministic_for_a_seed(setup, tmp_path):
    root, tok, _ = setup
    spec = load_data_json(root / "data.json")
    a = pack(spec, tok, tmp_path / "a", max_seq_len=128, seed=7)
    b = pack(spec, tok, tmp_path / "b", max_seq_len=128, seed=7)
    pack(spec, tok, tmp_path / "c", max_seq_len=128, seed=8)
    pack(spec, tok, tmp_path / "w", max_seq_len=128, seed=7, workers=2)
    assert (tmp_path / "w" / "tokens.npy").read_bytes() == (tmp_path / "a" / "tokens.npy").read_bytes()  # workers change nothing
    assert (tmp_path / "a" / "tokens.npy").read_bytes() == (tmp_path / "b" / "tokens.npy").read_bytes()
    assert (tmp_path / "a" / "tokens.npy").read_bytes() != (tmp_path / "c" / "tokens.npy").read_bytes()
    assert a.samples == b.samples


def test_cli_and_bad_data_json(setup, tmp_path, capsys):
    root, tok, _ = setup
    assert main(["pack", "--data-json", str(root / "data.json"), "--tokenizer", str(tok), "--max-seq-len", "64",
                 "-o", str(tmp_path / "p"), "--num-samples", "10"]) == 0
    assert np.load(tmp_path / "p" / "tokens.npy").shape == (10, 64)
    assert "tokens/s" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text(json.dumps({"news": -1}))
    assert main(["pack", "--data-json", str(tmp_path / "bad.json"), "--tokenizer", str(tok), "-o", str(tmp_path / "q")]) == 2
    assert "weight of 'news' must be a number >= 0" in capsys.readouterr().err
