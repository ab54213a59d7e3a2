"""Reading TeleChat-PTD shards (``{"data": ...}`` jsonl, plain, .gz or .zst) as a stream.

``ptd inspect`` reads the raw pieces; tokenizer training and packing read documents.
"""

from __future__ import annotations

import glob
import json
import logging
import os
from collections.abc import Iterator

import numpy as np

from telechat_ptd.gunzip import gunzip_pieces

PIECE = 256 * 1024  # decompressed bytes per read
SHARD_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst")
log = logging.getLogger(__name__)


def expand(paths: list[str]) -> list[str]:
    """Files, directories (their shard files, recursively) and globs, sorted; a path that
    matches nothing is an error naming it."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names if name.endswith(SHARD_SUFFIXES))
        elif os.path.isfile(path):
            found = [path]
        else:
            found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not found:
            raise FileNotFoundError(f"no shard files at {path} (expected .jsonl, .jsonl.gz or .jsonl.zst)")
        files += found
    return list(dict.fromkeys(files))


def decompressed_pieces(path: str, piece: int = PIECE) -> Iterator[bytes]:
    """The file's decompressed bytes in pieces; an error is raised only after every piece
    before it was handed over."""
    with open(path, "rb") as f:
        if path.endswith(".gz"):
            yield from gunzip_pieces(f, chunk=piece)
        elif path.endswith(".zst"):
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
            while data := reader.read1(piece):
                yield data
        else:
            while data := f.read(piece):
                yield data


def iter_lines(path: str) -> Iterator[bytes]:
    tail = b""
    for piece in decompressed_pieces(path):
        lines = (tail + piece).split(b"\n")
        tail = lines.pop()
        yield from lines
    if tail:
        yield tail


def iter_texts(paths: list[str], sample: float = 1.0, max_docs: int | None = None, seed: int = 0) -> Iterator[str]:
    """Documents of shard files (directories and globs expanded), each kept with probability
    ``sample``, at most ``max_docs``; lines that are not {"data": str} are skipped and counted
    in a warning."""
    rng = np.random.default_rng(seed)
    given = skipped = 0
    for path in expand(paths):
        for line in iter_lines(path):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["data"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            if sample < 1.0 and rng.random() >= sample:
                continue
            yield text
            given += 1
            if max_docs is not None and given >= max_docs:
                break
        if max_docs is not None and given >= max_docs:
            break
    if skipped:
        log.warning("skipped %d lines that are not {\"data\": str}", skipped)
