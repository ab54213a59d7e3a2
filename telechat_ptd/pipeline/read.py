"""Beam side of reading: distribute file ranges over workers, tag what comes out."""

from __future__ import annotations

import logging

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput

from telechat_ptd.pipeline import readers
from telechat_ptd.pipeline.config import ReadConfig

log = logging.getLogger(__name__)


class _PlanFile(beam.DoFn):
    def __init__(self, cfg: ReadConfig):
        self.cfg = cfg

    def process(self, file: tuple[str, int]):
        path, size = file
        yield from readers.plan(path, size, self.cfg)


class _ReadRange(beam.DoFn):
    """Read one range. Besides the records, outputs ``count``: what was read, per range,
    for the accounting (``input`` and ``input_bytes`` of the range's source)."""

    def __init__(self, cfg: ReadConfig):
        self.cfg = cfg
        self.docs = Metrics.counter("ptd", "read_docs")
        self.errors = Metrics.counter("ptd", "read_errors")

    def process(self, rng: readers.FileRange):
        n = n_bytes = 0
        for kind, record in readers.read_range(rng, self.cfg):
            if kind == "skipped":
                for reason, count in record.items():
                    yield TaggedOutput("count", (("warc_skipped", reason), count))
                continue
            n += 1
            if kind == "error":
                self.errors.inc()
                yield TaggedOutput(kind, record)
                continue
            n_bytes += len(record["text"].encode("utf-8", "replace"))
            if kind == "doc":
                self.docs.inc()
                yield record
            else:
                yield TaggedOutput(kind, record)
        yield TaggedOutput("count", (("input", rng.source), n))
        yield TaggedOutput("count", (("input_bytes", rng.source), n_bytes))
        log.info("read %s [%s, %s): %d records", rng.path, rng.start, rng.end, n)


class ReadDocuments(beam.PTransform):
    """Documents from files, with outputs ``doc`` (main), ``rejected``, ``error`` and
    ``count`` (what was read, for stats.json).

    ``files`` are (path, size) pairs expanded on the driver, so a pattern that matches nothing
    is an error before the job starts rather than an empty output after it.
    """

    def __init__(self, files: list[tuple[str, int]], cfg: ReadConfig):
        super().__init__()
        self.files = sorted(files)
        self.cfg = cfg

    def expand(self, pbegin):
        return (
            pbegin
            | "Files" >> beam.Create(self.files)
            | "Plan" >> beam.ParDo(_PlanFile(self.cfg))
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadRange(self.cfg)).with_outputs("rejected", "error", "count", main="doc")
        )
