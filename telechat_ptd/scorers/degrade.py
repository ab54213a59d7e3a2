"""Low-quality text made from real text, to train and evaluate the quality scorers.

Each degradation imitates a kind of page a pretraining corpus must not keep: word salad
(``shuffle``: the same words as a real document, in random order, which only a model of word
order can tell apart), keyword stuffing (SEO spam), boilerplate-only pages (navigation, share
buttons, copyright lines) and machine garble (mojibake and random characters). Words are
jieba's segmentation for Chinese and whitespace tokens otherwise.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable

_HAN = re.compile(r"[\u4e00-\u9fff]")

BOILERPLATE_ZH = [
    "首页", "网站首页", "新闻中心", "关于我们", "联系我们", "返回顶部", "上一篇", "下一篇", "分享到：微信 微博 QQ空间",
    "扫一扫关注我们", "版权所有 © 2023 本站 保留所有权利", "免责声明", "网站地图", "登录 | 注册", "热门推荐", "猜你喜欢",
    "相关阅读", "点击查看更多", "责任编辑：小编", "本文来源：网络", "ICP备案号：京ICP备12345678号", "客服热线：400-800-8888",
    "设为首页 | 加入收藏", "当前位置：首页 > 资讯 > 正文", "阅读原文", "举报", "评论（0）", "收藏", "点赞",
]
BOILERPLATE_EN = [
    "Home", "About us", "Contact", "Privacy policy", "Terms of use", "Sign in", "Sign up", "Subscribe to our newsletter",
    "Share on Facebook", "Share on Twitter", "Read more", "Related posts", "Copyright © 2023 All rights reserved",
    "Skip to main content", "Cookie settings", "Back to top", "Next article", "Previous article", "Menu", "Search",
]
SPAM_ZH = ["免费", "最新", "在线观看", "下载", "优惠", "代理", "官网", "排行榜", "高清", "价格", "厂家", "批发", "加盟", "招商"]
SPAM_EN = ["free", "best", "cheap", "online", "download", "buy", "discount", "deal", "top", "review", "casino", "loan"]


def is_chinese(text: str) -> bool:
    return len(_HAN.findall(text[:2000])) >= 0.3 * max(1, sum(ch.isalpha() for ch in text[:2000]))


def words(text: str) -> list[str]:
    """Word tokens of ``text``: jieba for Chinese (punctuation kept as tokens), whitespace otherwise."""
    if is_chinese(text):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return [w for w in jieba.lcut(text.replace("\n", "")) if w.strip()]
    return text.split()


def _join(tokens: list[str], chinese: bool) -> str:
    return ("" if chinese else " ").join(tokens)


def shuffle(text: str, rng: random.Random) -> str:
    """The document's own words in random order."""
    tokens = words(text)
    rng.shuffle(tokens)
    return _join(tokens, is_chinese(text))


def stuff_keywords(text: str, rng: random.Random) -> str:
    """A few of the document's content words and spam terms, repeated in a keyword list."""
    chinese = is_chinese(text)
    content = [w for w in words(text) if len(w) >= 2 and w.isalnum()] or words(text)
    pool = rng.sample(content, min(len(content), 6)) + rng.sample(SPAM_ZH if chinese else SPAM_EN, 4)
    sep = rng.choice(["，", " ", "、", "|"] if chinese else [", ", " ", " | "])
    n = max(20, len(text) // (3 if chinese else 8))
    return sep.join(rng.choice(pool) for _ in range(n))


def boilerplate(text: str, rng: random.Random) -> str:
    """A page that is only navigation, share buttons and legal lines (its length like ``text``'s)."""
    lines = BOILERPLATE_ZH if is_chinese(text) else BOILERPLATE_EN
    out: list[str] = []
    while sum(len(s) for s in out) < min(len(text), 600):
        out.append(rng.choice(lines))
    return "\n".join(out)


def garble(text: str, rng: random.Random) -> str:
    """Mojibake (UTF-8 read as GBK or Latin-1) of the document, with random characters mixed in."""
    data = text.encode("utf-8")
    codec = rng.choice(["gbk", "latin-1"])
    broken = data.decode(codec, errors="replace")
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) if rng.random() < 0.5 else chr(rng.randrange(0x21, 0x7E)) for _ in range(len(text) // 4))
    cut = rng.randrange(len(broken) + 1)
    return broken[:cut] + noise + broken[cut:]


DEGRADATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "shuffle": shuffle,
    "stuff": stuff_keywords,
    "boilerplate": boilerplate,
    "garble": garble,
}


def degrade(texts: list[str], kinds: list[str] | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """(kind, degraded text) for every text, the kinds taken in turn (all by default)."""
    kinds = kinds or list(DEGRADATIONS)
    unknown = [k for k in kinds if k not in DEGRADATIONS]
    if unknown:
        raise ValueError(f"unknown degradation {unknown[0]!r}; choose from {', '.join(DEGRADATIONS)}")
    rng = random.Random(seed)
    return [(kinds[i % len(kinds)], DEGRADATIONS[kinds[i % len(kinds)]](text, rng)) for i, text in enumerate(texts)]
