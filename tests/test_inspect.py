"""`ptd inspect` on generated shards with planted duplicates, PII and schema violations."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import zstandard

from telechat_ptd.inspect import scan as scan_module
from telechat_ptd.inspect.analyze import inspect_files
from telechat_ptd.inspect.scan import ScanOptions, scan_file
from telechat_ptd.corpora import peoples_daily_articles
from telechat_ptd.pii import find_pii, id_checksum_ok
from telechat_ptd.pipeline.cli import main
from telechat_ptd.pipeline.config import load_config


def resident_id(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


VALID_ID = resident_id("11010519491231002")
BAD_ID = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")  # wrong check digit
VIOLATIONS = {  # line number in a.jsonl.gz -> (raw line, expected error prefix)
    7: (b'{"data": "unterminated', "malformed JSON"),
    12: (b'{"text": "wrong field"}', "fields ['text']"),
    20: (b'{"data": 5}', "data is int"),
    30: (b"[1, 2]", "not a JSON object"),
    40: (b"", "malformed JSON"),
    41: ('{"data": "坏'.encode("gbk") + b'"}', "invalid UTF-8"),
}


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> tuple[Path, list[str]]:
    """a.jsonl.gz: 300 articles + 20 repeats, PII planted, 6 bad lines; b.jsonl.zst: 200 more
    + 10 repeats of a's; c.jsonl.gz: cut off mid-stream after its first 50 documents."""
    out = tmp_path_factory.mktemp("shards")
    articles = [a for a in peoples_daily_articles() if len(a) > 80]
    docs_a = articles[:300]
    docs_a[5] += f"\n联系电话：13812345678，邮箱 zhang.wei@example.com，身份证号 {VALID_ID}。"
    docs_a[9] += f"\n订单号 {BAD_ID} 已发货。"
    docs_a[11] += "\n如有疑问请发邮件至 service@news-site.cn 或致电 15900001111。"
    docs_a += docs_a[:20]
    lines, texts = [], []
    it = iter(docs_a)
    line = 1
    while len(texts) < len(docs_a):
        if line in VIOLATIONS:
            lines.append(VIOLATIONS[line][0])
        else:
            text = next(it)
            texts.append(text)
            lines.append(json.dumps({"data": text}, ensure_ascii=line % 2 == 0).encode())
        line += 1
    (out / "a.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    docs_b = articles[300:500] + docs_a[:10]
    texts += docs_b
    raw_b = "".join(json.dumps({"data": t}, ensure_ascii=False) + "\n" for t in docs_b).encode()
    (out / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw_b))
    docs_c = articles[500:700]
    full = gzip.compress("".join(json.dumps({"data": t}, ensure_ascii=False) + "\n" for t in docs_c).encode())
    (out / "c.jsonl.gz").write_bytes(full[: len(full) // 2])
    return out, texts


def test_counts_over_every_document_and_violations_with_line_numbers(shards):
    out, texts = shards
    s = scan_file(str(out / "a.jsonl.gz"), ScanOptions(analysis_docs=10_000))
    a_texts = texts[:320]
    assert s.docs == 320
    assert s.chars == sum(map(len, a_texts))
    assert s.han == sum(1 for t in a_texts for c in t if "\u4e00" <= c <= "\u9fff")
    assert s.length_hist.sum() == s.han_hist.sum() == 320
    assert s.violations == len(VIOLATIONS)
    assert [(v.line, v.error.split(" (")[0][: len(VIOLATIONS[v.line][1])]) for v in s.violation_examples] == \
        [(line, err) for line, (_, err) in sorted(VIOLATIONS.items())]
    assert sorted(s.reservoir) == sorted(a_texts)  # the whole file fits the sample


def test_block_boundaries_do_not_change_anything(shards, monkeypatch):
    out, _ = shards
    whole = scan_file(str(out / "a.jsonl.gz"), ScanOptions(analysis_docs=50))
    monkeypatch.setattr(scan_module, "BLOCK", 997)  # lines split across many blocks and reads
    monkeypatch.setattr(scan_module, "PIECE", 300)
    small = scan_file(str(out / "a.jsonl.gz"), ScanOptions(analysis_docs=50))
    assert (small.docs, small.chars, small.han, small.violations) == (whole.docs, whole.chars, whole.han, whole.violations)
    assert [v.line for v in small.violation_examples] == [v.line for v in whole.violation_examples]
    assert (small.length_hist == whole.length_hist).all()


def test_inspect_finds_duplicates_pii_and_a_broken_file(shards):
    out, texts = shards
    cfg = load_config()
    r = inspect_files([str(out)], cfg, ScanOptions(analysis_docs=10_000), workers=1, show=3, annotate=True)
    assert r.scan.docs == 320 + 210 + len(r.scan.reservoir) - 530  # c's readable part is counted too
    assert str(out / "c.jsonl.gz") in r.scan.file_errors and 0 < r.scan.docs - 530 < 200
    assert r.exact_dup_docs == 30
    assert r.pii_docs == {"cn_id": 3, "cn_mobile": 5, "email": 5}  # documents 5 and 11 are repeated: 3 and 2 copies
    assert r.languages.most_common(1)[0][0] == "zh"
    assert r.top_chars[0][0] in "的，。"
    assert r.annotate["keep"] > 0.5 * r.analysed
    assert len(r.sample) == 3 and all(t in texts or t in r.scan.reservoir for t in r.sample)
    parallel = inspect_files([str(out)], cfg, ScanOptions(analysis_docs=10_000), workers=2, show=3)
    assert (parallel.scan.docs, parallel.scan.chars, parallel.exact_dup_docs, parallel.scan.violations) == \
        (r.scan.docs, r.scan.chars, r.exact_dup_docs, r.scan.violations)
    assert parallel.scan.reservoir == r.scan.reservoir


def test_pii_ids_need_their_check_digit():
    assert id_checksum_ok(VALID_ID) and not id_checksum_ok(BAD_ID)
    assert find_pii(f"身份证{VALID_ID}，旧号{BAD_ID}") == {"cn_id": 1}
    assert find_pii("电话 138123456789 太长，订单 20231128123456") == {}
    assert find_pii("服务器 192.168.1.10，版本 1.2.3.4.5") == {"ipv4": 1}


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.cells, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "td":
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td":
            self.cells.append(self._cell)
            self._cell = None


def test_html_report_holds_the_numbers_and_embedded_figures(shards, tmp_path, capsys):
    out, _ = shards
    report = tmp_path / "report.html"
    assert main(["inspect", str(out / "a.jsonl.gz"), str(out / "b.jsonl.zst"), "--report", str(report),
                 "--annotate", "--analysis-docs", "1000", "--workers", "2", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "530" in printed and "schema violations" in printed
    parser = _Parser()
    parser.feed(report.read_text(encoding="utf-8"))
    assert "530" in parser.cells and "6" in parser.cells
    assert f"{out / 'a.jsonl.gz'}:7" in parser.cells
    assert any("30 (5.66%)" == c for c in parser.cells)
    assert len(parser.images) >= 4
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=['\"]https?://", report.read_text())  # opens offline
    assert main(["inspect", str(tmp_path / "nothing-here")]) == 2


def test_report_renders_in_a_headless_browser(shards, tmp_path):
    """The report opens from disk in Chromium (Debian's, installed by `make test`) and the
    embedded figures are drawn: their bar colours fill thousands of screen pixels."""
    import numpy as np
    from PIL import Image

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium not found: `make test` installs Debian's chromium package"
    out, _ = shards
    report = tmp_path / "report.html"
    assert main(["inspect", str(out / "a.jsonl.gz"), "--report", str(report), "--annotate", "-q"]) == 0
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,3000",
                    f"--screenshot={shot}", report.as_uri()], check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (3000, 1200)

    def painted(rgb):
        return int((np.abs(pixels - rgb).max(axis=-1) < 10).sum())

    assert painted([0x44, 0x72, 0xC4]) > 2000  # document-length bars
    assert painted([0xC0, 0x50, 0x4D]) > 2000  # Chinese-share bars
    assert painted([0x9B, 0xBB, 0x59]) > 1000  # top-character bars
