"""The signature index a run leaves behind (``OUT/minhash``) and the next run reads back.

Each row: id, the uint32 signature as a list (so datasketch's ``LeanMinHash(seed=...,
hashvalues=...)`` reads it directly) and the MinHash settings. Loading an index made with
other settings is an error: its signatures would never match.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from telechat_ptd.pipeline.config import NearDedupConfig
from telechat_ptd.pipeline.write import json_line

SETTINGS = ("num_perm", "seed", "scheme", "hash", "unit", "ngram_chars", "ngram_words")


class IndexMismatch(ValueError):
    pass


def schema():
    import pyarrow as pa

    return pa.schema(
        [("id", pa.string()), ("signature", pa.list_(pa.uint32())), ("num_perm", pa.int32()), ("seed", pa.int64()),
         ("scheme", pa.string()), ("hash", pa.string()), ("unit", pa.string()), ("ngram_chars", pa.int32()),
         ("ngram_words", pa.int32())]
    )


def index_row(record: dict, cfg: NearDedupConfig) -> bytes:
    sig = np.frombuffer(record["signature"], dtype=np.uint32).tolist()
    return json_line({"id": record["id"], "signature": sig, **{k: getattr(cfg, k) for k in SETTINGS}})


def expand_index(paths: list[str]) -> list[str]:
    """Parquet files of the given index directories or globs (on the driver, failing early)."""
    from telechat_ptd.pipeline.inputs import InputError

    files: list[str] = []
    for path in paths:
        pattern = path if any(ch in path for ch in "*?[") or path.endswith(".parquet") else FileSystems.join(path, "*.parquet")
        matched = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        if not matched:
            raise InputError(f"dedup.near.index: no signature files match '{path}'")
        files.extend(matched)
    return sorted(set(files))


class _ReadIndexFile(beam.DoFn):
    def __init__(self, cfg: NearDedupConfig):
        self.cfg = cfg

    def process(self, path: str):
        import pyarrow.parquet as pq

        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            table = pq.read_table(f)
        if table.num_rows == 0:
            return
        first = {k: table.column(k)[0].as_py() for k in SETTINGS}
        wanted = {k: getattr(self.cfg, k) for k in SETTINGS}
        if first != wanted:
            diff = ", ".join(f"{k}: index {first[k]!r} vs config {wanted[k]!r}" for k in SETTINGS if first[k] != wanted[k])
            raise IndexMismatch(f"{path} was built with other MinHash settings ({diff})")
        for doc_id, sig in zip(table.column("id").to_pylist(), table.column("signature").to_pylist()):
            yield doc_id, np.asarray(sig, dtype=np.uint32).tobytes()


class ReadIndex(beam.PTransform):
    def __init__(self, files: list[str], cfg: NearDedupConfig):
        super().__init__()
        self.files = files
        self.cfg = cfg

    def expand(self, pbegin):
        return pbegin | "IndexFiles" >> beam.Create(self.files) | "ReadIndexFile" >> beam.ParDo(_ReadIndexFile(self.cfg))
