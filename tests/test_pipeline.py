"""End to end on the DirectRunner: the sample corpus, bad input, two execution modes, CLI."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telechat_ptd.pipeline.cli import main, run_job

from .conftest import EN_ARTICLE, ZH_NEWS, read_dir, read_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clean_out(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    stats = run_job("clean", [str(sample_dir)], str(out), None, [], [])
    return out, stats


def test_sample_job_balances_and_reports_every_kind_of_noise(clean_out):
    out, stats = clean_out
    assert stats["balanced"]
    assert stats["input"] == stats["kept"] + stats["rejected"] + stats["errors"]
    assert stats["input"] > 2000 and 0.4 < stats["kept"] / stats["input"] < 0.9
    reasons = stats["rejected_by_reason"]
    for expected in ("too_short", "exact_duplicate", "low_han_ratio", "gopher_stopwords", "lang_not_kept"):
        assert reasons.get(expected, 0) > 0, expected
    assert set(stats["sources"]) == {"web", "media", "book"}
    assert stats["sources"]["book"]["input"] == 6
    assert stats["normalize"]["boilerplate_lines_removed"] > 100
    assert stats["shards"] == {"data": 1, "errors": 1, "minhash": 1, "rejected": 1}


def test_shards_are_telechat_ptd(clean_out):
    out, stats = clean_out
    raw = gzip.decompress((out / "data" / "0.jsonl.gz").read_bytes())
    assert b"\\u" not in raw  # UTF-8, unescaped
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == stats["kept"]
    records = [json.loads(line) for line in lines]
    assert all(list(r) == ["data"] and isinstance(r["data"], str) and r["data"] for r in records)
    texts = [r["data"] for r in records]
    assert len(set(texts)) == len(texts)  # exact duplicates are gone
    joined = "\n".join(texts)
    assert "責任編輯" not in joined and "扫一扫，关注" not in joined and "１９９８" not in joined


def test_rejected_and_errors_explain_themselves(clean_out):
    out, stats = clean_out
    rejected = read_dir(out / "rejected")
    assert len(rejected) == stats["rejected"]
    assert all({"id", "source", "stage", "reason", "text"} <= set(r) for r in rejected)
    dups = [r for r in rejected if r["reason"] in ("exact_duplicate", "near_duplicate")]
    # A duplicate points to its cluster's kept document, which only a later stage (the scorers,
    # safety: a cluster of gambling pages) can still reject.
    stage_of = {r["id"]: r["stage"] for r in rejected}
    assert dups and [r for r in dups if r["stage"] != "dedup" or stage_of.get(r["duplicate_of"], "kept") not in ("kept", "score", "safety")] == []
    exact = [r for r in dups if r["reason"] == "exact_duplicate" and "near duplicate" not in (r["detail"] or "")]
    assert exact and all(r["duplicate_of"] < r["id"] for r in exact)  # the smallest id is kept
    near = [r for r in dups if r["reason"] == "near_duplicate"]
    assert near and all(0.5 < r["similarity"] <= 1 and r["detail"].startswith("jaccard=") for r in near)
    errors = read_jsonl(out / "errors" / "0.jsonl")
    assert len(errors) == stats["errors"]
    broken = [e for e in errors if e["file"].endswith("crawl-broken.jsonl")]
    assert len(broken) == 6 and all(e["line"] > 0 for e in broken)
    assert any("truncated" in e["file"] and "unreadable" in e["error"] for e in errors)


def test_multiprocessing_gives_byte_identical_output(sample_dir, clean_out, tmp_path):
    out, _ = clean_out
    run_job("clean", [str(sample_dir)], str(tmp_path), None, [],
            ["--runner=DirectRunner", "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    for rel in ("data/0.jsonl.gz", "rejected/0.jsonl.gz", "errors/0.jsonl", "stats.json"):
        assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_annotate_gives_one_row_per_document_with_clean_decisions(sample_dir, clean_out, tmp_path):
    out, stats = clean_out
    a_stats = run_job("annotate", [str(sample_dir)], str(tmp_path), None, [], [])
    assert a_stats["balanced"] and a_stats["kept"] == stats["kept"]
    table = pq.read_table(tmp_path / "signals")
    assert table.num_rows == stats["input"] - stats["errors"]
    rows = table.to_pylist()
    for col in ("id", "source", "lang", "decision", "han_ratio", "dup_5gram_frac", "line_punct_ratio", "text"):
        assert col in table.column_names
    clean_reasons = {r["id"]: r["reason"] for r in read_dir(out / "rejected")}
    annotated = {r["id"]: r["decision"] for r in rows}
    assert {i: d for i, d in annotated.items() if d != "keep"} == clean_reasons
    filtered = [r for r in rows if r["stage"] == "filter"]
    assert all(r["han_ratio"] is not None and r["detail"] for r in filtered)


def test_dedup_mode_only_removes_duplicates(sample_dir, tmp_path):
    stats = run_job("dedup", [str(sample_dir)], str(tmp_path), None, [], [])
    assert stats["balanced"]
    assert set(stats["rejected_by_reason"]) <= {"exact_duplicate", "near_duplicate", "too_large", "empty_after_normalize"}
    assert stats["rejected_by_reason"]["exact_duplicate"] > 50 and stats["rejected_by_reason"]["near_duplicate"] > 30


def test_bad_input_completes_and_nothing_is_lost(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = [{"data": ZH_NEWS + f"（{i}）"} for i in range(5)]
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good).encode()
    (src / "malformed.jsonl").write_bytes(body + b'{"data": "oops\n{"text": 42}\n{"url": "x"}\n' + b'{"data": "\xc3\x28"}\n')
    (src / "empty.jsonl").write_bytes(b"")
    (src / "garbage.jsonl").write_bytes(random.Random(1).randbytes(4000))
    big = gzip.compress(body * 200, mtime=0)
    (src / "cut.jsonl.gz").write_bytes(big[: len(big) // 2])
    rnd = random.Random(2)
    noisy = "".join(json.dumps({"data": "".join(rnd.choice(ZH_NEWS) for _ in range(300))}, ensure_ascii=False) + "\n" for _ in range(300))
    z = zstandard.ZstdCompressor().compress(noisy.encode())
    (src / "cut.jsonl.zst").write_bytes(z[: len(z) // 2])
    (src / "huge.jsonl").write_text(json.dumps({"data": "巨" * 7_000_000}, ensure_ascii=False) + "\n", encoding="utf-8")
    (src / "binary.jsonl").write_text(json.dumps({"data": "\x00\x01\ufffd\ue000" * 200}) + "\n")
    stats = run_job("clean", [str(src)], str(tmp_path / "out"), None, [], [])
    assert stats["balanced"]
    errors = read_jsonl(tmp_path / "out" / "errors" / "0.jsonl")
    rejected = read_dir(tmp_path / "out" / "rejected")
    by_file = {}
    for e in errors:
        by_file.setdefault(e["file"].rsplit("/", 1)[-1], []).append(e["error"])
    assert len(by_file["malformed.jsonl"]) == 4
    assert by_file["empty.jsonl"] == ["empty file: no records"]
    assert by_file["garbage.jsonl"]
    assert "unreadable" in by_file["cut.jsonl.gz"][-1] and "unreadable" in by_file["cut.jsonl.zst"][-1]
    assert any(r["reason"] == "too_large" and len(r["text"]) == 7_000_000 for r in rejected)
    assert any(r["source"] == "web" and r["reason"] in ("garbage_chars", "lang_not_kept", "empty_after_normalize") for r in rejected)


def _docs():
    good = st.sampled_from([ZH_NEWS, EN_ARTICLE, ZH_NEWS.replace("国务院", "市政府")])
    bad = st.sampled_from(["短", "★" * 300, "http://x.cn " * 50, "", "   "])
    return st.lists(st.tuples(st.sampled_from(["good", "bad", "dup", "broken"]), good, bad), min_size=1, max_size=30)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_docs())
def test_accounting_invariant_on_random_mixes(tmp_path_factory, mix):
    tmp = tmp_path_factory.mktemp("mix")
    lines = []
    for i, (kind, good, bad) in enumerate(mix):
        if kind == "broken":
            lines.append('{"data": ')
        else:
            text = {"good": good + f"（{i}）", "bad": bad, "dup": good}[kind]
            lines.append(json.dumps({"id": f"m{i:03d}", "data": text}, ensure_ascii=False))
    (tmp / "mix.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats = run_job("clean", [str(tmp / "mix.jsonl")], str(tmp / "out"), None, [], [])
    assert stats["balanced"] and stats["input"] == len(mix)
    kept = read_dir(tmp / "out" / "data")
    rejected = read_dir(tmp / "out" / "rejected")
    errors = read_jsonl(tmp / "out" / "errors" / "0.jsonl")
    assert len(kept) + len(rejected) + len(errors) == len(mix)
    assert len(errors) == sum(k == "broken" for k, _, _ in mix)
    assert len({r["id"] for r in rejected}) == len(rejected)


# --- the command line ----------------------------------------------------------------------------


def test_cli_clean_with_config_set_and_beam_options(sample_dir, tmp_path, capsys):
    cfg = tmp_path / "my.yaml"
    cfg.write_text("filters:\n  zh:\n    min_chars: 1000\n")
    code = main(["clean", str(sample_dir / "media"), "-o", str(tmp_path / "out"), "--config", str(cfg),
                 "--set", "filters.en.min_words=10", "--compression", "zst", "-q", "--", "--runner=DirectRunner"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "kept" in printed and "too_short" in printed and "docs/s" in printed
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["balanced"] and (tmp_path / "out" / "data" / "0.jsonl.zst").exists()
    texts = [r["data"] for r in read_dir(tmp_path / "out" / "data")]
    assert texts and min(len(t.replace("\n", "")) for t in texts) >= 1000


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main(["clean", str(tmp_path / "none*.jsonl"), "-o", str(tmp_path / "o")]) == 2
    assert "no input files match" in capsys.readouterr().err
    (tmp_path / "a.jsonl").write_text('{"data": "x"}\n')
    assert main(["clean", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "o"), "--set", "filters.zh.min_charz=1"]) == 2
    assert "did you mean 'filters.zh.min_chars'" in capsys.readouterr().err


def test_cli_config_and_sample_commands(tmp_path, capsys):
    assert main(["config", "--set", "filters.zh.min_chars=321"]) == 0
    assert "min_chars: 321" in capsys.readouterr().out
    assert main(["sample", "-o", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "web" / "reviews.parquet").exists()


def test_clean_without_input_runs_the_embedded_sample(sample_dir, tmp_path, monkeypatch, capsys):
    (sample_dir / ".complete").write_text("ok\n")
    monkeypatch.setenv("PTD_SAMPLE_DIR", str(sample_dir))
    assert main(["clean", "-o", str(tmp_path / "out"), "-q"]) == 0
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["input"] > 2000
