"""WARC / WET input: which records become documents, charsets, broken archives, real crawls."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import Counter

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from telechat_ptd.pipeline import readers, warc
from telechat_ptd.pipeline.config import load_config
from telechat_ptd.pipeline.inputs import expand_inputs

from .conftest import SHARED, ZH_NEWS, read_dir, read_jsonl
from .test_readers import kinds
from .test_readers import read_all as read_items

WARC_DIR = SHARED / "warc"


def read_all(path, *sets):
    """The records (documents, rejected, errors), without the skipped-record counts."""
    return [item for item in read_items(path, *sets) if item[0] != "skipped"]


def page(title: str, charset_meta: str | None = None, text: str = ZH_NEWS) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>"
        f"<nav><a href='/'>首页</a> | <a href='/news'>新闻</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>版权所有 2024 示例网</footer></body></html>"
    )


class Crawl:
    """A WARC written with warcio's own writer, in memory."""

    def __init__(self, gz: bool = True):
        self.buf = io.BytesIO()
        self.writer = WARCWriter(self.buf, gzip=gz)

    def response(self, url, body: bytes, ctype="text/html", status="200 OK", headers=()):
        http = StatusAndHeaders(status, [("Content-Type", ctype), *headers] if ctype else list(headers), protocol="HTTP/1.1")
        self.writer.write_record(self.writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
        return self

    def request(self, url):
        http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.cn")], is_http_request=True)
        self.writer.write_record(self.writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=http))
        return self

    def conversion(self, url, text: str):
        rec = self.writer.create_warc_record(url, "conversion", payload=io.BytesIO(text.encode()), warc_content_type="text/plain")
        self.writer.write_record(rec)
        return self

    def save(self, path):
        path.write_bytes(self.buf.getvalue())
        return path


def test_detection_and_planning(tmp_path):
    assert readers.detect("a.warc") == ("warc", "none")
    assert readers.detect("CC-MAIN-1.warc.gz") == ("warc", "gzip")
    assert readers.detect("a.wet") == ("wet", "none")
    assert readers.detect("CC-MAIN-1.warc.wet.gz") == ("wet", "gzip")
    assert readers.detect("x.wet.gz") == ("wet", "gzip")
    with pytest.raises(readers.UnsupportedInput, match="WAT"):
        readers.detect("CC-MAIN-1.warc.wat.gz")
    with pytest.raises(readers.UnsupportedInput, match="plain or gzipped"):
        readers.detect("a.warc.zst")
    path = Crawl().response("http://a.cn/", page("甲").encode()).save(tmp_path / "big.warc.gz")
    assert len(readers.plan(str(path), 10**10, load_config().read)) == 1
    (tmp_path / "meta.warc.wat.gz").write_bytes(b"")
    assert [os.path.basename(p) for p, _ in expand_inputs([str(tmp_path / "*.gz")])] == ["big.warc.gz"]


def test_charset_from_meta_header_and_detection(tmp_path):
    crawl = Crawl()
    # GBK page declared only in <meta>, the HTTP header without a charset
    crawl.response("http://a.cn/gbk", page("国民经济", "gbk").encode("gbk"), ctype="text/html")
    # charset in the HTTP header only; GB2312 is decoded as GB18030 (a character outside GB2312)
    crawl.response("http://a.cn/hdr", page("镕基", text=ZH_NEWS + "\n朱镕基同志。").encode("gb18030"), ctype="text/html; charset=GB2312")
    # nothing declared: detection
    crawl.response("http://a.cn/undeclared", page("发布会").encode("gb18030"), ctype="text/html")
    # Big5 declared in the header (decoded as Big5-HKSCS)
    big5 = page("國務院", text="國務院新聞辦公室今天舉行新聞發布會，介紹今年前三季度國民經濟運行情況。" * 8)
    big5 = big5.replace("首页", "首頁").replace("新闻", "新聞").replace("版权所有", "版權所有").replace("示例网", "示例網")
    crawl.response("http://a.cn/big5", big5.encode("big5"), ctype="text/html; charset=big5")
    # declared GBK but really UTF-8
    crawl.response("http://a.cn/liar", page("说谎", "gbk").encode("utf-8"), ctype="text/html")
    items = read_all(crawl.save(tmp_path / "cs.warc.gz"))
    assert kinds(items) == ["doc"] * 5
    docs = {d["url"].rsplit("/", 1)[-1]: d for _, d in items}
    for name, doc in docs.items():
        assert "\ufffd" not in doc["text"], name
    assert "国务院新闻办公室今天举行新闻发布会" in docs["gbk"]["text"] and docs["gbk"]["charset"] == "gb18030"
    assert "朱镕基同志" in docs["hdr"]["text"] and docs["hdr"]["charset"] == "gb18030"
    assert "国家统计局新闻发言人表示" in docs["undeclared"]["text"] and docs["undeclared"]["charset"] == "gb18030"
    assert "國務院新聞辦公室" in docs["big5"]["text"] and docs["big5"]["charset"] == "big5hkscs"
    assert "国务院新闻办公室" in docs["liar"]["text"] and docs["liar"]["charset"] == "utf_8"
    # main text only: navigation and footer are gone
    assert "首页" not in docs["gbk"]["text"] and "版权所有" not in docs["gbk"]["text"]


def test_metadata_ids_and_gzip_member_per_record(tmp_path):
    crawl = Crawl(gz=True)
    for i in range(3):
        crawl.request(f"http://a.cn/{i}").response(f"http://a.cn/{i}", page(f"第{i}篇", "utf-8", ZH_NEWS + f"\n第{i}篇。").encode())
    path = crawl.save(tmp_path / "m.warc.gz")
    data = path.read_bytes()
    assert data.count(b"\x1f\x8b\x08") == 6  # one gzip member per record
    items = read_all(path)
    assert kinds(items) == ["doc"] * 3
    doc = items[1][1]
    assert doc["url"] == "http://a.cn/1" and doc["source"] == "web" and doc["content_type"] == "text/html"
    assert doc["id"].startswith("urn:uuid:") and doc["date"].startswith("20")
    assert [d["id"] for _, d in read_all(path)] == [d["id"] for _, d in items]  # stable: the WARC-Record-ID
    assert "第1篇" in doc["text"]
    # an uncompressed copy reads the same documents
    plain = tmp_path / "m.warc"
    plain.write_bytes(b"".join(gzip.decompress(data[s:e]) for s, e in _members(data)))
    assert [d["text"] for _, d in read_all(plain)] == [d["text"] for _, d in items]
    # read.sources rules still pick the source
    assert read_all(path, "read.default_source=crawl")[0][1]["source"] == "crawl"


def _members(data: bytes):
    starts = []
    i = data.find(b"\x1f\x8b\x08")
    while i >= 0:
        try:
            gzip.decompress(data[i:])
            starts.append(i)
        except (OSError, EOFError):
            pass
        i = data.find(b"\x1f\x8b\x08", i + 1)
    return list(zip(starts, starts[1:] + [len(data)]))


def test_chunked_and_content_encoded_responses(tmp_path):
    body = page("分块", "utf-8").encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 500]), body[i:i + 500]) for i in range(0, len(body), 500)) + b"0\r\n\r\n"
    crawl = Crawl(gz=False)
    crawl.response("http://a.cn/chunked", chunked, headers=[("Transfer-Encoding", "chunked")])
    crawl.response("http://a.cn/gzip", gzip.compress(body), headers=[("Content-Encoding", "gzip")])
    items = read_all(crawl.save(tmp_path / "c.warc"))
    assert kinds(items) == ["doc", "doc"]
    for _, doc in items:
        assert "国务院新闻办公室" in doc["text"] and "0\r\n" not in doc["text"]


def test_only_pages_are_documents_and_skips_are_counted(tmp_path):
    crawl = Crawl()
    crawl.request("http://a.cn/").response("http://a.cn/", page("首页新闻", "utf-8").encode())
    crawl.response("http://a.cn/old", b"", ctype="text/html", status="301 Moved Permanently", headers=[("Location", "http://a.cn/")])
    crawl.response("http://a.cn/missing", b"<html><body>404 Not Found</body></html>", status="404 Not Found")
    crawl.response("http://a.cn/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ctype="image/png")
    crawl.response("http://a.cn/robots.txt", "User-agent: *\n网站地图\n".encode(), ctype="text/plain; charset=utf-8")
    crawl.response("http://a.cn/empty", b"<html><head><title>x</title></head><body><script>var a = 1;</script></body></html>")
    crawl.response("http://a.cn/notype", page("无类型", "utf-8").encode(), ctype=None)
    crawl.response("http://a.cn/data", b'{"a": 1}', ctype=None)
    path = crawl.save(tmp_path / "mix.warc.gz")
    skipped = Counter()
    with open(path, "rb") as f:
        out = list(warc.iter_records(f, skipped=skipped))
    assert skipped == Counter({"request": 1, "status_301": 1, "status_404": 1, "content_type": 2})
    assert [(o.url.rsplit("/", 1)[-1], o.reason) for o in out] == [("", None), ("robots.txt", None), ("empty", "no_main_text"), ("notype", None)]
    items = read_items(path)
    assert items[-1] == ("skipped", {"request": 1, "status_301": 1, "status_404": 1, "content_type": 2})
    items = items[:-1]
    assert kinds(items) == ["doc", "doc", "rejected", "doc"]
    rejected = items[2][1]
    assert rejected["stage"] == "read" and rejected["reason"] == "no_main_text" and "http://a.cn/empty" in rejected["detail"]
    assert items[1][1]["text"] == "User-agent: *\n网站地图" and items[1][1]["content_type"] == "text/plain"


def test_truncated_file_keeps_earlier_documents(tmp_path):
    for gz in (True, False):
        crawl = Crawl(gz=gz)
        for i in range(3):
            crawl.response(f"http://a.cn/{i}", page(f"第{i}篇", "utf-8", ZH_NEWS + f"\n编号{i}。").encode())
        data = crawl.buf.getvalue()
        last = data.rfind(b"\x1f\x8b\x08") if gz else data.rfind(b"WARC/1.")
        path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
        path.write_bytes(data[: last + (len(data) - last) // 2])
        items = read_all(path)
        assert kinds(items) == ["doc", "doc", "error"], gz
        error = items[2][1]
        assert error["offset"] == last and error["url"] == "http://a.cn/2" and "truncated" in error["error"]
        assert error["file"] == str(path) and error["stage"] == "read"


def test_malformed_records_are_errors_and_reading_goes_on(tmp_path):
    crawl = Crawl(gz=False)
    for i in range(3):
        crawl.response(f"http://a.cn/{i}", page(f"第{i}篇", "utf-8", ZH_NEWS + f"\n编号{i}。").encode())
    data = crawl.buf.getvalue()
    second = data.find(b"WARC/1.", data.find(b"http://a.cn/1") - 200)
    broken = data[:second] + b"GARBAGE HEADER LINE\r\n" + data[second + len(b"WARC/1.0\r\n"):]
    path = tmp_path / "bad.warc"
    path.write_bytes(broken)
    items = read_all(path)
    assert kinds(items) == ["doc", "error", "doc"]
    assert "malformed record" in items[1][1]["error"] and items[1][1]["offset"] == second
    assert items[2][1]["url"] == "http://a.cn/2"
    # a corrupt gzip member in the middle: an error, then the next member
    crawl = Crawl(gz=True)
    for i in range(3):
        crawl.response(f"http://a.cn/{i}", page(f"第{i}篇", "utf-8", ZH_NEWS + f"\n编号{i}。").encode())
    data = bytearray(crawl.buf.getvalue())
    start, end = _members(bytes(data))[1]
    data[start + 40 : start + 60] = b"\xff" * 20
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(bytes(data))
    items = read_all(path)
    assert kinds(items) == ["doc", "error", "doc"] and items[1][1]["offset"] == start
    assert items[2][1]["url"] == "http://a.cn/2"


def test_undecodable_body_is_an_error(tmp_path):
    crawl = Crawl()
    body = b"<html><head><meta charset='utf-8'></head><body><p>" + bytes(range(128, 256)) * 20 + b"</p></body></html>"
    crawl.response("http://a.cn/binary", body, ctype="text/html; charset=utf-8")
    crawl.response("http://a.cn/ok", page("正常", "utf-8").encode())
    items = read_all(crawl.save(tmp_path / "u.warc.gz"))
    assert kinds(items) == ["error", "doc"]
    assert items[0][1]["url"] == "http://a.cn/binary" and "does not decode" in items[0][1]["error"]


def test_whole_file_gzip_is_read_through_one_stream(tmp_path):
    crawl = Crawl(gz=False)
    for i in range(3):
        crawl.response(f"http://a.cn/{i}", page(f"第{i}篇", "utf-8", ZH_NEWS + f"\n编号{i}。").encode())
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(crawl.buf.getvalue()))
    items = read_all(path)
    assert kinds(items) == ["doc"] * 3 and [d["url"] for _, d in items] == [f"http://a.cn/{i}" for i in range(3)]


def test_wet_conversion_records(tmp_path):
    crawl = Crawl()
    crawl.conversion("http://a.cn/1", ZH_NEWS)
    crawl.conversion("http://a.cn/2", "   ")
    path = crawl.save(tmp_path / "x.warc.wet.gz")
    items = read_all(path)
    assert kinds(items) == ["doc", "rejected"]
    doc = items[0][1]
    assert doc["text"] == ZH_NEWS and doc["url"] == "http://a.cn/1" and doc["content_type"] == "text/plain"
    assert items[1][1]["reason"] == "no_main_text"


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.warc.gz"
    path.write_bytes(b"")
    assert kinds(read_all(path)) == ["error"]


# --- real crawls ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warc_dir():
    if not WARC_DIR.is_dir():
        pytest.skip(f"WARC reference files not found at {WARC_DIR} (set PTD_SHARED_DATA)")
    return WARC_DIR


def test_every_real_file_yields_documents(warc_dir):
    files = sorted(p for p in warc_dir.iterdir() if ".wat" not in p.name)
    assert files
    for path in files:
        items = read_all(path)
        assert "doc" in kinds(items) and "error" not in kinds(items), path.name
        for _, doc in items:
            assert doc["url"].startswith("http") and doc["id"].startswith("urn:uuid:")


def test_known_page_main_text(warc_dir):
    items = read_all(warc_dir / "commoncrawl__whirlwind.warc.gz")
    assert kinds(items) == ["doc"]
    doc = items[0][1]
    assert doc["url"] == "https://an.wikipedia.org/wiki/Escopete" and doc["date"] == "2024-05-18T01:58:10Z"
    assert "Escopete ye un municipio d'a provincia de Guadalachara" in doc["text"]
    wet = read_all(warc_dir / "commoncrawl__whirlwind.warc.wet.gz")
    assert kinds(wet) == ["doc"] and wet[0][1]["url"] == doc["url"]
    assert "Escopete ye un municipio" in wet[0][1]["text"]


def test_chunked_real_file(warc_dir):
    items = read_all(warc_dir / "warcio_example-iana.org-chunked.warc")
    assert kinds(items) == ["doc"] and "Management of the DNS Root Zone" in items[0][1]["text"]


def test_wat_file_is_refused_by_name_and_skipped_in_globs(warc_dir):
    with pytest.raises(readers.UnsupportedInput, match="WAT"):
        readers.detect(str(warc_dir / "commoncrawl__whirlwind.warc.wat.gz"))
    names = [os.path.basename(p) for p, _ in expand_inputs([str(warc_dir / "*.gz")])]
    assert "commoncrawl__whirlwind.warc.wat.gz" not in names and "commoncrawl__whirlwind.warc.wet.gz" in names


# --- end to end ----------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_clean_on_a_warc(tmp_path):
    from telechat_ptd.pipeline.cli import main

    crawl = Crawl()
    for i in range(4):
        crawl.request(f"http://a.cn/{i}").response(f"http://a.cn/{i}", page(f"第{i}篇", "gbk", ZH_NEWS + f"\n这是第{i}篇报道的结尾。").encode("gbk"))
    crawl.response("http://a.cn/dup", page("第0篇", "gbk", ZH_NEWS + "\n这是第0篇报道的结尾。").encode("gbk"))
    crawl.response("http://a.cn/empty", b"<html><body><script>x()</script></body></html>")
    crawl.response("http://a.cn/img.jpg", b"\xff\xd8\xff" + b"\x00" * 100, ctype="image/jpeg")
    data = crawl.buf.getvalue()
    src = tmp_path / "crawl"
    src.mkdir()
    (src / "a.warc.gz").write_bytes(data)
    last = data.rfind(b"\x1f\x8b\x08")  # the image record's gzip member, cut in its middle
    (src / "cut.warc.gz").write_bytes(data[: last + (len(data) - last) // 2])
    out = tmp_path / "out"
    assert main(["clean", str(src / "*.warc.gz"), "-o", str(out), "-q"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["balanced"] and stats["input"] == stats["kept"] + stats["rejected"] + stats["errors"]
    # a.warc.gz: 5 pages + 1 empty page; cut.warc.gz: the same, and its last record (the image) is cut: an error
    assert stats["input"] == 13 and stats["errors"] == 1
    # the requests (4 + 4) and the one image that was not cut are no documents: counted apart
    assert stats["warc_skipped"] == {"request": 8, "content_type": 1}
    kept = read_dir(out / "data")
    assert len(kept) == stats["kept"] and all(list(r) == ["data"] for r in kept)
    assert any("国务院新闻办公室" in r["data"] for r in kept)
    rejected = read_dir(out / "rejected")
    assert {r["reason"] for r in rejected} >= {"no_main_text", "exact_duplicate"}
    errors = read_jsonl(out / "errors" / "0.jsonl")
    assert len(errors) == 1 and errors[0]["file"].endswith("cut.warc.gz") and "truncated" in errors[0]["error"]


@pytest.mark.parametrize("gz", [True, False])
def test_any_cut_in_the_last_record_is_one_error(tmp_path, gz):
    crawl = Crawl(gz=gz)
    crawl.response("http://a.cn/1", page("第一篇", "utf-8").encode())
    crawl.response("http://a.cn/img.jpg", b"\xff\xd8\xff" + bytes(range(256)), ctype="image/jpeg")
    data = crawl.buf.getvalue()
    first_end = data.rfind(b"\x1f\x8b\x08") if gz else data.rfind(b"WARC/1.")
    for cut in range(first_end + 3, len(data) - 4, 23):
        with io.BytesIO(data[:cut]) as f:
            out = list(warc.iter_records(f))
        assert [type(o).__name__ for o in out] == ["WebRecord", "WebError"], cut
        assert out[1].offset == first_end and ("truncated" in out[1].message or "malformed" in out[1].message)
