#!/usr/bin/env python
"""What the DirectRunner's launching process holds, shuffle by shuffle, during ``ptd clean``.

Why
---
bench_scale.py shows that the DirectRunner's launching process grows with the corpus while its
SDK workers stay smaller. It cannot say which stage's data that is. Beam's FnApiRunner keeps
every PCollection that crosses a stage boundary in this process until the consuming stage runs:
ListBuffers of encoded bytes, and GroupingBuffers whose tables hold the *decoded* Python values
of every GroupByKey. This script runs the job in-process with the same runner options, and after
every bundle prints the process's RSS and the largest buffers still waiting for a consumer,
named by the transform that will read them. The summary lists, for each buffer, the most it
ever held: that is the per-stage memory a DirectRunner user pays for, and the growth to compare
between corpus sizes.

Sizes: ListBuffer and already-partitioned GroupingBuffer sizes are exact byte counts. A grouping
table is estimated from up to 300 sampled keys with sys.getsizeof over the decoded values (keys,
lists, strings, bytes, tuples, dicts), scaled to all keys: Python's object overhead included,
allocator slack not.

    python bench/direct_runner_buffers.py CORPUS --workers 2 [--stages all|near]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import STAGES  # noqa: E402

MiB = 1 << 20


def deep_size(obj, depth: int = 0) -> int:
    size = sys.getsizeof(obj)
    if depth > 6:
        return size
    if isinstance(obj, dict):
        return size + sum(deep_size(k, depth + 1) + deep_size(v, depth + 1) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return size + sum(deep_size(v, depth + 1) for v in obj)
    if hasattr(obj, "value") and hasattr(obj, "windows"):  # a WindowedValue
        return size + deep_size(obj.value, depth + 1)
    return size


def buffer_size(buf) -> tuple[str, int, int]:
    """(kind, bytes, elements or values)."""
    from apache_beam.runners.portability.fn_api_runner import execution

    if isinstance(buf, execution.ListBuffer):
        return "encoded", sum(len(b) for b in buf._inputs), len(buf._inputs)
    if isinstance(buf, execution.GroupingBuffer):
        if buf._grouped_output:
            return "grouped, encoded", sum(len(b) for part in buf._grouped_output for b in part), 0
        table = buf._table
        if not table:
            return "grouping table", 0, 0
        sample = list(itertools.islice(table.items(), 300))
        per_key = sum(deep_size(k) + deep_size(v) for k, v in sample) / len(sample)
        values = sum(len(v) for v in table.values())
        return "grouping table", int(per_key * len(table) + sys.getsizeof(table)), values
    return type(buf).__name__, 0, 0


def short(name: str, width: int = 70) -> str:
    """A fused stage's name is every transform in it; the first Read names what it consumes."""
    read = name.split("/Read")[0].lstrip("(").split(")+(")[-1]
    return (read if "/" in read else name)[:width]


class Recorder:
    def __init__(self, top: int, out):
        import psutil

        self.proc = psutil.Process()
        self.top = top
        self.out = out
        self.peak_rss = 0
        self.peak_at = ""
        self.most: dict[str, tuple[int, str, int]] = {}

    def held(self, ctx) -> list[tuple[int, str, int, str]]:
        rows, seen = [], set()
        queues = (ctx.queues.ready_inputs, ctx.queues.watermark_pending_inputs, ctx.queues.time_pending_inputs)
        for queue in queues:
            for key, data_input in list(queue._q):
                stage = key if isinstance(key, str) else key[0]
                for buf in data_input.data.values():
                    if id(buf) not in seen:
                        seen.add(id(buf))
                        rows.append((*buffer_size(buf), short(stage)))
        for buf in ctx.pcoll_buffers.values():
            if id(buf) not in seen:
                seen.add(id(buf))
                rows.append((*buffer_size(buf), "(not yet scheduled)"))
        return sorted(((b, kind, n, stage) for kind, b, n, stage in rows), reverse=True)

    def after_bundle(self, ctx, stage_name: str, seconds: float) -> None:
        rss = self.proc.memory_info().rss
        if rss > self.peak_rss:
            self.peak_rss, self.peak_at = rss, short(stage_name)
        rows = self.held(ctx)
        total = sum(r[0] for r in rows)
        print(f"[{seconds:7.1f} s] RSS {rss / MiB:8,.0f} MiB, buffers {total / MiB:7,.0f} MiB  after {short(stage_name)}",
              file=self.out, flush=True)
        for b, kind, n, stage in rows[: self.top]:
            if b >= MiB:
                print(f"      {b / MiB:8,.0f} MiB  {kind:16} {n:>10,}  for {stage}", file=self.out, flush=True)
            key = stage
            if b > self.most.get(key, (0,))[0]:
                self.most[key] = (b, kind, n)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--workers", type=int, default=2, help="direct_num_workers (multi_processing)")
    ap.add_argument("--stages", choices=list(STAGES), default="all", help="as bench_scale.py --stages")
    ap.add_argument("--top", type=int, default=6, help="buffers printed after each bundle")
    ap.add_argument("--log", type=Path, help="the per-bundle lines go here instead of stdout")
    args = ap.parse_args(argv)

    from apache_beam.runners.portability.fn_api_runner import fn_runner

    from telechat_ptd.pipeline.cli import main as ptd

    out = args.log.open("w") if args.log else sys.stdout
    rec = Recorder(args.top, out)
    original = fn_runner.FnApiRunner._execute_bundle

    def execute_bundle(self, ctx, bundle_manager, bundle_input):
        t = time.perf_counter()
        result = original(self, ctx, bundle_manager, bundle_input)
        rec.after_bundle(ctx, bundle_manager.stage.name, time.perf_counter() - t)
        return result

    fn_runner.FnApiRunner._execute_bundle = execute_bundle
    with tempfile.TemporaryDirectory(prefix="direct_buffers_", dir=os.environ.get("TMPDIR")) as tmp:
        cfg = Path(tmp) / "cfg.yaml"
        cfg.write_text(yaml.safe_dump(STAGES[args.stages][0], sort_keys=False))
        t = time.perf_counter()
        rc = ptd(["clean", str(args.corpus), "-o", str(Path(tmp) / "out"), "-q", "--config", str(cfg), "--",
                  "--runner=DirectRunner", "--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"])
        wall = time.perf_counter() - t
        stats = json.loads((Path(tmp) / "out" / "stats.json").read_text()) if rc == 0 else {}
    print(f"\n{args.corpus}: {stats.get('input', '?'):,} docs in, {stats.get('kept', '?'):,} kept, rc {rc}, {wall:.0f} s; "
          f"launching process peak RSS {rec.peak_rss / MiB:,.0f} MiB (sampled after bundles), highest after {rec.peak_at}")
    print("\nMost each buffer held, by the transform that reads it (MiB):\n")
    print("| read by | kind | MiB | elements / values |\n|---|---|---:|---:|")
    for stage, (b, kind, n) in sorted(rec.most.items(), key=lambda kv: -kv[1][0]):
        if b >= MiB:
            print(f"| {stage} | {kind} | {b / MiB:,.0f} | {n:,} |")
    return rc


if __name__ == "__main__":
    sys.exit(main())
