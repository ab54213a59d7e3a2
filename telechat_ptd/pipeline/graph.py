"""The Beam graphs of ``ptd clean``, ``ptd annotate`` and ``ptd dedup``.

read -> normalize + rule filters -> exact and near dedup -> quality scorers -> safety ->
shards, with rejected/, errors/ and the stats.json accounting fed by every branch.
"""

from __future__ import annotations

from functools import partial

import apache_beam as beam

from telechat_ptd.filters.engine import SIGNALS
from telechat_ptd.pipeline import minhash_index
from telechat_ptd.pipeline.config import Config
from telechat_ptd.pipeline.near_dedup import NearDedup, RepointExactDuplicates
from telechat_ptd.pipeline import safety
from telechat_ptd.pipeline.read import ReadDocuments
from telechat_ptd.pipeline.resources import check_resources
from telechat_ptd.pipeline.score import DecideScores, score_docs
from telechat_ptd.pipeline.stages import ExactDedup, ProcessDocs
from telechat_ptd.pipeline.stats import WriteStats
from telechat_ptd.pipeline.write import ShardFormat, WriteShards, join_path, json_line
from telechat_ptd.safety.verdict import SIGNALS as SAFETY_SIGNALS
from telechat_ptd.safety.verdict import stage_enabled
from telechat_ptd.scorers.config import QUALITY
from telechat_ptd.scorers.thresholds import SIGNALS as SCORER_SIGNALS

MODES = ("clean", "annotate", "dedup")


# --- record -> output line, sort key and stats counts (module level: they are pickled) ------


def _by_id(record: dict) -> str:
    return record["id"]


def _data_line(record: dict) -> bytes:
    return json_line({"data": record["text"]})


def _kept_counts(record: dict, line: bytes):
    return [(("kept", record["source"]), 1), (("kept_bytes", record["source"]), len(line))]


def _rejected_line(record: dict, with_text: bool) -> bytes:
    out = {k: record.get(k) for k in ("id", "source", "stage", "reason", "detail")}
    for key in ("duplicate_of", "similarity"):
        if record.get(key) is not None:
            out[key] = record[key]
    if with_text:
        out["text"] = record["text"]
    return json_line(out)


def _rejected_counts(record: dict, line: bytes):
    return [(("rejected", record["source"], record["stage"], record["reason"]), 1)]


def _error_key(record: dict) -> str:
    return f"{record.get('file') or ''}\t{record.get('offset') or 0:015d}\t{record.get('id') or ''}\t{record['error']}"


def _error_counts(record: dict, line: bytes):
    return [(("error", record.get("source"), record["stage"]), 1)]


def annotate_schema():
    import pyarrow as pa

    fixed = [
        ("id", pa.string()),
        ("source", pa.string()),
        ("lang", pa.string()),
        ("decision", pa.string()),
        ("stage", pa.string()),
        ("detail", pa.string()),
        ("duplicate_of", pa.string()),
        ("similarity", pa.float64()),
        ("score", pa.float64()),
    ]
    scores = [(s, pa.string() if s in _STRING_SCORES else pa.float64()) for s in _SCORE_COLUMNS]
    return pa.schema(fixed + [(s, pa.float64()) for s in SIGNALS] + scores + [("text", pa.string())])


_SCORE_COLUMNS = [s for names in SCORER_SIGNALS.values() for s in names] + list(SAFETY_SIGNALS)
_STRING_SCORES = {"kenlm_bucket"} | {s for s, kind in SAFETY_SIGNALS.items() if kind is str}


def _annotate_row(record: dict) -> bytes:
    signals = record.get("signals") or {}
    row = {
        "id": record["id"],
        "source": record["source"],
        "lang": record.get("lang"),
        "decision": record.get("reason") or "keep",
        "stage": record.get("stage"),
        "detail": record.get("detail"),
        "duplicate_of": record.get("duplicate_of"),
        "similarity": record.get("similarity"),
        "score": record.get("score"),
        **{s: (float(signals[s]) if s in signals else None) for s in SIGNALS},
        **{s: (record.get("scores") or {}).get(s) for s in _SCORE_COLUMNS},
        "text": record["text"],
    }
    return json_line(row)


def _annotate_counts(record: dict, line: bytes):
    if record.get("reason"):
        return _rejected_counts(record, line)
    return [(("kept", record["source"]), 1), (("kept_bytes", record["source"]), len(record["text"].encode()))]


def _index_key(record: dict) -> str:
    return record["id"]


def _index_counts(record: dict, line: bytes):
    return [(("minhash_index", "signatures"), 1)]


def formats(cfg: Config) -> dict[str, ShardFormat]:
    return {
        "minhash": ShardFormat(
            ".parquet", partial(minhash_index.index_row, cfg=cfg.dedup.near), _index_key, _index_counts,
            schema=minhash_index.schema(),
        ),
        "data": ShardFormat(".jsonl", _data_line, _by_id, _kept_counts, cfg.output.compression),
        "rejected": ShardFormat(
            ".jsonl", partial(_rejected_line, with_text=cfg.output.rejected_text), _by_id, _rejected_counts,
            "gz" if cfg.output.compression == "none" else cfg.output.compression,
        ),
        "errors": ShardFormat(".jsonl", json_line, _error_key, _error_counts),
        "signals": ShardFormat(".parquet", _annotate_row, _by_id, _annotate_counts, schema=annotate_schema()),
    }


def build(pipeline: beam.Pipeline, mode: str, files: list[tuple[str, int]], cfg: Config, out: str) -> None:
    """Add the whole job for ``mode`` to ``pipeline``, writing under ``out``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    scoring = mode != "dedup" and bool(cfg.scorers.enabled(QUALITY))
    check_resources(cfg, mode)
    fmts = formats(cfg)
    target = cfg.output.target_shard_mb * 1024 * 1024
    read = pipeline | "Read" >> ReadDocuments(files, cfg.read)
    counts = [read.count]
    rejected = [read.rejected]
    errors = [read.error]
    docs = read.doc

    run_filters = mode != "dedup" and cfg.filters.enabled
    if cfg.normalize.enabled or run_filters:
        stage_cfg = cfg if run_filters else cfg.model_copy(update={"filters": cfg.filters.model_copy(update={"enabled": False})})
        processed = docs | "Process" >> beam.ParDo(ProcessDocs(stage_cfg, annotate=mode == "annotate")).with_outputs(
            "rejected", "error", "count", main="kept"
        )
        docs = processed.kept
        rejected.append(processed.rejected)
        errors.append(processed.error)
        counts.append(processed.count)

    exact_rejected = None
    if cfg.dedup.exact.enabled:
        dedup = docs | "ExactDedup" >> ExactDedup()
        docs = dedup.kept
        exact_rejected = dedup.rejected

    near_cfg = cfg.dedup.near
    if near_cfg.enabled:
        indexed = None
        if near_cfg.index:
            files = minhash_index.expand_index(near_cfg.index)
            indexed = pipeline | "ReadIndex" >> minhash_index.ReadIndex(files, near_cfg)
        near = docs | "NearDedup" >> NearDedup(near_cfg, indexed)
        docs = near["kept"]
        rejected.append(near["rejected"])
        if exact_rejected is not None:
            exact_rejected = exact_rejected | "RepointExact" >> RepointExactDuplicates(near["decisions"])
        if near_cfg.save_index and mode != "annotate":
            counts.append(near["index"] | "WriteIndex" >> WriteShards(join_path(out, "minhash"), fmts["minhash"], target_bytes=target))
    if exact_rejected is not None:
        rejected.append(exact_rejected)

    if scoring and mode == "annotate":
        # Every row gets every signal (so a notebook can replay any threshold); documents
        # still kept are then decided by the scorers' thresholds.
        earlier = rejected | "EarlierRejected" >> beam.Flatten()
        scored_rejected = score_docs(earlier, cfg.scorers, decide=False, prefix="ScoreRejected")
        scored = score_docs(docs, cfg.scorers, decide=False)
        decided = scored.kept | "DecideScores" >> DecideScores(cfg.scorers)
        docs = decided.kept
        rejected = [scored_rejected.kept, decided.rejected]
        errors += scored.errors + scored_rejected.errors
        counts += scored.counts + scored_rejected.counts
    elif scoring:
        scored = score_docs(docs, cfg.scorers)
        docs = scored.kept
        rejected += scored.rejected
        errors += scored.errors
        counts += scored.counts

    if mode != "dedup" and stage_enabled(cfg):
        if mode == "annotate":
            # As for the scorers: every row gets every safety signal, the kept ones a decision.
            earlier = rejected | "EarlierRejectedSafety" >> beam.Flatten()
            checked_rejected = safety.safety_docs(earlier, cfg, decide=False, prefix="SafetyRejected")
            checked = safety.safety_docs(docs, cfg, decide=False)
            docs, decided_rejected = checked.kept | "DecideSafety" >> safety.DecideSafety(cfg)
            rejected = [checked_rejected.kept, decided_rejected]
            errors += checked.errors + checked_rejected.errors
            counts += checked.counts + checked_rejected.counts
        else:
            checked = safety.safety_docs(docs, cfg)
            docs = checked.kept
            rejected += checked.rejected
            errors += checked.errors
            counts += checked.counts

    rejected_all = rejected | "AllRejected" >> beam.Flatten()
    if mode == "annotate":
        rows = (docs, rejected_all) | "AllRows" >> beam.Flatten()
        counts.append(rows | "WriteSignals" >> WriteShards(join_path(out, "signals"), fmts["signals"], target_bytes=target))
    else:
        shards = cfg.output.num_shards
        counts.append(docs | "WriteData" >> WriteShards(join_path(out, "data"), fmts["data"], shards, target))
        counts.append(rejected_all | "WriteRejected" >> WriteShards(join_path(out, "rejected"), fmts["rejected"], target_bytes=target))
    counts.append(
        (errors | "AllErrors" >> beam.Flatten()) | "WriteErrors" >> WriteShards(join_path(out, "errors"), fmts["errors"], target_bytes=target)
    )
    (counts | "AllCounts" >> beam.Flatten()) | "Stats" >> WriteStats(join_path(out, "stats.json"))
