"""Input formats: plan a file into ranges, then stream records out of one range.

Pure Python over Beam's ``FileSystems`` (so gs://, s3://, hdfs:// paths work); the Beam
transform in ``read.py`` only distributes the ranges. Every record comes out as exactly one of
``("doc", doc)``, ``("rejected", record)`` or ``("error", record)``: a bad line, a truncated
archive or a broken file is reported with its file and line and the rest of the input is read.
Web archives also hold records that are no documents at all (requests, redirects, images):
those come out once per range as ``("skipped", {reason: count})``.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from telechat_ptd.pipeline.config import ReadConfig

FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".txt": "txt", ".parquet": "parquet",
    ".warc": "warc", ".wet": "wet",
}
WEB_FORMATS = ("warc", "wet")  # read by ``warc.py``: one range per file, the raw bytes to warcio
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
RAW_SNIPPET = 300  # characters of a bad record kept in errors/

Item = tuple[str, dict]


class UnsupportedInput(ValueError):
    pass


@dataclass(frozen=True)
class FileRange:
    """A unit of reading work: bytes [start, end) of an uncompressed text file, row groups
    [start, end) of a parquet file, or a whole file (end == -1)."""

    path: str
    fmt: str
    compression: str
    source: str
    start: int = 0
    end: int = -1
    txt_mode: str = "line"


def detect(path: str) -> tuple[str, str]:
    """(format, compression) from the file name, e.g. 'a.jsonl.zst' -> ('jsonl', 'zstd')."""
    name = path.lower()
    compression = "none"
    for ext, comp in COMPRESSIONS.items():
        if name.endswith(ext):
            compression, name = comp, name[: -len(ext)]
            break
    for ext, fmt in FORMATS.items():
        if name.endswith(ext):
            if fmt == "parquet" and compression != "none":
                raise UnsupportedInput(f"{path}: parquet files carry their own compression")
            if fmt in WEB_FORMATS and compression not in ("none", "gzip"):
                raise UnsupportedInput(f"{path}: WARC/WET files are read plain or gzipped (.gz), not {compression}")
            return fmt, compression
    if name.endswith((".wat", ".arc")):
        kind = "WAT (WARC metadata, no page text)" if name.endswith(".wat") else "ARC"
        raise UnsupportedInput(f"{path}: {kind} files are not supported; give the .warc(.gz) or .wet(.gz) files")
    raise UnsupportedInput(
        f"{path}: unknown input format (expected {', '.join(FORMATS)} with optional .gz/.zst;"
        " .warc/.wet plain or .gz)"
    )


def source_for(path: str, cfg: ReadConfig) -> tuple[str, str]:
    """(source tag, txt mode) from the first matching ``read.sources`` rule."""
    for rule in cfg.sources:
        if fnmatch.fnmatch(path, rule.glob):
            return rule.source, rule.txt_mode or cfg.txt_mode
    return cfg.default_source, cfg.txt_mode


def plan(path: str, size: int, cfg: ReadConfig) -> list[FileRange]:
    fmt, compression = detect(path)
    source, txt_mode = source_for(path, cfg)
    split = max(1, int(cfg.split_mb * 1024 * 1024))
    line_based = fmt == "jsonl" or (fmt == "txt" and txt_mode == "line")
    if line_based and compression == "none" and size > split:
        return [
            FileRange(path, fmt, compression, source, s, min(s + split, size), txt_mode)
            for s in range(0, size, split)
        ]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                groups = pq.ParquetFile(f).metadata.num_row_groups
        except (OSError, ValueError):
            groups = 1  # reading the range reports the error with the file name
        return [FileRange(path, fmt, compression, source, g, g + 1) for g in range(max(groups, 1))]
    return [FileRange(path, fmt, compression, source, txt_mode=txt_mode)]


# --- decompression -------------------------------------------------------------------------


class _ZstdReader(io.RawIOBase):
    """zstd frames in sequence; a stream that ends inside a frame raises EOFError (the
    library's own stream reader returns a short read silently)."""

    def __init__(self, raw):
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._pending = b""
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd stream ended inside a frame (truncated file)")
                return 0
            while chunk:
                self._in_frame = True
                self._pending += self._obj.decompress(chunk)
                if self._obj.eof:
                    chunk = self._obj.unused_data
                    self._obj = self._dctx.decompressobj()
                    self._in_frame = False
                else:
                    chunk = b""
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def open_stream(path: str, compression: str):
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "zstd":
        return io.BufferedReader(_ZstdReader(raw), buffer_size=1 << 20)
    return raw


# --- records -------------------------------------------------------------------------------


def _error(rng: FileRange, message: str, line: int | None, offset: int | None, raw: bytes | str = b"") -> Item:
    if isinstance(raw, bytes):
        raw = raw[: RAW_SNIPPET * 4].decode("utf-8", "replace")
    return (
        "error",
        {
            "file": rng.path,
            "line": line,
            "offset": offset,
            "stage": "read",
            "error": message,
            "source": rng.source,
            "raw": raw[:RAW_SNIPPET],
        },
    )


class BadRecord(ValueError):
    """A record that cannot become a document; its message goes to errors/."""


def _make_doc(rng: FileRange, cfg: ReadConfig, text: str, record_id, position: int, score=None, extra: dict | None = None) -> Item:
    """``extra``: metadata kept on the document (e.g. a web page's url); it travels through the
    pipeline but the data shards hold only the text."""
    if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) and str(record_id):
        doc_id = str(record_id)
    else:
        doc_id = f"{rng.path}:{position:012d}"
    doc = {**(extra or {}), "id": doc_id, "source": rng.source, "text": text}
    if isinstance(score, (int, float)) and not isinstance(score, bool) and score == score:
        doc["score"] = float(score)
    if len(text) > cfg.max_doc_chars:
        detail = f"chars={len(text)} > read.max_doc_chars={cfg.max_doc_chars}"
        return "rejected", {**doc, "stage": "read", "reason": "too_large", "detail": detail}
    return "doc", doc


def _url(value) -> dict | None:
    """The document's URL as metadata (the URL blocklist reads it), when it is a string."""
    return {"url": value} if isinstance(value, str) and value else None


def _decode(cfg: ReadConfig, data: bytes) -> str:
    try:
        return data.decode("utf-8", cfg.encoding_errors)
    except UnicodeDecodeError as exc:
        raise BadRecord(f"invalid UTF-8 at byte {exc.start} of the record") from None


def _from_mapping(rng: FileRange, cfg: ReadConfig, record, position: int) -> Item:
    if not isinstance(record, dict):
        raise BadRecord(f"record is a JSON {type(record).__name__}, not an object")
    for name in cfg.text_fields:
        if name in record:
            value = record[name]
            if not isinstance(value, str):
                kind = "null" if value is None else type(value).__name__
                raise BadRecord(f"text field '{name}' is {kind}, not a string")
            record_id = record.get(cfg.id_field) if cfg.id_field else None
            score = record.get(cfg.score_field) if cfg.score_field else None
            return _make_doc(rng, cfg, value, record_id, position, score, _url(record.get(cfg.url_field) if cfg.url_field else None))
    raise BadRecord(f"no text field (looked for {', '.join(cfg.text_fields)})")


def _json_line(rng: FileRange, cfg: ReadConfig, text: str, position: int) -> Item:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRecord(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise BadRecord("invalid JSON: nested too deeply") from None
    return _from_mapping(rng, cfg, record, position)


def _count_lines_before(path: str, offset: int) -> int:
    """Newlines in the first ``offset`` bytes: the line number base of a byte range, computed
    only when that range has an error to report."""
    count = 0
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        remaining = offset
        while remaining > 0:
            chunk = f.read(min(remaining, 1 << 24))
            if not chunk:
                break
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count


def _iter_lines(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    # Memory guard, not a size rule: a JSON line may spend up to 6 bytes (\uXXXX) per
    # character, so a line this long cannot hold a document of max_doc_chars characters.
    max_bytes = cfg.max_doc_chars * 8 + (1 << 20)
    whole = rng.end < 0
    base_line: int | None = 0 if whole or rng.start == 0 else None
    local_line = 0
    offset = first = 0 if whole else rng.start

    def line_no() -> int:
        nonlocal base_line
        if base_line is None:
            base_line = _count_lines_before(rng.path, first)
        return base_line + local_line

    try:
        with open_stream(rng.path, rng.compression) as stream:
            if not whole and rng.start > 0:
                stream.seek(rng.start - 1)
                skipped = stream.readline()  # the line that began in the previous range
                offset = first = rng.start - 1 + len(skipped)
            empty = True
            while whole or offset < rng.end:
                start = offset
                data = stream.readline(max_bytes)
                if not data:
                    break
                empty = False
                local_line += 1
                offset += len(data)
                if len(data) >= max_bytes and not data.endswith(b"\n"):
                    rest = data
                    while rest and not rest.endswith(b"\n"):
                        rest = stream.readline(1 << 20)
                        offset += len(rest)
                    yield _error(rng, f"line longer than {max_bytes} bytes (8 x read.max_doc_chars + 1 MiB)", line_no(), start, data)
                    continue
                body = data.rstrip(b"\r\n")
                if not body.strip():
                    continue
                try:
                    text = _decode(cfg, body)
                    if rng.fmt == "txt":
                        yield _make_doc(rng, cfg, text.strip(), None, start)
                    else:
                        yield _json_line(rng, cfg, text, start)
                except BadRecord as exc:
                    yield _error(rng, str(exc), line_no(), start, body)
            if empty and whole:
                yield _error(rng, "empty file: no records", None, 0)
    except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
        yield _error(rng, f"unreadable after byte {offset} of the decompressed stream: {exc}", line_no() + 1, offset)


def _read_whole(rng: FileRange) -> bytes | Item:
    try:
        with open_stream(rng.path, rng.compression) as stream:
            return stream.read()
    except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
        return _error(rng, f"unreadable file: {exc}", None, 0)


def _iter_whole_text(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    data = _read_whole(rng)
    if isinstance(data, tuple):
        yield data
        return
    try:
        text = _decode(cfg, data)
    except BadRecord as exc:
        yield _error(rng, str(exc), None, 0, data)
        return
    if not text.strip():
        yield _error(rng, "empty file: no text", None, 0)
        return
    kind, doc = _make_doc(rng, cfg, text.strip(), None, 0)
    doc["id"] = rng.path  # a book is its file
    yield kind, doc


def _iter_json_file(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    """A .json file: a JSON array of records, or JSON lines under a .json name."""
    data = _read_whole(rng)
    if isinstance(data, tuple):
        yield data
        return
    if data.lstrip()[:1] != b"[":
        yield from _iter_lines(rng, cfg)
        return
    try:
        records = json.loads(_decode(cfg, data))
    except BadRecord as exc:
        yield _error(rng, str(exc), None, 0, data)
        return
    except json.JSONDecodeError as exc:
        snippet = exc.doc[exc.pos : exc.pos + RAW_SNIPPET]
        yield _error(rng, f"invalid JSON array: {exc.msg} at column {exc.colno}", exc.lineno, exc.pos, snippet)
        return
    if not records:
        yield _error(rng, "empty file: no records", None, 0)
    for index, record in enumerate(records):
        try:
            yield _from_mapping(rng, cfg, record, index)
        except BadRecord as exc:
            yield _error(rng, f"record {index}: {exc}", None, index, json.dumps(record, ensure_ascii=False))


def _iter_parquet(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    import pyarrow.parquet as pq

    try:
        with FileSystems.open(rng.path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            pf = pq.ParquetFile(f)
            names = pf.schema_arrow.names
            field = next((n for n in cfg.text_fields if n in names), None)
            if field is None:
                if rng.start == 0:
                    yield _error(rng, f"no text column (looked for {', '.join(cfg.text_fields)}; has {', '.join(names)})", None, 0)
                return
            optional = [c for c in (cfg.id_field, cfg.score_field, cfg.url_field) if c and c in names]
            row = sum(pf.metadata.row_group(g).num_rows for g in range(rng.start))
            for group in range(rng.start, rng.end):
                table = pf.read_row_group(group, columns=[field] + optional)
                texts = table.column(field).to_pylist()
                ids = table.column(cfg.id_field).to_pylist() if cfg.id_field in optional else [None] * len(texts)
                scores = table.column(cfg.score_field).to_pylist() if cfg.score_field in optional else [None] * len(texts)
                urls = table.column(cfg.url_field).to_pylist() if cfg.url_field in optional else [None] * len(texts)
                for text, record_id, score, url in zip(texts, ids, scores, urls):
                    if not isinstance(text, str):
                        kind = "null" if text is None else type(text).__name__
                        yield _error(rng, f"row {row}: text column '{field}' is {kind}, not a string", None, row, repr(text))
                    else:
                        yield _make_doc(rng, cfg, text, record_id, row, score, _url(url))
                    row += 1
            if pf.metadata.num_rows == 0 and rng.start == 0:
                yield _error(rng, "empty file: no rows", None, 0)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) on corruption
        yield _error(rng, f"unreadable parquet: {exc}", None, rng.start)


def _iter_web(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    """A WARC/WET file (see ``warc.py`` for which records are documents). Skipped records
    (requests, redirects, images, ...) are counted by reason in a final ``skipped`` item
    (stats.json ``warc_skipped``) and logged per file."""
    from collections import Counter

    from telechat_ptd.pipeline import warc

    skipped: Counter = Counter()
    n = 0
    # Documents and page bytes are bounded separately: HTML is several times its text.
    max_body = max(cfg.max_doc_chars * 4, 1 << 20)
    try:
        with FileSystems.open(rng.path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            for item in warc.iter_records(raw, max_body, skipped):
                n += 1
                if isinstance(item, warc.WebError):
                    kind, record = _error(rng, item.message, None, item.offset, item.raw)
                    record["url"] = item.url
                    if item.record_id:
                        record["id"] = item.record_id
                    yield kind, record
                elif item.reason:
                    doc_id = item.record_id or f"{rng.path}:{item.offset:012d}"
                    yield "rejected", {
                        **item.metadata(), "id": doc_id, "source": rng.source, "text": item.text,
                        "stage": "read", "reason": item.reason, "detail": item.detail,
                    }
                else:
                    yield _make_doc(rng, cfg, item.text, item.record_id, item.offset, extra=item.metadata())
    except (OSError, EOFError, zlib.error) as exc:
        yield _error(rng, f"unreadable file: {type(exc).__name__}: {exc}", None, 0)
        n += 1
    if n == 0 and not skipped:
        yield _error(rng, "empty file: no WARC records", None, 0)
    yield from _count_skipped(rng, skipped)


def _count_skipped(rng: FileRange, skipped) -> Iterator[Item]:
    """The records that are not documents, as one ``skipped`` item (counts for stats.json,
    not inputs: nothing of them could be kept)."""
    if not skipped:
        return
    import logging

    summary = ", ".join(f"{reason}={count}" for reason, count in sorted(skipped.items()))
    logging.getLogger(__name__).info("%s: skipped %d records that are not documents (%s)", rng.path, sum(skipped.values()), summary)
    yield "skipped", dict(skipped)


def read_range(rng: FileRange, cfg: ReadConfig) -> Iterator[Item]:
    if rng.fmt in WEB_FORMATS:
        yield from _iter_web(rng, cfg)
    elif rng.fmt == "parquet":
        yield from _iter_parquet(rng, cfg)
    elif rng.fmt == "json":
        yield from _iter_json_file(rng, cfg)
    elif rng.fmt == "txt" and rng.txt_mode == "file":
        yield from _iter_whole_text(rng, cfg)
    else:
        yield from _iter_lines(rng, cfg)
