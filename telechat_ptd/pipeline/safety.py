"""The safety stage: URL blocklists and sensitive-word lexicons, the toxicity model, then PII
redaction, on the documents the quality scorers kept.

Cheap table lookups decide first, the model second; redaction runs last so every signal sees
the text as it was, and what is written is the redacted text. Rejections carry stage
``safety``; a document whose checks raise goes to errors/ with stage ``safety``.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from telechat_ptd.pii import pii_density, redact
from telechat_ptd.pipeline.config import Config, SafetyConfig
from telechat_ptd.pipeline.score import DecideScores, Scored, score_docs, with_scores
from telechat_ptd.pipeline.stages import ReasonCounters, process_error, rejected_record
from telechat_ptd.safety import blocklist as bl
from telechat_ptd.safety import lexicon as lx
from telechat_ptd.safety.verdict import lexicon_summary, lists_verdict, pii_verdict
from telechat_ptd.scorers.config import SAFETY

STAGE = "safety"


class _Verdicts(beam.DoFn):
    """Base of the deciding DoFns: ``decide`` False (annotate) only attaches signals."""

    def __init__(self, cfg: SafetyConfig, decide: bool):
        self.cfg = cfg
        self.decide = decide

    def setup(self):
        self.metrics = ReasonCounters()

    def verdict(self, record: dict, failed: tuple[str, str] | None):
        if failed is None or not self.decide:
            return record
        reason, detail = failed
        self.metrics.inc(f"rejected.{STAGE}.{reason}")
        return TaggedOutput("rejected", rejected_record(record, STAGE, reason, detail))


class _Lists(_Verdicts):
    """Blocklist (documents with a ``url``) and lexicon signals, and their verdict."""

    def setup(self):
        super().setup()
        self.blocklist = bl.Blocklist.from_config(self.cfg.blocklist) if self.cfg.blocklist.enabled else None
        self.lexicon = lx.Lexicon.from_config(self.cfg.lexicon) if self.cfg.lexicon.enabled else None

    def process(self, doc: dict):
        try:
            signals = self.blocklist.signals(doc.get("url")) if self.blocklist else {}
            if self.lexicon:
                signals.update(lexicon_summary(self.lexicon.signals(doc["text"]), self.cfg.lexicon))
        except Exception as exc:  # one bad document must not fail the job
            yield TaggedOutput("error", process_error(doc, STAGE, exc))
            return
        record = with_scores(doc, signals)
        yield self.verdict(record, lists_verdict(record["scores"], self.cfg.blocklist, self.cfg.lexicon))


class _RedactPII(_Verdicts):
    """Typed placeholders for personal data, the hits per type counted for stats.json
    (``pii``); a document denser in PII than ``max_density`` is dropped instead. Without
    ``decide`` (annotate) only the signals are attached and the text stays as it is."""

    def start_bundle(self):
        self.counts: Counter = Counter()

    def process(self, doc: dict):
        try:
            redacted, hits = redact(doc["text"], self.cfg.pii)
        except Exception as exc:
            yield TaggedOutput("error", process_error(doc, STAGE, exc))
            return
        n = sum(hits.values())
        record = with_scores(doc, {"pii_hits": float(n), "pii_density": pii_density(n, len(doc["text"]))})
        out = self.verdict(record, pii_verdict(record["scores"], self.cfg.pii))
        if out is record and self.decide:
            self.counts.update(hits)
            self.counts["documents_redacted"] += n > 0
            out = {**record, "text": redacted}
        yield out

    def finish_bundle(self):
        for kind, n in self.counts.items():
            if n:
                yield TaggedOutput("count", WindowedValue((("pii", kind), n), 0, [GlobalWindow()]))


def safety_docs(docs, cfg: Config, decide: bool = True, prefix: str = "Safety") -> Scored:
    """The safety stage on ``docs``. ``decide=False`` (annotate) attaches every signal and
    rejects nothing; ``DecideSafety`` then applies the thresholds."""
    s = cfg.safety
    out = Scored(docs)
    if s.blocklist.enabled or s.lexicon.enabled:
        split = docs | f"{prefix}_Lists" >> beam.ParDo(_Lists(s, decide)).with_outputs("rejected", "error", main="kept")
        out.kept = split.kept
        out.rejected.append(split.rejected)
        out.errors.append(split.error)
    model = score_docs(out.kept, cfg.scorers, decide=decide, prefix=f"{prefix}_Model", names=SAFETY, stage=STAGE)
    out.kept = model.kept
    out.rejected += model.rejected
    out.errors += model.errors
    out.counts += model.counts
    if s.pii.enabled:
        redacted = out.kept | f"{prefix}_PII" >> beam.ParDo(_RedactPII(s, decide)).with_outputs(
            "rejected", "error", "count", main="kept")
        out.kept = redacted.kept
        out.rejected.append(redacted.rejected)
        out.errors.append(redacted.error)
        out.counts.append(redacted.count)
    return out


class _Decide(beam.DoFn):
    """A verdict function of the stored signals, on annotated documents."""

    def __init__(self, verdict):
        self.verdict = verdict

    def setup(self):
        self.metrics = ReasonCounters()

    def process(self, doc: dict):
        failed = self.verdict(doc.get("scores") or {})
        if failed is None:
            yield doc
            return
        self.metrics.inc(f"rejected.{STAGE}.{failed[0]}")
        yield TaggedOutput("rejected", rejected_record(doc, STAGE, *failed))


class DecideSafety(beam.PTransform):
    """The safety thresholds, in the job's order, on documents ``safety_docs(decide=False)``
    annotated: blocklist and lexicon, toxicity, PII density. Returns (kept, rejected)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg

    def expand(self, docs):
        s = self.cfg.safety
        lists = docs | "Lists" >> beam.ParDo(_Decide(partial(lists_verdict, blocklist=s.blocklist, lexicon=s.lexicon))).with_outputs("rejected", main="kept")
        model = lists.kept | "Model" >> DecideScores(self.cfg.scorers, SAFETY, STAGE)
        pii = model.kept | "PII" >> beam.ParDo(_Decide(partial(pii_verdict, pii=s.pii))).with_outputs("rejected", main="kept")
        return pii.kept, (lists.rejected, model.rejected, pii.rejected) | "Rejected" >> beam.Flatten()
