"""Beam DoFns around the pure core: document processing and exact deduplication."""

from __future__ import annotations

import traceback
from collections import Counter

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from telechat_ptd.dedup.exact import exact_key
from telechat_ptd.pipeline.config import Config
from telechat_ptd.pipeline.packed import pack, unpack
from telechat_ptd.process import DocumentProcessor


def rejected_record(doc: dict, stage: str, reason: str, detail: str | None = None, **extra) -> dict:
    return {**doc, "stage": stage, "reason": reason, "detail": detail, **extra}


def process_error(doc: dict, stage: str, exc: BaseException) -> dict:
    """A document whose processing raised: kept in errors/ with the exception, not lost."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
    return {
        "file": None,
        "line": None,
        "offset": None,
        "stage": stage,
        "error": f"{type(exc).__name__}: {exc}{where}",
        "source": doc.get("source"),
        "id": doc.get("id"),
        "raw": doc.get("text", "")[:300],
    }


class ReasonCounters:
    """Beam Metrics counters by name, created once per worker (so Flink and Dataflow UIs show
    every rejection reason live)."""

    def __init__(self):
        self._counters: dict[str, object] = {}

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter("ptd", name)
        counter.inc(n)


class ProcessDocs(beam.DoFn):
    """Normalize and filter. Outputs: kept docs (main), ``rejected``, ``error`` and ``count``
    (named counters for stats.json, one element per bundle). ``annotate`` attaches language
    and signals to every document."""

    def __init__(self, cfg: Config, annotate: bool = False):
        self.cfg = cfg
        self.annotate = annotate

    def setup(self):
        self.processor = DocumentProcessor(self.cfg)
        self.metrics = ReasonCounters()

    def start_bundle(self):
        self.counts: Counter = Counter()

    def process(self, doc: dict):
        try:
            out = self.processor.process(doc["text"], complete=self.annotate)
        except Exception as exc:  # one bad document must not fail the job
            self.metrics.inc("errors.process")
            yield TaggedOutput("error", process_error(doc, "process", exc))
            return
        self.counts[("normalize", "boilerplate_lines_removed")] += out.boilerplate_lines
        # The language travels with the document: the scorers only score the languages their
        # models were trained on.
        record = {**doc, "text": out.text, "lang": out.lang}
        if self.annotate:
            record["signals"] = out.signals
        if out.kept:
            self.metrics.inc("kept_after_filters")
            yield record
        else:
            self.metrics.inc(f"rejected.{out.stage}.{out.reason}")
            yield TaggedOutput("rejected", rejected_record(record, out.stage, out.reason, out.detail))

    def finish_bundle(self):
        for key, n in self.counts.items():
            if n:
                yield TaggedOutput("count", WindowedValue((key, n), 0, [GlobalWindow()]))


class _ResolveExact(beam.DoFn):
    """Keep the smallest id of each group of identical texts; the rest point to it.

    Two passes over the group (Beam's grouped values are re-iterable), so a group of a
    million copies of one page is never held in memory; values are (id, packed document), so
    the first pass unpacks nothing.
    """

    def setup(self):
        self.metrics = ReasonCounters()

    def process(self, group):
        _, docs = group
        keep_id = min(doc_id for doc_id, _ in docs)
        kept = False
        for doc_id, data in docs:
            doc = unpack(data)
            if not kept and doc_id == keep_id:
                kept = True
                yield doc
                continue
            self.metrics.inc("rejected.dedup.exact_duplicate")
            yield TaggedOutput("rejected", rejected_record(doc, "dedup", "exact_duplicate", None, duplicate_of=keep_id))


class ExactDedup(beam.PTransform):
    """Group documents by a hash of their normalized text. Outputs: kept (main), ``rejected``."""

    def expand(self, docs):
        return (
            docs
            | "HashText" >> beam.Map(lambda d: (exact_key(d["text"]), (d["id"], pack(d))))
            | "GroupByText" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(_ResolveExact()).with_outputs("rejected", main="kept")
        )
