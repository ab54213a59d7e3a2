"""Near-duplicate removal end to end: planted reposts go, same-topic articles stay."""

from __future__ import annotations

import json
import random

import pytest

from telechat_ptd.corpora import peoples_daily_articles
from telechat_ptd.pipeline.cli import run_job

from .conftest import read_dir

pytestmark = pytest.mark.slow


def typos(text: str, rate: float, rng: random.Random) -> str:
    chars = list(text)
    for i in rng.sample(range(len(chars)), int(len(chars) * rate)):
        if "\u4e00" <= chars[i] <= "\u9fff":
            chars[i] = rng.choice("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会")
    return "".join(chars)


@pytest.fixture(scope="module")
def articles():
    arts = [a for a in peoples_daily_articles() if 600 < len(a) < 3000]
    return arts[:40]


def write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_planted_near_duplicates_go_and_hard_negatives_stay(tmp_path, articles):
    rng = random.Random(5)
    records, clusters = [], {}
    for i, art in enumerate(articles[:20]):
        variants = {
            "orig": art,
            "typos": typos(art, 0.02, rng),
            "truncated": art[: int(len(art) * 0.9)],
            "boilerplate": "首页 > 新闻 > 正文\n" + art + "\n责任编辑：李华\n分享到：微信 微博",
        }
        for kind, text in variants.items():
            records.append({"id": f"a{i:02d}-{kind}", "text": text})
        clusters[i] = [f"a{i:02d}-{k}" for k in variants]
    negatives = [{"id": f"n{j:02d}", "text": art} for j, art in enumerate(articles[20:40])]
    write(tmp_path / "docs.jsonl", records + negatives)
    stats = run_job("dedup", [str(tmp_path / "docs.jsonl")], str(tmp_path / "out"), None, ["dedup.exact.enabled=false"], [])
    assert stats["balanced"]
    rejected = {r["id"]: r for r in read_dir(tmp_path / "out" / "rejected")}
    for members in clusters.values():
        kept = [m for m in members if m not in rejected]
        assert len(kept) == 1, (members, kept)
        for m in members:
            if m in rejected:
                assert rejected[m]["reason"] == "near_duplicate" and rejected[m]["duplicate_of"] == kept[0]
    assert not [n["id"] for n in negatives if n["id"] in rejected]
    # Normalization strips the boilerplate, so that repost ties with the original on length
    # and the smaller id wins; typos and truncation lose to either.
    for i in range(20):
        assert f"a{i:02d}-boilerplate" not in rejected
        assert rejected[f"a{i:02d}-orig"]["similarity"] == 1.0


def test_representative_prefers_score_then_length_then_id(tmp_path, articles):
    art = articles[0]
    write(tmp_path / "a.jsonl", [
        {"id": "z-long", "text": art + "另外补充一句话作为结尾。", "score": 0.2},
        {"id": "b-best", "text": art, "score": 0.9},
        {"id": "a-short", "text": art[:-20], "score": 0.5},
    ])
    run_job("dedup", [str(tmp_path / "a.jsonl")], str(tmp_path / "o1"), None, ["read.score_field=score"], [])
    assert {r["id"]: r["duplicate_of"] for r in read_dir(tmp_path / "o1" / "rejected")} == {"z-long": "b-best", "a-short": "b-best"}
    run_job("dedup", [str(tmp_path / "a.jsonl")], str(tmp_path / "o2"), None, [], [])
    assert {r["id"]: r["duplicate_of"] for r in read_dir(tmp_path / "o2" / "rejected")} == {"b-best": "z-long", "a-short": "z-long"}


def test_incremental_dedup_against_an_earlier_index(tmp_path, articles):
    write(tmp_path / "old.jsonl", [{"id": f"old-{i}", "text": a} for i, a in enumerate(articles[:10])])
    run_job("dedup", [str(tmp_path / "old.jsonl")], str(tmp_path / "run1"), None, [], [])
    assert list((tmp_path / "run1" / "minhash").glob("*.parquet"))
    rng = random.Random(1)
    new = [{"id": f"new-{i}", "text": typos(a, 0.01, rng)} for i, a in enumerate(articles[:5])]
    new += [{"id": f"fresh-{i}", "text": a} for i, a in enumerate(articles[10:15])]
    write(tmp_path / "new.jsonl", new)
    stats = run_job("dedup", [str(tmp_path / "new.jsonl")], str(tmp_path / "run2"), None,
                    [f"dedup.near.index=[{tmp_path / 'run1' / 'minhash'}]"], [])
    rejected = {r["id"]: r["duplicate_of"] for r in read_dir(tmp_path / "run2" / "rejected")}
    assert rejected == {f"new-{i}": f"old-{i}" for i in range(5)}
    assert stats["kept"] == 5 and stats["input"] == 10  # indexed documents are not output
    with pytest.raises(Exception, match="other MinHash settings"):
        run_job("dedup", [str(tmp_path / "new.jsonl")], str(tmp_path / "run3"), None,
                [f"dedup.near.index=[{tmp_path / 'run1' / 'minhash'}]", "dedup.near.seed=2"], [])


def test_documents_sharing_an_id_are_not_merged(tmp_path, articles):
    write(tmp_path / "a.jsonl", [{"id": "same", "text": articles[0]}, {"id": "same", "text": articles[1]}])
    stats = run_job("dedup", [str(tmp_path / "a.jsonl")], str(tmp_path / "o"), None, [], [])
    assert stats["kept"] == 2 and stats["balanced"]


def test_in_memory_decisions_equal_the_beam_job(tmp_path, articles):
    """The what-if of the tuning notebooks relies on this."""
    from telechat_ptd.dedup.near import doc_id, near_duplicates
    from telechat_ptd.pipeline.config import load_config

    rng = random.Random(9)
    docs = [{"id": f"o{i}", "text": a} for i, a in enumerate(articles[:15])]
    docs += [{"id": f"t{i}", "text": typos(a, 0.03, rng)} for i, a in enumerate(articles[:15])]
    docs += [{"id": f"h{i}", "text": a[: len(a) * 4 // 5]} for i, a in enumerate(articles[:15:2])]
    write(tmp_path / "d.jsonl", docs)
    run_job("dedup", [str(tmp_path / "d.jsonl")], str(tmp_path / "o"), None,
            ["dedup.exact.enabled=false", "normalize.enabled=false"], [])
    beam = {r["id"]: (r["duplicate_of"], r["similarity"]) for r in read_dir(tmp_path / "o" / "rejected")}
    local = {doc_id(node): (rep, round(sim, 4)) for node, (rep, sim) in near_duplicates(docs, load_config().dedup.near).items()}
    assert beam == local and len(beam) >= 20
