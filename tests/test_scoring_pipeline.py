"""The scoring stage in the Beam job: all four scorers through ptd annotate and ptd clean,
signals equal to direct scoring, thresholds deciding, the what-if replaying them, and a scorer
that raises sending its document to errors/ without losing it."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow.parquet as pq
import pytest
from tiny_models import bert_classifier, fasttext_model, gpt2_model, kenlm_model

from telechat_ptd.pipeline.cli import run_job
from telechat_ptd.scorers.degrade import shuffle
from telechat_ptd.scorers.reference import normalized, peoples_daily
from telechat_ptd.tuning import Tuner, compare_counts, run_clean

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    docs = list(normalized(peoples_daily()[:700]))
    root = tmp_path_factory.mktemp("models")
    dirs = {name: root / name for name in ("kenlm", "fasttext", "gpt2", "bert")}
    for d in dirs.values():
        d.mkdir()
    return {
        "kenlm": str(kenlm_model(docs[:400], dirs["kenlm"])),
        "fasttext": str(fasttext_model(docs[:600], dirs["fasttext"])),
        "gpt2": str(gpt2_model(docs[:150], dirs["gpt2"])[0]),
        "bert": str(bert_classifier(docs, dirs["bert"])),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Unseen People's Daily articles, word-shuffled copies of others, and English."""
    rng = random.Random(3)
    articles = [a for a in peoples_daily()[1000:1200] if len(a) > 300]
    records = [{"id": f"real-{i:03d}", "text": a} for i, a in enumerate(articles[:30])]
    records += [{"id": f"shuf-{i:03d}", "text": shuffle(a, rng)} for i, a in enumerate(articles[30:60])]
    english = ("The committee met on Tuesday to review the budget for the coming year. Members agreed that the "
               "school needs new books and that the library should stay open longer in the evening. ")
    records += [{"id": f"en-{i}", "text": english * 3 + f"Item {i} was noted."} for i in range(3)]
    path = tmp_path_factory.mktemp("corpus") / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def scorer_sets(models, **thresholds) -> list[str]:
    sets = [f"scorers.{n}.{k}" for n, m in models.items() for k in ("enabled=true", f"model={m}")]
    sets += ["scorers.fasttext.min_quality=null", "scorers.bert.min_quality=null"]
    return sets + [f"{k}={v}" for k, v in thresholds.items()]


@pytest.fixture(scope="module")
def annotated(models, corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("annotated")
    run_job("annotate", [str(corpus)], str(out), None, scorer_sets(models), [])
    rows = pq.read_table(sorted((out / "signals").glob("*.parquet"))).to_pandas().set_index("id")
    return out, rows


SIGNALS = ["kenlm_perplexity", "kenlm_bucket", "kenlm_context_ratio", "fasttext_quality", "bert_quality", "gpt2_perplexity"]


def test_every_chinese_row_gets_every_signal_and_other_languages_none(annotated):
    _, rows = annotated
    zh = rows[rows["lang"] == "zh"]
    assert len(zh) == 60
    assert zh[SIGNALS].notna().all().all()
    assert rows.loc[rows["lang"] == "en", SIGNALS].isna().all().all()  # langs: [zh]
    assert set(zh["kenlm_bucket"]) <= {"head", "middle", "tail"}


def test_signals_equal_direct_scoring(annotated, models):
    from telechat_ptd.scorers.fasttext_quality import FastTextScorer
    from telechat_ptd.scorers.kenlm_lm import KenLMScorer
    from telechat_ptd.scorers.transformer import Scorer

    _, rows = annotated
    zh = rows[rows["lang"] == "zh"]
    texts = list(zh["text"])
    direct = {
        "kenlm": KenLMScorer.load(models["kenlm"]).score(texts),
        "fasttext": FastTextScorer.load(models["fasttext"]).score(texts),
        "gpt2": Scorer.load(models["gpt2"], kind="perplexity").score(texts),
        "bert": Scorer.load(models["bert"], kind="classifier").score(texts),
    }
    for signals in direct.values():
        for (_, row), expected in zip(zh.iterrows(), signals):
            for name, value in expected.items():
                assert row[name] == pytest.approx(value, rel=1e-4) if isinstance(value, float) else row[name] == value


def test_perplexity_threshold_rejects_shuffled_text_and_the_what_if_agrees(annotated, models, corpus, tmp_path):
    _, rows = annotated
    zh = rows[rows["lang"] == "zh"]
    ppl = zh["kenlm_perplexity"].sort_values()
    limit = round((ppl.iloc[29] + ppl.iloc[30]) / 2, 3)  # the median: 30 documents above it
    above = set(ppl.index[30:])
    assert sum(i.startswith("shuf") for i in above) >= 22  # mostly the word salad, even for a tiny model
    sets = scorer_sets(models, **{"scorers.kenlm.max_perplexity": limit})
    stats = run_job("clean", [str(corpus)], str(tmp_path / "clean"), None, sets, [])
    assert stats["balanced"] and stats["errors"] == 0
    assert stats["rejected_by_stage"]["score"] == stats["rejected_by_reason"]["kenlm_perplexity_high"] == 30
    assert stats["kept"] == (rows["decision"] == "keep").sum() - 30
    assert set(stats["scorer_ms"]) == {"kenlm", "fasttext"}
    rejected = [json.loads(line) for path in (tmp_path / "clean" / "rejected").glob("*.gz")
                for line in gzip.open(path, "rt", encoding="utf-8")]
    assert {r["id"] for r in rejected if r["stage"] == "score"} == above
    assert all(r["detail"].startswith("kenlm_perplexity ") for r in rejected if r["stage"] == "score")

    tuner = Tuner.load(annotated[0])
    what = tuner.what_if({"scorers.kenlm.max_perplexity": limit})
    assert compare_counts(what.counts(), stats) == []
    exported = tuner.export(what, tmp_path / "retuned.yaml")
    assert compare_counts(what.counts(), run_clean([str(corpus)], tmp_path / "again", exported)) == []


def test_context_ratio_threshold_rejects_word_salad_and_the_what_if_agrees(annotated, models, corpus, tmp_path):
    _, rows = annotated
    ratio = rows.loc[rows["lang"] == "zh", "kenlm_context_ratio"].sort_values()
    limit = round((ratio.iloc[29] + ratio.iloc[30]) / 2, 6)
    above = set(ratio.index[30:])
    assert sum(i.startswith("shuf") for i in above) >= 25
    sets = scorer_sets(models, **{"scorers.kenlm.max_context_ratio": limit})
    stats = run_job("clean", [str(corpus)], str(tmp_path / "clean"), None, sets, [])
    assert stats["balanced"] and stats["rejected_by_reason"]["kenlm_context_ratio_high"] == 30
    what = Tuner.load(annotated[0]).what_if({"scorers.kenlm.max_context_ratio": limit})
    assert compare_counts(what.counts(), stats) == []


def test_a_scorer_that_raises_sends_the_document_to_errors(models, corpus, tmp_path, monkeypatch):
    from telechat_ptd.scorers.fasttext_quality import FastTextScorer

    score = FastTextScorer.score

    def failing(self, texts):
        if any(t.startswith("Item") or "real-0" in t for t in texts):
            raise RuntimeError("boom")
        if any("中国" in t[:20] for t in texts):
            raise RuntimeError("model exploded on this document")
        return score(self, texts)

    monkeypatch.setattr(FastTextScorer, "score", failing)
    stats = run_job("clean", [str(corpus)], str(tmp_path / "out"), None, scorer_sets(models), [])
    assert stats["balanced"] and stats["errors"] > 0
    assert stats["errors_by_stage"] == {"score.fasttext": stats["errors"]}
    errors = [json.loads(line) for path in (tmp_path / "out" / "errors").glob("*.jsonl") for line in open(path, encoding="utf-8")]
    assert all("model exploded" in e["error"] and e["id"] for e in errors)
    assert stats["input"] == stats["kept"] + stats["rejected"] + stats["errors"] == 63
