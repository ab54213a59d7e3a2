"""The safety stage: the toxicity classifier, the stored-signal verdicts, and the whole stage in
the Beam job (blocklist, lexicon, toxicity, PII redaction) with annotate and the what-if
agreeing with ptd clean."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest

from telechat_ptd.jobs.sample import gambling_page, offensive_comments
from telechat_ptd.safety.blocklist import BlocklistConfig
from telechat_ptd.safety.lexicon import LexiconConfig, default_lexicon
from telechat_ptd.safety.verdict import lexicon_summary, lists_verdict, pii_verdict
from telechat_ptd.scorers.reference import normalized, peoples_daily

from .conftest import read_dir

@pytest.fixture(scope="module")
def toxicity_model(tmp_path_factory):
    from telechat_ptd.scorers.fasttext_quality import train_fasttext
    from telechat_ptd.scorers.toxicity import TOXICITY

    rng = random.Random(0)
    clean = [p for a in normalized(peoples_daily()[:300]) for p in a.split("\n") if len(p) > 40][:400]
    toxic = [offensive_comments(rng, rng.randint(1, 3)) for _ in range(400)]
    out = tmp_path_factory.mktemp("toxicity") / "toxicity.bin"
    result = train_fasttext(toxic, clean, out, epoch=10, dim=16, bucket=20_000, labels=TOXICITY, log=lambda _: None)
    assert result.roc_auc > 0.95
    return str(out)


def test_toxicity_scorer_scores_offensive_text_high(toxicity_model):
    from telechat_ptd.scorers.toxicity import ToxicityScorer

    scorer = ToxicityScorer.load(toxicity_model)
    rng = random.Random(7)
    news = list(normalized(peoples_daily()[2000:2010]))
    toxic = [s["toxicity"] for s in scorer.score([offensive_comments(rng) for _ in range(10)])]
    fine = [s["toxicity"] for s in scorer.score(news)]
    assert min(toxic) > 0.9 and max(fine) < 0.1
    assert scorer.score([" \n "]) == [{"toxicity": None}]  # no words, no signal


def test_a_quality_model_is_not_a_toxicity_model(toxicity_model, tmp_path):
    from tiny_models import fasttext_model

    from telechat_ptd.scorers.fasttext_quality import FastTextScorer
    from telechat_ptd.scorers.modelpath import ModelPathError
    from telechat_ptd.scorers.toxicity import ToxicityScorer

    quality = fasttext_model(list(normalized(peoples_daily()[:200])), tmp_path)
    with pytest.raises(ModelPathError, match="expected __label__ok and __label__toxic.*--task toxicity"):
        ToxicityScorer.load(str(quality))
    with pytest.raises(ModelPathError, match="expected __label__hq and __label__lq.*--task quality"):
        FastTextScorer.load(toxicity_model)


def test_train_fasttext_cli_reads_a_labeled_csv(tmp_path, capsys):
    from telechat_ptd.pipeline.cli import main
    from telechat_ptd.scorers.labeled import write_labeled_csv
    from telechat_ptd.scorers.toxicity import ToxicityScorer

    rng = random.Random(1)
    clean = [p for a in normalized(peoples_daily()[:200]) for p in a.split("\n") if len(p) > 40][:200]
    csv = tmp_path / "cold.csv"
    write_labeled_csv(csv, [offensive_comments(rng, 2) for _ in range(200)], clean, text_column="TEXT")
    out = tmp_path / "tox.bin"
    assert main(["train-fasttext", "--task", "toxicity", "--train", str(csv), "--text-column", "TEXT", "--epoch", "5",
                 "--dim", "16", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "toxic +" in printed and "ROC-AUC" in printed
    assert ToxicityScorer.load(str(out)).score([offensive_comments(rng)])[0]["toxicity"] > 0.5
    assert main(["train-fasttext", "--train", str(csv), "--positive", "x.txt", "-o", str(out)]) == 2
    assert "either --train CSV or --positive" in capsys.readouterr().err


def test_cold_offensive_language_auc(shared_data, tmp_path):
    """The real data: COLD's train split in, its dev split (never trained on) scored."""
    from telechat_ptd.scorers.fasttext_quality import train_fasttext
    from telechat_ptd.scorers.labeled import read_labeled_csv
    from telechat_ptd.scorers.metrics import roc_auc
    from telechat_ptd.scorers.toxicity import TOXICITY, ToxicityScorer

    toxic, ok = read_labeled_csv(shared_data / "labeled" / "cold_train.csv", "TEXT")
    train_fasttext(list(normalized(toxic[:3000])), list(normalized(ok[:3000])), tmp_path / "t.bin", labels=TOXICITY,
                   log=lambda _: None)
    dev_toxic, dev_ok = read_labeled_csv(shared_data / "labeled" / "cold_dev.csv", "TEXT")
    texts, labels = dev_toxic[:600] + dev_ok[:600], [1] * 600 + [0] * 600
    scores = ToxicityScorer.load(str(tmp_path / "t.bin")).score(list(normalized(texts, keep_empty=True)))
    auc = roc_auc(labels, [s["toxicity"] if s["toxicity"] is not None else 0.5 for s in scores])
    assert auc >= 0.85


# --- verdicts from stored signals ------------------------------------------------------------


def test_lexicon_summary_keeps_the_deciding_category():
    cfg = LexiconConfig(thresholds={"default": {"min_hits": 5, "min_density": 20}, "porn": {"min_hits": 1, "min_density": 1}})
    signals = {"lex_gambling_hits": 4, "lex_gambling_density": 40.0, "lex_porn_hits": 2, "lex_porn_density": 3.0}
    # gambling is denser but passes (4 hits < 5); porn fails its own stricter thresholds
    assert lexicon_summary(signals, cfg) == {"lexicon_category": "porn", "lexicon_hits": 2.0, "lexicon_density": 3.0}
    summary = lexicon_summary(signals, LexiconConfig())
    assert summary["lexicon_category"] == "gambling"
    assert lists_verdict(summary, BlocklistConfig(enabled=False), LexiconConfig()) is None
    assert lists_verdict(lexicon_summary(signals, cfg), BlocklistConfig(enabled=False), cfg)[0] == "lexicon_porn"


def test_blocklist_decides_before_the_lexicon_and_pii_density():
    from telechat_ptd.pii import PiiConfig

    scores = {"url_blocked": 1, "url_blocklist_category": "gambling", "lexicon_category": "porn", "lexicon_hits": 9.0,
              "lexicon_density": 90.0}
    assert lists_verdict(scores, BlocklistConfig(), LexiconConfig())[0] == "url_blocklist_gambling"
    assert lists_verdict(scores, BlocklistConfig(enabled=False), LexiconConfig())[0] == "lexicon_porn"
    assert pii_verdict({"pii_density": 12.0}, PiiConfig(max_density=10)) == (
        "pii_density_high", "pii_density 12.00 > 10 per 1,000 chars")
    assert pii_verdict({"pii_density": 12.0}, PiiConfig()) is None


def test_default_lexicon_keeps_real_news():
    """People's Daily reports crimes, wars and crackdowns: none may fall to the lexicon."""
    lexicon, cfg = default_lexicon(), LexiconConfig()
    for article in normalized(peoples_daily()):
        summary = lexicon_summary(lexicon.signals(article), cfg)
        assert lists_verdict(summary, BlocklistConfig(enabled=False), cfg) is None, article[:80]


# --- the stage in the job ----------------------------------------------------------------------

PII_DOC = "{article}\n如有疑问请联系本报读者服务部，电话13812345678，邮箱reader@example.com.cn，联系人身份证号11010519491231002X。"
CONTACTS = ("以下是本次会议的联系人名单，请各单位及时联系。会务组张伟，电话13312345673；"
            "接待处李娜，手机15987654321，邮箱lina@example.com；财务室王强，电话18611112222；"
            "宣传部赵敏，邮箱zhaomin@example.org，手机13700001111；后勤组刘洋，电话13566667777。"
            "以上名单请勿外传，谢谢大家的配合。会议期间如有任何问题，请直接与会务组的同志们联系，我们会尽快为大家解决。")


@pytest.fixture(scope="module")
def safety_corpus(tmp_path_factory):
    rng = random.Random(5)
    articles = [a for a in normalized(peoples_daily()[1300:1400]) if 300 < len(a) < 3000]
    records = [{"id": f"news-{i:02d}", "text": a} for i, a in enumerate(articles[:12])]
    records += [{"id": f"pii-{i}", "text": PII_DOC.format(article=a)} for i, a in enumerate(articles[12:15])]
    records += [{"id": f"gamble-{i}", "text": gambling_page(rng, site)} for i, site in enumerate(["金沙国际", "新葡京"])]
    records += [{"id": f"listed-{i}", "text": a, "url": f"https://www.casino-{i}.example/news/{i}.html"}
                for i, a in enumerate(articles[15:17])]
    records += [{"id": "listed-page", "text": articles[17], "url": "http://news.example.org/bad/page.html"}]
    records += [{"id": f"toxic-{i}", "text": offensive_comments(rng)} for i in range(3)]
    records += [{"id": "contacts", "text": CONTACTS}]
    root = tmp_path_factory.mktemp("safety")
    (root / "lists" / "gambling").mkdir(parents=True)
    (root / "lists" / "gambling" / "domains").write_text("casino-0.example\ncasino-1.example\n")
    (root / "lists" / "gambling" / "urls").write_text("news.example.org/bad/\n")
    path = root / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path, root / "lists"


def safety_sets(model: str, lists) -> list[str]:
    return ["scorers.toxicity.enabled=true", f"scorers.toxicity.model={model}", "scorers.toxicity.max_toxicity=0.9",
            "safety.blocklist.enabled=true", f"safety.blocklist.paths=[{lists}]", "safety.pii.max_density=20"]


@pytest.mark.slow
def test_safety_stage_rejects_redacts_and_the_what_if_agrees(safety_corpus, toxicity_model, tmp_path):
    from telechat_ptd.pipeline.cli import run_job
    from telechat_ptd.tuning import Tuner, compare_counts

    path, lists = safety_corpus
    sets = safety_sets(toxicity_model, lists)
    stats = run_job("clean", [str(path)], str(tmp_path / "clean"), None, sets, [])
    assert stats["balanced"] and stats["errors"] == 0 and stats["input"] == 24
    assert stats["rejected_by_stage"] == {"safety": 9}
    assert stats["rejected_by_reason"] == {"lexicon_gambling": 2, "url_blocklist_gambling": 3, "toxic": 3, "pii_density_high": 1}
    assert stats["pii"] == {"cn_mobile": 3, "email": 3, "cn_id": 3, "documents_redacted": 3}
    kept = [r["data"] for r in read_dir(tmp_path / "clean" / "data")]
    assert len(kept) == 15
    redacted = [t for t in kept if "<PHONE>" in t]
    assert len(redacted) == 3 and all("<EMAIL>" in t and "<ID>" in t for t in redacted)
    assert not any("13812345678" in t or "reader@example.com.cn" in t for t in kept)
    rejected = {r["id"]: r for r in read_dir(tmp_path / "clean" / "rejected")}
    assert rejected["listed-page"]["reason"] == "url_blocklist_gambling"
    assert rejected["toxic-0"]["detail"].startswith("toxicity ")

    out = tmp_path / "annotate"
    run_job("annotate", [str(path)], str(out), None, sets, [])
    rows = pq.read_table(sorted((out / "signals").glob("*.parquet"))).to_pandas().set_index("id")
    decided = rows[rows["decision"] != "keep"]
    assert dict(decided["decision"]) == {i: r["reason"] for i, r in rejected.items()}
    assert rows.loc["gamble-0", "lexicon_category"] == "gambling" and rows.loc["gamble-0", "lexicon_hits"] >= 5
    assert rows.loc["listed-0", "url_blocked"] == 1 and rows.loc["news-00", "url_blocked"] != 1
    assert rows.loc["pii-0", "pii_hits"] == 3 and rows.loc["toxic-0", "toxicity"] > 0.9

    tuner = Tuner.load(out)
    assert compare_counts(tuner.what_if({}).counts(), stats) == []
    looser = tuner.what_if({"safety.pii.max_density": None, "scorers.toxicity.max_toxicity": 1.0})
    again = run_job("clean", [str(path)], str(tmp_path / "looser"), None,
                    sets + ["safety.pii.max_density=null", "scorers.toxicity.max_toxicity=1.0"], [])
    assert again["rejected_by_reason"] == {"lexicon_gambling": 2, "url_blocklist_gambling": 3}
    assert compare_counts(looser.counts(), again) == []
    with pytest.raises(ValueError, match="safety.lexicon.thresholds.*changes the signals"):
        tuner.what_if({"safety.lexicon.thresholds": {"default": {"min_hits": 1, "min_density": 1}}})


@pytest.mark.slow
def test_bad_lexicon_or_blocklist_path_fails_before_the_job(safety_corpus, tmp_path, capsys):
    from telechat_ptd.pipeline.cli import main

    path, _ = safety_corpus
    missing = tmp_path / "nope.txt"
    assert main(["clean", str(path), "-o", str(tmp_path / "o"), "--set", f"safety.lexicon.paths=[{missing}]"]) == 2
    assert str(missing) in capsys.readouterr().err
    assert main(["clean", str(path), "-o", str(tmp_path / "o"), "--set", "safety.blocklist.enabled=true",
                 "--set", f"safety.blocklist.paths=[{missing}]"]) == 2
    assert "safety.blocklist.paths" in capsys.readouterr().err and not (tmp_path / "o").exists()
