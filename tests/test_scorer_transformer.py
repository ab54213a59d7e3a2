"""Transformer scorers through Beam's RunInference: the reference GPT-2 (trained here on People's
Daily in seconds) and a tiny BERT classifier; windows instead of truncation, length batching."""

from __future__ import annotations

import math
import random

import pytest
from tiny_models import GPT2_WINDOW as WINDOW
from tiny_models import bert_classifier, gpt2_model

from telechat_ptd.scorers.degrade import shuffle
from telechat_ptd.scorers.modelpath import ModelPathError
from telechat_ptd.scorers.reference import normalized, peoples_daily
from telechat_ptd.scorers.transformer import (
    REQUIRED, CausalLMPerplexity, Scorer, SequenceClassifier, length_batches, score_texts, windows,
)



pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def docs() -> list[str]:
    return list(normalized(peoples_daily()[:400]))


@pytest.fixture(scope="module")
def gpt2(docs, tmp_path_factory):
    return gpt2_model(docs[:150], tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="module")
def bert(docs, tmp_path_factory):
    return bert_classifier(docs, tmp_path_factory.mktemp("bert"))


def long_document(docs: list[str], tokens: int, tokenizer) -> str:
    text = ""
    for doc in docs:
        text += doc
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) >= tokens:
            return text
    raise AssertionError("not enough text for a long document")


def test_reference_lm_folder_loads_offline_and_reports_held_out_perplexity(gpt2, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, result = gpt2
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert AutoModelForCausalLM.from_pretrained(out).config.n_positions == WINDOW
    assert len(AutoTokenizer.from_pretrained(out)) == result.vocab_size == 1000
    assert all((out / name).exists() for name in REQUIRED)
    assert result.held_out == 5 and result.documents == 145
    assert 1 < result.held_out_perplexity < 0.5 * result.vocab_size  # well below a uniform guess over the vocabulary
    assert result.history[-1]["losses"]["reference.jsonl"] < result.history[0]["losses"]["reference.jsonl"] - 0.5


def test_shuffled_text_has_higher_perplexity(gpt2, docs):
    held = docs[150:190]  # never trained on
    rng = random.Random(0)
    scorer = Scorer.load(str(gpt2[0]), kind="perplexity", batch_size=8)
    real = [s["gpt2_perplexity"] for s in scorer.score(held)]
    salad = [s["gpt2_perplexity"] for s in scorer.score([shuffle(t, rng) for t in held])]
    assert sum(s > r for r, s in zip(real, salad)) >= 0.85 * len(held)


def test_long_document_is_scored_window_by_window(gpt2, docs):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = gpt2[0]
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    text = long_document(docs, 2000, tok)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    start = model.config.bos_token_id
    total = count = 0.0
    with torch.inference_mode():
        for i in range(0, len(ids), WINDOW - 1):  # each window: the start token, then WINDOW - 1 document tokens
            row = torch.tensor([[start] + ids[i : i + WINDOW - 1]])
            loss = torch.nn.functional.cross_entropy(model(row).logits[0, :-1], row[0, 1:], reduction="sum")
            total += loss.item()
            count += row.size(1) - 1
    assert count == len(ids)
    scored = score_texts(CausalLMPerplexity(str(out), max_tokens=512), [text])[0]["gpt2_perplexity"]  # capped at the model's 64
    assert scored == pytest.approx(math.exp(total / count), rel=1e-5)
    head = tok.decode(ids[: WINDOW - 1])
    assert score_texts(CausalLMPerplexity(str(out)), [head])[0]["gpt2_perplexity"] != pytest.approx(scored, rel=1e-2)


def test_classifier_is_a_token_weighted_mean_over_windows(bert, docs):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(bert)
    model = AutoModelForSequenceClassification.from_pretrained(bert).eval()
    text = long_document(docs, 300, tok)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    cls, sep = tok.convert_tokens_to_ids(["[CLS]", "[SEP]"])
    weighted = 0.0
    with torch.inference_mode():
        for i in range(0, len(ids), 62):  # 64 positions less [CLS] and [SEP]
            piece = ids[i : i + 62]
            weighted += len(piece) * torch.softmax(model(torch.tensor([[cls] + piece + [sep]])).logits[0], -1)[1].item()
    handler = SequenceClassifier(str(bert), signal="toxicity_score")
    assert score_texts(handler, [text]) == [{"toxicity_score": pytest.approx(weighted / len(ids), rel=1e-5)}]


@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_batching_by_length_equals_one_document_at_a_time(kind, gpt2, bert, docs):
    texts = [docs[350][:40], docs[351], docs[352] * 3, "", docs[353][:5], docs[354] + docs[355]]
    handler = CausalLMPerplexity(str(gpt2[0]), batch_tokens=512) if kind == "gpt2" else SequenceClassifier(str(bert), batch_tokens=256)
    model = handler.load_model()
    batched = handler.run_inference(texts, model)
    alone = [handler.run_inference([t], model)[0] for t in texts]
    (signal,) = {name for s in alone for name in s}
    assert batched.pop(3) == alone.pop(3) == {signal: None}  # nothing to score
    assert [s[signal] for s in batched] == [pytest.approx(s[signal], rel=1e-4) for s in alone]


def test_runinference_in_a_pipeline_equals_direct_scoring(gpt2, bert, docs):
    import apache_beam as beam
    from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that

    texts = docs[150:180] + [""]
    ids = [f"doc-{i}" for i in range(len(texts))]
    handlers = {"ppl": CausalLMPerplexity(str(gpt2[0]), batch_size=7), "quality": SequenceClassifier(str(bert), batch_size=7)}
    expected = {name: dict(zip(ids, score_texts(h, texts))) for name, h in handlers.items()}

    def matches(want):
        def check(got):
            got = dict(got)
            assert got.keys() == want.keys()
            for key, signals in want.items():
                assert got[key] == {k: None if v is None else pytest.approx(v, rel=1e-4) for k, v in signals.items()}, key
        return check

    with TestPipeline() as p:
        keyed = p | beam.Create(list(zip(ids, texts)))
        for name, handler in handlers.items():
            assert_that(keyed | f"score {name}" >> RunInference(KeyedModelHandler(handler)), matches(expected[name]), label=f"check {name}")


def test_a_bad_model_path_is_named(tmp_path, gpt2):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelPathError, match=str(missing)):
        CausalLMPerplexity(str(missing)).load_model()
    weights_only = tmp_path / "weights-only"
    weights_only.mkdir()
    (weights_only / "config.json").write_text((gpt2[0] / "config.json").read_text())
    with pytest.raises(ModelPathError, match=f"{weights_only}.*tokenizer_config.json"):
        SequenceClassifier(str(weights_only)).load_model()


def test_windows_cover_every_token_and_batches_respect_the_budget():
    assert windows(list(range(10)), 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert windows([], 4) == []
    lengths = [5, 120, 30, 64, 64, 7, 300]
    groups = length_batches(lengths, 128)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert groups[0] == [6]  # longer than the budget: alone
    assert all(len(g) * max(lengths[i] for i in g) <= 128 for g in groups[1:])
    assert [lengths[g[0]] for g in groups] == sorted((lengths[g[0]] for g in groups), reverse=True)
