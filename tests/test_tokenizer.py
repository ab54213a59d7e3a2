"""TeleChat's byte-level BPE: trained here in seconds, loaded offline by AutoTokenizer."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.corpora import english_docs, peoples_daily_articles
from telechat_ptd.pipeline.cli import main
from telechat_ptd.training.tokenizer import SPECIAL_TOKENS, special_tokens


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    shards = tmp_path_factory.mktemp("shards")
    docs = peoples_daily_articles()[:1500] + english_docs()[:300]
    (shards / "0.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps({"data": d}, ensure_ascii=False) + "\n" for d in docs).encode()))
    out = tmp_path_factory.mktemp("tok")
    assert main(["train-tokenizer", str(shards), "-o", str(out), "--vocab-size", "3000"]) == 0
    return out


@pytest.fixture(scope="module")
def tok(tokenizer_dir, monkeypatch_module):
    from transformers import AutoTokenizer

    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")  # a hub lookup would fail the load
    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_special_tokens_are_single_ids_in_order(tok):
    assert tok.convert_tokens_to_ids(special_tokens()) == list(range(len(special_tokens())))
    assert (tok.unk_token, tok.bos_token, tok.eos_token, tok.pad_token) == ("<_unk>", "<_start>", "<_end>", "<_pad>")
    assert len(tok) == 3000
    text = "<_user>今天天气怎么样？<_bot>晴，最高气温25度。<_end>"
    ids = tok.encode(text, add_special_tokens=False)
    assert ids[0] == SPECIAL_TOKENS.index("<_user>") and ids[-1] == SPECIAL_TOKENS.index("<_end>")
    assert tok.decode(ids) == text


def test_digits_are_split_one_by_one(tok):
    pieces = tok.convert_ids_to_tokens(tok.encode("1998年12345元", add_special_tokens=False))
    digits = [p for p in pieces if p.strip("Ġ").isdigit()]
    assert digits == list("199812345")


def test_chinese_merges_were_learned(tok):
    text = "中国人民代表大会在北京举行会议，讨论经济发展问题。"
    assert len(tok.encode(text, add_special_tokens=False)) < len(text.encode("utf-8")) / 2


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_any_text_round_trips(tok, text):
    if any(s in text for s in special_tokens()):
        return
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
