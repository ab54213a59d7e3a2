"""The BERT quality classifier's training: a tiny BERT pretrained here, fine-tuned, reloaded."""

from __future__ import annotations

import csv
import json
import math
import re

import pytest

from telechat_ptd.scorers import bert_train, labeled
from telechat_ptd.scorers.degrade import degrade
from telechat_ptd.scorers.reference import normalized, peoples_daily

TINY = dict(vocab_size=2000, max_len=64, steps=20, batch_size=8, log_every=10)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def docs() -> list[str]:
    return peoples_daily()


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, docs) -> bert_train.PretrainResult:
    return bert_train.pretrain_mlm(normalized(docs[:300]), tmp_path_factory.mktemp("pretrained"), log=lambda _: None, **TINY)


@pytest.fixture(scope="module")
def easy(docs) -> tuple[list[str], list[str]]:
    """Real documents against boilerplate-only and garbled pages, as the scorers see them."""
    negative = [text for _, text in degrade(docs[400:520], kinds=["boilerplate", "garble"])]
    return list(normalized(docs[300:400])), list(normalized(negative))


def _fine_tune(texts, out, **options):
    defaults = dict(held_out=0.25, epochs=2, max_len=64, batch_size=8, log=lambda _: None)
    return bert_train.fine_tune(*texts, out, **{**defaults, **options})


def test_pretrain_saves_a_loadable_masked_lm(pretrained):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained.path)
    model = AutoModelForMaskedLM.from_pretrained(pretrained.path)
    assert (pretrained.path / "model.safetensors").is_file()
    assert tokenizer.tokenize("人民日报") == ["人", "民", "日", "报"]  # BERT's Chinese handling
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 128
    assert model.config.max_position_embeddings == 64  # no position the pretraining never trained
    assert pretrained.loss < math.log(pretrained.vocab_size) - 0.3  # learned more than a uniform guess


def test_vocabulary_spells_rare_words_in_characters():
    tokenizer = bert_train.train_tokenizer(["Hello hello HELLO 世界", "世界，人"], vocab_size=100, max_len=32)
    ids = tokenizer.get_vocab()
    vocab = sorted(ids, key=ids.get)
    assert vocab[: len(bert_train.SPECIAL_TOKENS)] == bert_train.SPECIAL_TOKENS
    assert "人" not in vocab  # seen once
    assert tokenizer.tokenize("hello Hell 世界") == ["hello", "h", "##e", "##l", "##l", "世", "界"]
    assert tokenizer.tokenize("人") == ["[UNK]"]


def test_pretraining_is_deterministic(tmp_path, docs, pretrained):
    again = bert_train.pretrain_mlm(normalized(docs[:300]), tmp_path, log=lambda _: None, **TINY)
    assert again.loss == pretrained.loss


def test_fine_tuned_classifier_separates_real_from_degraded(tmp_path, easy, pretrained, docs):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    lines: list[str] = []
    result = _fine_tune(easy, tmp_path / "clf", pretrained_dir=pretrained.path, log=lines.append)
    assert result.pretrained is None  # reused, not pretrained again
    assert any("reusing" in line for line in lines) and any("step" in line and "loss" in line for line in lines)
    assert result.held_out_examples == 55 and result.train_examples == 165
    assert result.roc_auc > 0.8

    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "clf")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "clf")
    assert model.config.id2label == {0: "lq", 1: "hq"}
    assert tokenizer.model_max_length == 64
    assert (tmp_path / "clf" / "model.safetensors").is_file()
    unseen = list(normalized(docs[600:620]))
    real = bert_train.predict(model, tokenizer, unseen, 64)
    junk = bert_train.predict(model, tokenizer, list(normalized(t for _, t in degrade(unseen, ["boilerplate"]))), 64)
    assert sum(real) / len(real) > sum(junk) / len(junk) + 0.2


def test_local_checkpoint_as_base(tmp_path, easy, pretrained):
    result = _fine_tune(easy, tmp_path, base=str(pretrained.path), epochs=1, max_len=100)
    assert result.base == str(pretrained.path) and result.pretrained is None
    assert not (tmp_path / "pretrained").exists()
    assert (tmp_path / "config.json").is_file()
    assert json.loads((tmp_path / "metrics.json").read_text())["max_len"] == 64  # the checkpoint's positions


def test_without_base_pretrains_into_out_dir(tmp_path, docs):
    positive, negative = docs[:20], [t for _, t in degrade(docs[20:40], ["garble"])]
    result = bert_train.fine_tune(positive, negative, tmp_path / "out", reference_texts=docs[40:100], epochs=1,
                                  batch_size=8, pretrain_steps=3, label_names=("ok", "toxic"), log=lambda _: None)
    assert result.pretrained is not None and result.pretrained.documents == 60
    assert result.base == str(tmp_path / "out" / "pretrained")
    assert (tmp_path / "out" / "pretrained" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "out" / "config.json").read_text())["id2label"] == {"0": "ok", "1": "toxic"}


def test_a_class_needs_two_documents(tmp_path, docs):
    with pytest.raises(ValueError, match="negative: 1 non-empty documents; need at least 2"):
        bert_train.fine_tune(docs[:5], ["垃圾", " "], tmp_path, base="unused", log=lambda _: None)


def test_csv_columns_are_parameters(tmp_path):
    path = tmp_path / "cold.csv"
    path.write_text("\ufeff,split,topic,label,TEXT\n1,train,race,1,\"骂人的话,\n第二行\"\n2,train,region,0,正常的话\n", encoding="utf-8")
    assert labeled.read_labeled_csv(path, text_column="TEXT") == (["骂人的话,\n第二行"], ["正常的话"])


def test_csv_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\n\"两行\n文本\",1\n好文本,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:4: label '2' in column 'label' is not 0 or 1")):
        labeled.read_labeled_csv(path)
    with pytest.raises(ValueError, match=re.escape(f"{path}:1: no column 'TEXT' in the header (columns: 'text', 'label')")):
        labeled.read_labeled_csv(path, text_column="TEXT")
    path.write_text("text,label\n好文本,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}: no row has label 0; a classifier needs both labels")):
        labeled.read_labeled_csv(path)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        labeled.read_labeled_csv(tmp_path / "missing.csv")


def test_written_csv_reads_back(tmp_path):
    path = tmp_path / "sub" / "labeled.csv"
    assert labeled.write_labeled_csv(path, ["好，\"引号\"\n第二段"], ["垃圾"]) == 2
    assert labeled.read_labeled_csv(path) == (["好，\"引号\"\n第二段"], ["垃圾"])
    with open(path, encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == ["text", "label"]


def test_reads_cold_format(shared_data):
    offensive, other = labeled.read_labeled_csv(shared_data / "labeled" / "cold_dev.csv", text_column="TEXT")
    assert len(offensive) > 2000 and len(other) > 2000


def test_unloadable_base_names_it(tmp_path, easy):
    from telechat_ptd.scorers.modelpath import ModelPathError

    with pytest.raises(ModelPathError, match=f"base model {tmp_path / 'missing'}: cannot load"):
        _fine_tune(easy, tmp_path / "out", base=str(tmp_path / "missing"))
