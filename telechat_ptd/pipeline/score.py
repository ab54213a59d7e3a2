"""The scoring stage: model signals attached to each document, then thresholds.

KenLM and fastText run in plain DoFns (a model per worker, loaded in ``setup``); the
transformer scorers run through Beam's ``RunInference`` with our handlers, keyed by the
document so nothing has to be joined back. A document whose scoring raises goes to errors/
(for RunInference, the whole failed batch), so the books still balance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from telechat_ptd.pipeline.stages import ReasonCounters, process_error, rejected_record
from telechat_ptd.scorers.config import QUALITY, ScorersConfig
from telechat_ptd.scorers.modelpath import local_copy
from telechat_ptd.scorers.registry import DOFN_SCORERS, model_handler, scorer_class
from telechat_ptd.scorers.thresholds import first_failure


def with_scores(doc: dict, signals: dict) -> dict:
    """``doc`` with ``signals`` added to its ``scores`` (the annotate columns of the model and
    safety stages)."""
    return {**doc, "scores": {**(doc.get("scores") or {}), **signals}}


class _ScoreDoFn(beam.DoFn):
    """One document at a time; the time spent is counted (stats.json ``scorer_ms``)."""

    def __init__(self, name: str, model: str):
        self.name = name
        self.model = model

    def setup(self):
        self.scorer = scorer_class(self.name).load(local_copy(self.model))

    def start_bundle(self):
        self.ms = 0.0

    def process(self, doc: dict):
        started = time.perf_counter()
        try:
            signals = self.scorer.score([doc["text"]])[0]
        except Exception as exc:  # one bad document must not fail the job
            yield TaggedOutput("error", process_error(doc, f"score.{self.name}", exc))
            return
        finally:
            self.ms += (time.perf_counter() - started) * 1000
        yield with_scores(doc, signals)

    def finish_bundle(self):
        if self.ms:
            yield TaggedOutput("count", WindowedValue((("scorer_ms", self.name), round(self.ms)), 0, [GlobalWindow()]))


def _by_lang(doc: dict, n: int, langs: list[str]) -> int:
    return 0 if doc.get("lang") in langs else 1


def _attach(keyed) -> dict:
    doc, signals = keyed
    return with_scores(doc, signals)


def _failed_batch(failure, name: str):
    """RunInference's dead letter, (batch of (doc, text), exception), as one error per document."""
    batch, exc = failure
    for doc, _ in batch:
        yield process_error(doc, f"score.{name}", exc)


class _Decide(beam.DoFn):
    def __init__(self, names: list[str], cfg: ScorersConfig, stage: str = "score"):
        self.names = names
        self.cfg = cfg
        self.stage = stage

    def setup(self):
        self.metrics = ReasonCounters()

    def process(self, doc: dict):
        failed = first_failure(self.names, self.cfg, doc.get("scores") or {})
        if failed is None:
            yield doc
            return
        reason, detail = failed
        self.metrics.inc(f"rejected.{self.stage}.{reason}")
        yield TaggedOutput("rejected", rejected_record(doc, self.stage, reason, detail))


@dataclass
class Scored:
    kept: beam.PCollection
    rejected: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    counts: list = field(default_factory=list)


def score_docs(docs, cfg: ScorersConfig, decide: bool = True, prefix: str = "Score", names: tuple[str, ...] = QUALITY,
               stage: str = "score") -> Scored:
    """Run the enabled scorers among ``names``, in order (cheapest first). ``decide=True`` (ptd
    clean) rejects after each scorer, with ``stage``, so a document failing KenLM never reaches
    the transformers; ``decide=False`` only attaches signals (ptd annotate scores every row,
    then decides with ``DecideScores``)."""
    out = Scored(docs)
    for name in cfg.enabled(names):
        label = f"{prefix}_{name}"
        settings = getattr(cfg, name)
        todo, other = out.kept, None
        if settings.langs is not None:
            todo, other = out.kept | f"{label}_Langs" >> beam.Partition(_by_lang, 2, settings.langs)
        if name in DOFN_SCORERS:
            scored = todo | label >> beam.ParDo(_ScoreDoFn(name, settings.model)).with_outputs("error", "count", main="scored")
            done = scored.scored
            out.errors.append(scored.error)
            out.counts.append(scored.count)
        else:
            main, dead = (
                todo
                | f"{label}_Key" >> beam.Map(lambda d: (d, d["text"]))
                | label >> RunInference(KeyedModelHandler(model_handler(name, cfg))).with_exception_handling()
            )
            done = main | f"{label}_Attach" >> beam.Map(_attach)
            out.errors.append(dead.failed_inferences | f"{label}_Failed" >> beam.FlatMap(_failed_batch, name))
        out.kept = done if other is None else (done, other) | f"{label}_Rejoin" >> beam.Flatten()
        if decide:
            split = out.kept | f"{label}_Decide" >> beam.ParDo(_Decide([name], cfg, stage)).with_outputs("rejected", main="kept")
            out.kept = split.kept
            out.rejected.append(split.rejected)
    return out


class DecideScores(beam.PTransform):
    """The thresholds of the enabled scorers among ``names`` in order, on documents already
    scored. Outputs: kept (main), ``rejected``."""

    def __init__(self, cfg: ScorersConfig, names: tuple[str, ...] = QUALITY, stage: str = "score"):
        super().__init__()
        self.cfg = cfg
        self.names = names
        self.stage = stage

    def expand(self, docs):
        decide = _Decide(self.cfg.enabled(self.names), self.cfg, self.stage)
        return docs | beam.ParDo(decide).with_outputs("rejected", main="kept")
