"""fastText quality classifier: trained on People's Daily against its own degradations."""

from __future__ import annotations

import pytest

from telechat_ptd.scorers.degrade import degrade, words
from telechat_ptd.scorers.fasttext_quality import (
    HQ, LQ, MIN_THREADS, SIGNAL, FastTextScorer, fasttext_line, train_fasttext,
)
from telechat_ptd.scorers.metrics import roc_auc
from telechat_ptd.scorers.modelpath import ModelPathError
from telechat_ptd.scorers.reference import normalized, peoples_daily
from tests.conftest import EN_ARTICLE, ZH_NEWS

KINDS = ["shuffle", "stuff", "boilerplate"]


@pytest.fixture(scope="module")
def docs() -> list[str]:
    """People's Daily as the scorers see it (the first 1,750 documents)."""
    return list(normalized(peoples_daily()[:1750]))


def degraded(texts: list[str], kinds: list[str] = KINDS, seed: int = 0) -> list[str]:
    return list(normalized(text for _, text in degrade(texts, kinds, seed)))


@pytest.fixture(scope="module")
def negatives(docs) -> list[str]:
    return degraded(docs[800:1600])


@pytest.fixture(scope="module")
def trained(docs, negatives, tmp_path_factory):
    path = tmp_path_factory.mktemp("fasttext") / "quality.bin"
    return train_fasttext(docs[:800], negatives, path, log=lambda _: None)


def test_held_out_metrics(trained, negatives):
    assert trained.path.is_file()
    assert trained.train_pos + trained.held_out_pos == 800
    assert trained.train_neg + trained.held_out_neg == len(negatives) > 750  # a garbled page may normalize to nothing
    assert trained.held_out_pos == 80
    for value in (trained.precision, trained.recall, trained.f1, trained.roc_auc):
        assert 0.0 <= value <= 1.0
    assert trained.roc_auc > 0.9
    assert trained.f1 > 0.8


def test_loaded_model_ranks_unseen_real_documents_above_degraded_ones(trained, docs):
    scorer = FastTextScorer.load(str(trained.path))
    assert scorer.signals == (SIGNAL,) and scorer.REQUIRED == ()
    unseen = docs[1600:1750]
    real = [s[SIGNAL] for s in scorer.score(unseen)]
    for kind in KINDS:
        bad = [s[SIGNAL] for s in scorer.score(degraded(unseen, [kind], seed=1))]
        assert roc_auc([1] * len(real) + [0] * len(bad), real + bad) > 0.9, kind
    assert all(0.0 <= p <= 1.0 for p in real)


def test_empty_text_has_no_score(trained):
    scores = FastTextScorer.load(str(trained.path)).score(["", " \n\t", ZH_NEWS, EN_ARTICLE])
    assert [s[SIGNAL] for s in scores[:2]] == [None, None]
    assert all(isinstance(s[SIGNAL], float) for s in scores[2:])
    assert FastTextScorer.load(str(trained.path)).score([]) == []


def test_documents_become_one_line_of_words():
    assert fasttext_line(EN_ARTICLE) == " ".join(EN_ARTICLE.split())
    line = fasttext_line(ZH_NEWS)
    assert "\n" not in line
    assert line.split() == words(ZH_NEWS)
    assert {"国家统计局", "发言人", "国民经济"} <= set(line.split())


def test_corrupt_model_file_is_named(tmp_path):
    bad = tmp_path / "quality.bin"
    bad.write_bytes(b"not a fastText model\n" * 10)
    with pytest.raises(ModelPathError, match="quality.bin"):
        FastTextScorer.load(str(bad))


def test_model_with_other_labels_is_refused(docs, tmp_path):
    import fasttext

    data = tmp_path / "lang.txt"
    rows = [f"__label__{'zh' if i % 2 else 'other'} {fasttext_line(d)}\n" for i, d in enumerate(docs[:40])]
    data.write_text("".join(rows), encoding="utf-8")
    path = tmp_path / "lang.bin"
    fasttext.train_supervised(input=str(data), epoch=1, dim=8, thread=MIN_THREADS, verbose=0).save_model(str(path))
    with pytest.raises(ModelPathError, match=f"lang.bin has labels __label__other, __label__zh; expected {HQ} and {LQ}"):
        FastTextScorer.load(str(path))


def test_balance_subsamples_the_larger_class(docs, tmp_path):
    messages: list[str] = []
    result = train_fasttext(docs[:100], degraded(docs[100:130]), tmp_path / "m.bin", balance=True, log=messages.append)
    assert result.train_pos + result.held_out_pos == result.train_neg + result.held_out_neg == 30
    assert messages == ["balanced: 30 documents per class (of 100 positive, 30 negative)"]


def test_unbalanced_classes_are_reported_and_tiny_ones_refused(docs, tmp_path):
    messages: list[str] = []
    with pytest.raises(ValueError, match="negative: 1 non-empty documents; need at least 2"):
        train_fasttext(docs[:20], [docs[20], "   "], tmp_path / "m.bin", log=messages.append)
    assert len(messages) == 1 and "unbalanced classes (20 positive, 1 negative" in messages[0]


def test_divergence_suggests_a_lower_learning_rate(docs, tmp_path):
    with pytest.raises(ValueError, match="diverged.*lower learning rate"):
        train_fasttext(docs[:40], degraded(docs[40:80]), tmp_path / "m.bin", lr=1e5, log=lambda _: None)
