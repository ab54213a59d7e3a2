"""Accounting: every input document ends in exactly one place, and stats.json proves it.

Counts come from what the writers actually wrote (per shard), plus what the reader read, so a
document dropped anywhere in between shows up as an imbalance and fails the job.
"""

from __future__ import annotations

import json
from collections import defaultdict

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems


class AccountingError(RuntimeError):
    pass


def _inc(tree: dict, *path_and_value) -> None:
    *path, last, value = path_and_value
    for key in path:
        tree = tree.setdefault(key, {})
    tree[last] = tree.get(last, 0) + value


def _sorted(tree):
    if isinstance(tree, dict):
        return {k: _sorted(tree[k]) for k in sorted(tree)}
    return tree


def build_stats(counts: dict[tuple, int]) -> dict:
    """stats.json from (key tuple -> count). Keys:
    ("input", source), ("input_bytes", source), ("kept", source), ("kept_bytes", source),
    ("rejected", source, stage, reason), ("error", source, stage), ("shards", dir),
    (section, name) for any other named counter (e.g. ("normalize", "boilerplate_lines_removed"))."""
    sources: dict = defaultdict(lambda: {"input": 0, "kept": 0, "rejected": 0, "errors": 0})
    stats: dict = {"input": 0, "kept": 0, "rejected": 0, "errors": 0}
    extra: dict = {}
    for key, n in counts.items():
        kind = key[0]
        if kind in ("input", "kept"):
            stats[kind] += n
            sources[key[1]][kind] += n
        elif kind in ("input_bytes", "kept_bytes"):
            _inc(stats, kind, n)
            _inc(sources[key[1]], kind, n)
        elif kind == "rejected":
            _, source, stage, reason = key
            stats["rejected"] += n
            sources[source]["rejected"] += n
            _inc(stats, "rejected_by_stage", stage, n)
            _inc(stats, "rejected_by_reason", reason, n)
            _inc(sources[source], "rejected_by_stage", stage, n)
            _inc(sources[source], "rejected_by_reason", reason, n)
        elif kind == "error":
            _, source, stage = key
            stats["errors"] += n
            sources[source or "unknown"]["errors"] += n
            _inc(stats, "errors_by_stage", stage, n)
            _inc(sources[source or "unknown"], "errors_by_stage", stage, n)
        else:
            _inc(extra, *key, n)
    unbalanced = {
        name: s for name, s in sources.items() if s["input"] != s["kept"] + s["rejected"] + s["errors"]
    }
    stats["balanced"] = stats["input"] == stats["kept"] + stats["rejected"] + stats["errors"] and not unbalanced
    stats["sources"] = dict(sources)
    stats.update(extra)
    return _sorted(stats)


def check_balance(stats: dict) -> None:
    if stats["balanced"]:
        return
    lines = [
        f"  {name}: input {s['input']} != kept {s['kept']} + rejected {s['rejected']} + errors {s['errors']}"
        for name, s in sorted(stats["sources"].items())
        if s["input"] != s["kept"] + s["rejected"] + s["errors"]
    ]
    raise AccountingError(
        f"accounting failed: input {stats['input']} != kept {stats['kept']} + rejected {stats['rejected']}"
        f" + errors {stats['errors']}\n" + "\n".join(lines)
    )


class _WriteStats(beam.DoFn):
    def __init__(self, path: str):
        self.path = path

    def process(self, counts: list):
        total: dict[tuple, int] = defaultdict(int)
        for key, n in counts:
            total[tuple(key)] += n
        stats = build_stats(total)
        with FileSystems.create(self.path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            f.write((json.dumps(stats, ensure_ascii=False, indent=2) + "\n").encode())
        check_balance(stats)  # after writing, so the imbalance can be inspected
        yield stats


class WriteStats(beam.PTransform):
    """(key, count) pairs -> stats.json; fails the pipeline when the books do not balance."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def expand(self, counts):
        return (
            counts
            | "Sum" >> beam.CombinePerKey(sum)
            | "All" >> beam.combiners.ToList()
            | "Write" >> beam.ParDo(_WriteStats(self.path))
        )
