"""Chat packing: left padding and loss masks exact for batches of several samples."""

from __future__ import annotations

import gzip
import json

import pytest

from telechat_ptd.corpora import peoples_daily_articles
from telechat_ptd.pipeline.cli import main
from telechat_ptd.training.chat import ChatDataset, greedy_bins, pack_chat

DIALOGUES = [
    {"input": "今天北京天气怎么样？", "output": "北京今天晴，最高气温二十五度。"},
    {"turns": [["你好", "你好！有什么可以帮你？"], ["介绍一下长城。", "长城是中国古代的军事防御工程。"]]},
    {"input": "<_user>一加一等于几？<_bot>等于二。<_end><_user>再加一呢？", "output": "等于三。"},
    {"input": "写一句诗。", "output": "床前明月光。"},
    {"input": "太长的问题" * 200, "output": "答"},
]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    (root / "s").mkdir()
    docs = peoples_daily_articles()[:800]
    (root / "s" / "0.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps({"data": d}, ensure_ascii=False) + "\n" for d in docs).encode()))
    assert main(["train-tokenizer", str(root / "s"), "-o", str(root / "tok"), "--vocab-size", "1500"]) == 0
    return root / "tok"


def test_greedy_bins_are_one_pass_and_never_overflow():
    assert greedy_bins([3, 4, 2, 5, 1], 7) == [[0, 1], [2, 3], [4]]
    assert all(sum(x) <= 10 for x in [[[4, 6, 3, 3, 9][i] for i in b] for b in greedy_bins([4, 6, 3, 3, 9], 10)])


def test_left_padding_and_masks_are_exact_in_a_batch(tok_dir, tmp_path):
    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    result = pack_chat(DIALOGUES, tok_dir, tmp_path / "c", max_seq_len=96)
    assert result.too_long == 1 and result.dialogues == 4 and result.samples >= 2
    assert 0 < result.padding_fraction < 1
    pack_chat(DIALOGUES, tok_dir, tmp_path / "w", max_seq_len=96, workers=2)
    for name in ("tokens.npy", "loss_mask.npy", "segments.npy"):
        assert (tmp_path / "w" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()
    ds = ChatDataset(tmp_path / "c")
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=len(ds))))
    assert batch["input_ids"].shape == (len(ds), 96)
    answers = []
    for row in range(len(ds)):
        ids, labels, att, seg = (batch[k][row] for k in ("input_ids", "labels", "attention_mask", "segment_ids"))
        pad = (att == 0).nonzero().flatten().tolist()
        assert pad == list(range(len(pad)))  # all padding on the left
        assert (ids[: len(pad)] == tok.pad_token_id).all() and (labels[: len(pad)] == -100).all()
        for k in seg.unique().tolist():
            if k == 0:
                continue
            where = (seg == k).nonzero().flatten()
            assert batch["position_ids"][row][where].tolist() == list(range(len(where)))  # restart per dialogue
            learned = ids[where][labels[where] != -100]
            answers.append(tok.decode(learned.tolist()))
    expected = ["北京今天晴，最高气温二十五度。<_end>", "你好！有什么可以帮你？<_end>长城是中国古代的军事防御工程。<_end>",
                "等于三。<_end>", "床前明月光。<_end>"]
    assert answers == expected  # exactly the answers and their <_end>, nothing of the prompts


def test_cli_chat_mode_with_weights(tok_dir, tmp_path, capsys):
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "0.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DIALOGUES[:4]))
    (tmp_path / "data.json").write_text(json.dumps({"sft": 2.0}))
    assert main(["pack", "--mode", "chat", "--data-json", str(tmp_path / "data.json"), "--tokenizer", str(tok_dir),
                 "--max-seq-len", "64", "-o", str(tmp_path / "out")]) == 0
    assert "8 dialogues" in capsys.readouterr().out  # weight 2: every dialogue twice
    (tmp_path / "sft" / "1.jsonl").write_text("{broken\n")
    assert main(["pack", "--mode", "chat", "--data-json", str(tmp_path / "data.json"), "--tokenizer", str(tok_dir),
                 "-o", str(tmp_path / "out2")]) == 2
    assert "1.jsonl:1: not JSON" in capsys.readouterr().err
