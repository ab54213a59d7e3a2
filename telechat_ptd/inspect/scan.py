"""One streaming pass over a shard file: the statistics ``ptd inspect`` reports.

Every document is counted (characters, Chinese characters, a hash for exact duplicates, schema
violations with their line numbers). The costlier views (language, top characters and n-grams,
PII, near duplicates, what our filters would drop) look at a uniform random sample, kept by
reservoir sampling, so memory stays flat however large the shard.

Speed: gzip is inflated by ISA-L (``isal``), blocks of lines are parsed by Arrow's JSON reader
into one UTF-8 buffer, and a compiled kernel walks that buffer. A block that is not clean
(a malformed line, another field, a non-string) is parsed again line by line, so a violation
is reported with its line number and the valid lines of the block still count.
"""

from __future__ import annotations

import io
import json
import os
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from telechat_ptd.gunzip import error as gzip_error
from telechat_ptd.kernels import utf8_doc_stats
from telechat_ptd.shards import PIECE, decompressed_pieces

BLOCK = 8 * 1024 * 1024  # lines parsed together
LEN_BINS = 26  # floor(log2(chars + 1)): 0 .. 2^25 characters
HAN_BINS = 20  # han / chars in twentieths (the last bin holds 1.0)
_READ = pj.ReadOptions(use_threads=False, block_size=BLOCK * 2)
_PARSE = pj.ParseOptions(explicit_schema=pa.schema([("data", pa.string())]), unexpected_field_behavior="error")


@dataclass
class ScanOptions:
    analysis_docs: int = 2000  # reservoir size for the sampled views
    max_violations: int = 50  # examples kept per file (all are counted)
    seed: int = 0


@dataclass
class Violation:
    file: str
    line: int
    error: str
    raw: str


@dataclass
class ShardScan:
    """Mergeable statistics of one or more files."""

    files: list[str] = field(default_factory=list)
    compressed_bytes: int = 0
    raw_bytes: int = 0
    docs: int = 0
    chars: int = 0
    han: int = 0
    length_hist: np.ndarray = field(default_factory=lambda: np.zeros(LEN_BINS, dtype=np.int64))
    han_hist: np.ndarray = field(default_factory=lambda: np.zeros(HAN_BINS + 1, dtype=np.int64))
    lengths: list[np.ndarray] = field(default_factory=list)  # characters per document
    hashes: list[np.ndarray] = field(default_factory=list)  # FNV-1a of each document's bytes
    violations: int = 0
    violation_examples: list[Violation] = field(default_factory=list)
    file_errors: dict[str, str] = field(default_factory=dict)
    reservoir: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # documents each reservoir entry stands for
    seconds: float = 0.0

    def merge(self, other: ShardScan, rng: np.random.Generator, k: int) -> ShardScan:
        self.files += other.files
        for name in ("compressed_bytes", "raw_bytes", "docs", "chars", "han", "violations", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.length_hist = self.length_hist + other.length_hist
        self.han_hist = self.han_hist + other.han_hist
        self.lengths += other.lengths
        self.hashes += other.hashes
        self.violation_examples += other.violation_examples
        self.file_errors.update(other.file_errors)
        pool = self.reservoir + other.reservoir
        weights = np.array(self.weights + other.weights, dtype=float)
        if len(pool) > k:  # keep k, each with probability proportional to what it stands for
            keep = np.sort(rng.choice(len(pool), size=k, replace=False, p=weights / weights.sum()))
            pool = [pool[i] for i in keep]
            weights = np.full(k, weights.sum() / k)
        self.reservoir, self.weights = pool, list(weights)
        return self


class _Reservoir:
    """Algorithm R over a stream of Arrow string arrays; only the chosen texts become str."""

    def __init__(self, k: int, rng: np.random.Generator):
        self.k, self.rng, self.seen, self.items = k, rng, 0, []

    def offer(self, texts: pa.StringArray) -> None:
        n = len(texts)
        fill = min(max(self.k - len(self.items), 0), n)
        self.items += texts.slice(0, fill).to_pylist()
        if fill < n:
            t = np.arange(self.seen + fill, self.seen + n) + 1
            slots = (self.rng.random(n - fill) * t).astype(np.int64)
            for j in np.flatnonzero(slots < self.k):
                self.items[slots[j]] = texts[fill + int(j)].as_py()
        self.seen += n


def _line_by_line(block: bytes, first_line: int, path: str, scan: ShardScan, opts: ScanOptions) -> pa.StringArray:
    """The exact path: every line parsed alone; violations recorded, valid texts returned."""
    texts = []
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()  # the block's final newline
    for i, line in enumerate(lines):
        error = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                error = f"not a JSON object ({type(record).__name__})"
            elif set(record) != {"data"}:
                error = f"fields {sorted(record)}, expected exactly ['data']"
            elif not isinstance(record["data"], str):
                error = f"data is {type(record['data']).__name__}, not a string"
        except UnicodeDecodeError as exc:
            error = f"invalid UTF-8: {exc.reason} at byte {exc.start}"
        except json.JSONDecodeError as exc:
            error = f"malformed JSON: {exc.msg} (column {exc.colno})"
        if error is None:
            texts.append(record["data"])
            continue
        scan.violations += 1
        if len(scan.violation_examples) < opts.max_violations:
            scan.violation_examples.append(Violation(path, first_line + i, error, line[:200].decode("utf-8", "replace")))
    return pa.array(texts, type=pa.string())


def _parse_block(block: bytes, newlines: int, first_line: int, path: str, scan: ShardScan, opts: ScanOptions) -> pa.StringArray:
    lines = newlines + (0 if block.endswith(b"\n") else 1)
    if b"\n\n" not in block and not block.startswith(b"\n"):
        try:
            table = pj.read_json(io.BytesIO(block), read_options=_READ, parse_options=_PARSE)
            column = table.column("data")
            if table.num_rows == lines and column.null_count == 0:
                return column.combine_chunks()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return _line_by_line(block, first_line, path, scan, opts)


def _count(texts: pa.StringArray, scan: ShardScan) -> None:
    n = len(texts)
    if n == 0:
        return
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset : texts.offset + n + 1]
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8) if texts.buffers()[2] is not None else np.zeros(0, np.uint8)
    chars, han, hashes = utf8_doc_stats(data, offsets, n)
    scan.docs += n
    scan.chars += int(chars.sum())
    scan.han += int(han.sum())
    scan.length_hist += np.bincount(np.log2(chars + 1).astype(np.int64).clip(0, LEN_BINS - 1), minlength=LEN_BINS)
    ratio = np.divide(han, chars, out=np.zeros(n), where=chars > 0)
    scan.han_hist += np.bincount((ratio * HAN_BINS).astype(np.int64), minlength=HAN_BINS + 1)
    scan.lengths.append(chars.astype(np.int32))
    scan.hashes.append(hashes)


def scan_file(path: str, opts: ScanOptions = ScanOptions()) -> ShardScan:
    """Statistics of one file; a broken archive keeps what was read before the break."""
    import time

    started = time.perf_counter()
    scan = ShardScan(files=[path], compressed_bytes=os.path.getsize(path))
    rng = np.random.default_rng([opts.seed, zlib.crc32(os.path.basename(path).encode())])
    reservoir = _Reservoir(opts.analysis_docs, rng)
    line = 1
    pending = b""

    def consume(data: bytes) -> None:
        nonlocal line
        newlines = data.count(b"\n")
        texts = _parse_block(data, newlines, line, path, scan, opts)
        line += newlines
        _count(texts, scan)
        reservoir.offer(texts)

    pieces: list[bytes] = []
    size = 0
    try:
        for piece in decompressed_pieces(path, PIECE):
            scan.raw_bytes += len(piece)
            pieces.append(piece)
            size += len(piece)
            if size >= BLOCK:
                pending = b"".join(pieces)
                pieces, size = [], 0
                cut = pending.rfind(b"\n") + 1
                if cut:
                    consume(pending[:cut])
                    pending = pending[cut:]
                pieces, size = [pending], len(pending)
        pending = b"".join(pieces)
    except (EOFError, OSError, ValueError, gzip_error) as exc:  # truncated or corrupt archive
        pending = b"".join(pieces)
        cut = pending.rfind(b"\n") + 1
        if cut:
            consume(pending[:cut])
        scan.file_errors[path] = (f"{type(exc).__name__}: {exc} (the {line - 1:,} complete lines before the break are counted; "
                                  f"a partial line of {len(pending) - cut:,} bytes is not)")
        pending = b""
    if pending.strip():
        consume(pending)
    scan.reservoir = reservoir.items
    scan.weights = [reservoir.seen / max(1, len(reservoir.items))] * len(reservoir.items)
    scan.seconds = time.perf_counter() - started
    return scan
