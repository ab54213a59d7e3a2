"""Deterministic, atomic shard writing.

Beam's text sink assigns records to shards at random and writes them in arrival order, so
two runs give different files. Here a record's shard is a hash of its id, a shard's records
are sorted by id (spilling to local disk past ``SPOOL_BYTES``, so memory stays flat), the
compressors are byte-stable (gzip without mtime or name), and every shard is first written
to a temporary directory and renamed into place in one finalize step after all of them
exist: a failed job leaves no partial shard behind, a rerun replaces the previous output.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable

import apache_beam as beam
import zstandard
from apache_beam.io.filesystem import BeamIOError, CompressionTypes
from apache_beam.io.filesystems import FileSystems

from telechat_ptd.pipeline.packed import compress, decompress

SPOOL_BYTES = 64 * 1024 * 1024
SUFFIX = {"gz": ".gz", "zst": ".zst", "none": ""}


def shard_of(key: str, num_shards: int) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


def join_path(directory: str, name: str) -> str:
    return FileSystems.join(directory, name)


class SortedSpool:
    """Byte records sorted by key, held in memory up to a limit and on local disk beyond."""

    def __init__(self, limit: int = SPOOL_BYTES):
        self._file = tempfile.SpooledTemporaryFile(max_size=limit)
        self._index: list[tuple[str, bytes, int, int]] = []

    def add(self, key: str, data: bytes) -> None:
        offset = self._file.tell()
        self._file.write(data)
        # Ties on the key (the same id twice) are broken by content, never by arrival order.
        tie = hashlib.blake2b(data, digest_size=8).digest()
        self._index.append((key, tie, offset, len(data)))

    def __iter__(self):
        self._index.sort()
        for _, _, offset, length in self._index:
            self._file.seek(offset)
            yield self._file.read(length)

    def close(self) -> None:
        self._file.close()


def _open_writer(path: str, compression: str):
    raw = FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if compression == "gz":
        return raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
    if compression == "zst":
        return raw, zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
    return raw, None


def write_lines(path: str, lines: Iterable[bytes], compression: str) -> None:
    raw, wrapper = _open_writer(path, compression)
    out = wrapper or raw
    for line in lines:
        out.write(line)
    if wrapper is not None:
        wrapper.close()
    raw.close()


def write_parquet(path: str, lines: Iterable[bytes], schema) -> None:
    """Rows arrive as JSON lines (sorted); written in row groups of ``batch`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    batch = 10_000
    raw = FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)
    with pq.ParquetWriter(raw, schema, compression="zstd") as writer:
        rows: list[dict] = []
        for line in lines:
            rows.append(json.loads(line))
            if len(rows) >= batch:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    raw.close()


class ShardFormat:
    """How one output directory is written: name pattern, serialization, sort key, and the
    (stats key, n) pairs each written record contributes to stats.json."""

    def __init__(
        self,
        suffix: str,
        serialize: Callable[[dict], bytes],
        sort_key: Callable[[dict], str],
        counts: Callable[[dict, bytes], list[tuple[tuple, int]]],
        compression: str = "none",
        schema=None,
    ):
        self.suffix = suffix + SUFFIX[compression]
        self.serialize = serialize
        self.sort_key = sort_key
        self.counts = counts
        self.compression = compression
        self.schema = schema
        self.pattern = re.compile(r"^\d+" + re.escape(self.suffix) + "$")

    def name(self, shard: int) -> str:
        return f"{shard}{self.suffix}"

    def prepare(self, record: dict) -> tuple[str, bytes, list, int]:
        """(sort key, compressed output line, stats counts, line bytes): all the shard shuffle
        carries, serialized once."""
        line = self.serialize(record)
        return self.sort_key(record), compress(line), self.counts(record, line), len(line)

    def write(self, path: str, lines: Iterable[bytes]) -> None:
        if self.schema is not None:
            write_parquet(path, lines, self.schema)
        else:
            write_lines(path, lines, self.compression)


class _WriteTempShard(beam.DoFn):
    def __init__(self, fmt: ShardFormat, temp_dir: str):
        self.fmt = fmt
        self.temp_dir = temp_dir

    def process(self, group):
        shard, prepared = group
        spool = SortedSpool()
        counts: Counter = Counter()
        try:
            for sort_key, data, record_counts, _ in prepared:
                spool.add(sort_key, decompress(data))
                for key, n in record_counts:
                    counts[tuple(key)] += n
            path = join_path(self.temp_dir, self.fmt.name(shard))
            self.fmt.write(path, spool)
        finally:
            spool.close()
        yield shard, path, dict(counts)


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class _Finalize(beam.DoFn):
    """Rename every temporary shard into place, create the empty ones, drop stale shards."""

    def __init__(self, fmt: ShardFormat, directory: str, temp_dir: str):
        self.fmt = fmt
        self.directory = directory
        self.temp_dir = temp_dir

    def process(self, _, written, num_shards):
        written = sorted(written)
        done = {shard for shard, _, _ in written}
        for shard in range(num_shards):
            if shard not in done:
                path = join_path(self.temp_dir, self.fmt.name(shard))
                self.fmt.write(path, [])
                written.append((shard, path, {}))
        finals = [join_path(self.directory, self.fmt.name(shard)) for shard, _, _ in written]
        existing = {m.path for r in FileSystems.match([join_path(self.directory, "*")]) for m in r.metadata_list}
        # A retried bundle (Dataflow and Flink retry failed ones) finds the shards an earlier
        # attempt already moved: only temporary shards still there are moved.
        temps = {_basename(m.path) for r in FileSystems.match([join_path(self.temp_dir, "*")]) for m in r.metadata_list}
        moves = [(path, final) for (_, path, _), final in zip(written, finals) if _basename(path) in temps]
        FileSystems.delete([final for _, final in moves if final in existing])
        FileSystems.rename([path for path, _ in moves], [final for _, final in moves])
        stale = [p for p in existing - set(finals) if self.fmt.pattern.match(p.rsplit("/", 1)[-1])]
        if stale:
            FileSystems.delete(stale)
        try:
            FileSystems.delete([self.temp_dir])
        except BeamIOError:
            pass  # object stores (gs://, s3://) have no directory left to delete
        for _, _, counts in written:
            yield from counts.items()
        yield ("shards", self.directory.rsplit("/", 1)[-1]), num_shards


class WriteShards(beam.PTransform):
    """Write records to ``directory/<n><suffix>``; outputs (count key, n) pairs for the stats.

    ``num_shards`` fixes the shard count; otherwise it is ceil(serialized bytes / target_bytes).
    """

    def __init__(self, directory: str, fmt: ShardFormat, num_shards: int | None = None, target_bytes: float = 256e6):
        super().__init__()
        self.directory = directory.rstrip("/")
        self.fmt = fmt
        self.num_shards = num_shards
        self.target_bytes = target_bytes

    def expand(self, records):
        fmt = self.fmt
        temp_dir = join_path(self.directory, f".ptd-tmp-{uuid.uuid4().hex}")
        prepared = records | "Serialize" >> beam.Map(fmt.prepare)
        if self.num_shards is not None:
            n = records.pipeline | "ShardCount" >> beam.Create([self.num_shards])
        else:
            target = self.target_bytes
            n = (
                prepared
                | "Bytes" >> beam.Map(lambda p: p[3])
                | "TotalBytes" >> beam.CombineGlobally(sum)
                | "ShardCount" >> beam.Map(lambda total: max(1, math.ceil(total / target)))
            )
        n_side = beam.pvalue.AsSingleton(n)
        written = (
            prepared
            | "Assign" >> beam.Map(lambda p, k: (shard_of(p[0], k), p), n_side)
            | "Group" >> beam.GroupByKey()
            | "WriteTemp" >> beam.ParDo(_WriteTempShard(fmt, temp_dir))
        )
        return (
            records.pipeline
            | "Once" >> beam.Create([None])
            | "Finalize" >> beam.ParDo(_Finalize(fmt, self.directory, temp_dir), beam.pvalue.AsList(written), n_side)
        )


def json_line(record: dict) -> bytes:
    # A lone surrogate has no UTF-8 form; normalization already replaced them, this is the
    # last guard so that no shard ever holds invalid UTF-8.
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "replace")
