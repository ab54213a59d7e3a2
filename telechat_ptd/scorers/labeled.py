"""Positive and negative training text for the classifiers, and their held-out splits.

Positives are reference documents; negatives are real low-quality documents and, with
``degrade``, degraded versions of *other* reference documents (a disjoint half), so no
document's original and degraded forms end on both sides of a held-out split.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from telechat_ptd.scorers.degrade import degrade as degrade_texts
from telechat_ptd.scorers.reference import normalized, read_texts


def labeled_texts(positive: list[str], negative: list[str] | None = None, degrade: list[str] | None = None,
                  max_docs: int | None = None, seed: int = 0, min_chars: int = 0) -> tuple[list[str], list[str]]:
    """(positive texts, negative texts), both normalized as the pipeline's scorers see them;
    positives shorter than ``min_chars`` (which the length filter removes before any scorer)
    are left out."""
    pos = [t for t in normalized(read_texts(positive)) if len(t) >= min_chars]
    rng = random.Random(seed)
    rng.shuffle(pos)
    if max_docs:
        pos = pos[:max_docs]
    neg = list(normalized(read_texts(negative))) if negative else []
    if degrade:
        half = len(pos) // 2
        pos, source = pos[:half], pos[half:]
        # Normalized again: the pipeline's normalizer repairs some garble before any scorer sees it.
        neg += list(normalized(text for _, text in degrade_texts(source, degrade, seed)))
    if not pos or not neg:
        raise ValueError("need both positive and negative documents (give --negative files, or --degrade to make negatives)")
    return pos, neg


def write_labeled_csv(path: str | Path, positive: Iterable[str], negative: Iterable[str],
                      text_column: str = "text", label_column: str = "label") -> int:
    """Write ``positive`` (label 1) and ``negative`` (label 0) texts as a CSV that
    ``fine_tune`` reads; returns the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([text_column, label_column])
        for label, texts in ((1, positive), (0, negative)):
            for text in texts:
                writer.writerow([text, label])
                rows += 1
    return rows


def read_labeled_csv(path: str | Path, text_column: str = "text", label_column: str = "label") -> tuple[list[str], list[str]]:
    """(label-1 texts, label-0 texts) of a CSV with a header; any other label is an error
    naming the file and the line. A byte-order mark is accepted (COLD's files start with one)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such labeled CSV file")
    classes: tuple[list[str], list[str]] = ([], [])  # by label: 0, 1
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # the default 128 KiB is short for a web page
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file; expected a header with columns {text_column!r} and {label_column!r}")
        for column in (text_column, label_column):
            if column not in header:
                raise ValueError(f"{path}:1: no column {column!r} in the header (columns: {', '.join(map(repr, header))})")
        t, lab = header.index(text_column), header.index(label_column)
        while True:
            line = reader.line_num + 1  # where the next record starts (a quoted text may span lines)
            try:
                record = next(reader, None)
            except csv.Error as exc:
                raise ValueError(f"{path}:{line}: not valid CSV ({exc})") from None
            if record is None:
                break
            if not any(record):
                continue
            if len(record) != len(header):
                raise ValueError(f"{path}:{line}: {len(record)} fields, the header has {len(header)}")
            value = record[lab].strip()
            if value not in ("0", "1"):
                raise ValueError(f"{path}:{line}: label {value!r} in column {label_column!r} is not 0 or 1")
            classes[int(value)].append(record[t])
    for label in (0, 1):
        if not classes[label]:
            raise ValueError(f"{path}: no row has label {label}; a classifier needs both labels")
    return classes[1], classes[0]


def split_held_out(texts: Sequence[str], share: float, rng: random.Random, name: str) -> tuple[list[str], list[str]]:
    """(train, held out) texts of one class, at least one of each."""
    texts = [t for t in texts if t.strip()]
    if len(texts) < 2:
        raise ValueError(f"{name}: {len(texts)} non-empty documents; need at least 2 (one to train, one held out)")
    rng.shuffle(texts)
    n = min(len(texts) - 1, max(1, round(share * len(texts))))
    return texts[n:], texts[:n]
