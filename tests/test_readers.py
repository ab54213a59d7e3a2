"""Input formats and bad input: every record ends as a document, a rejection or an error."""

from __future__ import annotations

import gzip
import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from telechat_ptd.pipeline import readers
from telechat_ptd.pipeline.config import load_config
from telechat_ptd.pipeline.inputs import InputError, expand_inputs

from .conftest import ZH_NEWS


def read_all(path, *sets):
    cfg = load_config(overrides=list(sets)).read
    items = []
    for rng in readers.plan(str(path), os.path.getsize(path), cfg):
        items.extend(readers.read_range(rng, cfg))
    return items


def kinds(items):
    return [k for k, _ in items]


def jsonl(records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


RECORDS = [{"data": f"{ZH_NEWS[:80]}（{i}）", "id": f"doc-{i}"} for i in range(50)]


@pytest.mark.parametrize("name,encode", [
    ("a.jsonl", lambda b: b),
    ("a.jsonl.gz", lambda b: gzip.compress(b)),
    ("a.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ("a.json", lambda b: b),
])
def test_jsonl_in_every_compression(tmp_path, name, encode):
    path = tmp_path / name
    path.write_bytes(encode(jsonl(RECORDS)))
    items = read_all(path)
    assert kinds(items) == ["doc"] * 50
    assert [d["id"] for _, d in items] == [r["id"] for r in RECORDS]
    assert items[3][1]["text"] == RECORDS[3]["data"] and items[3][1]["source"] == "web"


def test_json_array_and_text_field_choice(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"text": "甲"}, {"content": "乙"}, {"text": None}], ensure_ascii=False))
    items = read_all(path)
    assert kinds(items) == ["doc", "error", "error"]
    assert "no text field" in items[1][1]["error"] and "null" in items[2][1]["error"]
    items = read_all(path, "read.text_fields=[content, text]")
    assert [d.get("text") for k, d in items if k == "doc"] == ["甲", "乙"]


def test_derived_ids_are_stable_and_positional(tmp_path):
    path = tmp_path / "noid.jsonl"
    path.write_bytes(jsonl([{"text": "第一篇"}, {"text": "第二篇"}]))
    first = [d["id"] for _, d in read_all(path)]
    assert first == [d["id"] for _, d in read_all(path)]
    assert first[0] == f"{path}:{0:012d}" and first[1].endswith(f":{len(jsonl([{'text': '第一篇'}])):012d}")


def test_parquet_row_groups(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": [f"行{i}" for i in range(25)] + [None], "id": [f"r{i}" for i in range(26)]}), path, row_group_size=10)
    cfg = load_config().read
    assert len(readers.plan(str(path), os.path.getsize(path), cfg)) == 3
    items = read_all(path)
    assert kinds(items) == ["doc"] * 25 + ["error"]
    assert items[-1][1]["offset"] == 25 and "null" in items[-1][1]["error"]
    no_ids = tmp_path / "q.parquet"
    pq.write_table(pa.table({"text": ["甲", "乙"]}), no_ids)
    assert [d["id"] for _, d in read_all(no_ids)][1] == f"{no_ids}:{1:012d}"


def test_txt_line_and_file_modes(tmp_path):
    book = tmp_path / "novel.txt"
    book.write_text("第一章\n\n  \n他走进了房间。\n", encoding="utf-8")
    assert [d["text"] for _, d in read_all(book)] == ["第一章", "他走进了房间。"]
    items = read_all(book, "read.txt_mode=file")
    assert len(items) == 1 and items[0][1]["text"] == "第一章\n\n  \n他走进了房间。" and items[0][1]["id"] == str(book)
    shelf = tmp_path / "books"
    shelf.mkdir()
    (shelf / "b.txt.gz").write_bytes(gzip.compress("长篇小说\n第二行".encode()))
    items = read_all(shelf / "b.txt.gz")
    assert [(d["source"], d["text"]) for _, d in items] == [("book", "长篇小说\n第二行")]


def test_byte_ranges_read_each_line_exactly_once_and_report_line_numbers(tmp_path):
    lines = [json.dumps({"data": f"{'字' * (i % 37)}文档{i}"}, ensure_ascii=False) for i in range(3000)]
    lines[1234] = '{"data": broken'
    lines[2900] = '{"nope": 1}'
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read_all(path)
    split = read_all(path, "read.split_mb=0.01")
    cfg = load_config(overrides=["read.split_mb=0.01"]).read
    assert len(readers.plan(str(path), os.path.getsize(path), cfg)) > 5
    assert sorted(d["id"] for k, d in split if k == "doc") == sorted(d["id"] for k, d in whole if k == "doc")
    assert len(split) == len(whole) == 3000
    errors = sorted((d["line"], d["error"]) for k, d in split if k == "error")
    assert [line for line, _ in errors] == [1235, 2901]
    assert errors == sorted((d["line"], d["error"]) for k, d in whole if k == "error")


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_lines_become_errors_with_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"data": "\xe5\xa5\xbd"}\n{"data": "unterminated\n{"text": 3}\n[1, 2]\n\n{"title": "x"}\n'
        b'{"data": "bad \xff utf8"}\n\x00\x01\x02\x8f binary\n{"data": "\xe6\x9c\x80\xe5\x90\x8e"}\n'
    )
    items = read_all(path)
    assert kinds(items) == ["doc", "error", "error", "error", "error", "error", "error", "doc"]
    errors = [d for k, d in items if k == "error"]
    assert [e["line"] for e in errors] == [2, 3, 4, 6, 7, 8]
    assert "invalid JSON" in errors[0]["error"] and "int, not a string" in errors[1]["error"]
    assert "JSON list" in errors[2]["error"] and "no text field" in errors[3]["error"]
    assert "invalid UTF-8" in errors[4]["error"] and "invalid UTF-8" in errors[5]["error"]
    assert all(e["file"] == str(path) and e["stage"] == "read" for e in errors)


def test_invalid_utf8_can_be_replaced_instead(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"data": "bad \xff utf8"}\n')
    assert read_all(path, "read.encoding_errors=replace")[0][1]["text"] == "bad \ufffd utf8"


def test_empty_file_is_reported(tmp_path):
    for name in ("empty.jsonl", "empty.txt"):
        (tmp_path / name).write_bytes(b"")
        items = read_all(tmp_path / name)
        assert kinds(items) == ["error"] and "empty file" in items[0][1]["error"]


@pytest.mark.parametrize("name,compress", [
    ("t.jsonl.gz", lambda b: gzip.compress(b, mtime=0)),
    ("t.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
])
def test_truncated_archives_keep_what_was_read(tmp_path, name, compress):
    rnd = random.Random(7)
    data = compress(jsonl([{"data": "".join(rnd.choice(ZH_NEWS) for _ in range(400))} for i in range(400)]))
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    items = read_all(path)
    assert kinds(items)[-1] == "error" and set(kinds(items)[:-1]) == {"doc"}
    assert 10 < len(items) < 400
    error = items[-1][1]
    assert "unreadable after byte" in error["error"] and error["line"] == len(items)


def test_not_actually_compressed(tmp_path):
    path = tmp_path / "fake.jsonl.gz"
    path.write_bytes(b"this is not gzip\n")
    items = read_all(path)
    assert kinds(items) == ["error"] and "Not a gzipped file" in items[0][1]["error"]


def test_huge_document_is_rejected_at_read_with_its_text(tmp_path):
    big = "长" * (20 * 1024 * 1024 // 3 + 10)
    path = tmp_path / "huge.jsonl"
    path.write_bytes(jsonl([{"data": big}, {"data": "小文档"}]))
    items = read_all(path)
    assert kinds(items) == ["rejected", "doc"]
    assert items[0][1]["reason"] == "too_large" and items[0][1]["text"] == big


def test_line_without_newline_beyond_limit_is_skipped(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"x" * 3_000_000 + b"\nnext line\n")
    items = read_all(path, "read.max_doc_chars=100")
    assert kinds(items) == ["error", "doc"] and items[1][1]["text"] == "next line"
    assert items[0][1]["line"] == 1 and "line longer than" in items[0][1]["error"]


def test_unknown_format_and_missing_inputs(tmp_path):
    with pytest.raises(readers.UnsupportedInput, match="unknown input format"):
        readers.detect("data.csv")
    with pytest.raises(InputError, match="no input files match"):
        expand_inputs([str(tmp_path / "nothing-*.jsonl")])
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="unknown input format"):
        expand_inputs([str(tmp_path / "x.csv")])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl").write_text("{}\n")
    (tmp_path / "d" / "notes.md").write_text("x")
    assert [p for p, _ in expand_inputs([str(tmp_path / "d")])] == [str(tmp_path / "d" / "a.jsonl")]
