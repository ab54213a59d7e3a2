#!/usr/bin/env python
"""How fast the notebook what-if answers, against the alternative: rerunning ``ptd clean``.

Annotates, once, the CLUE sample (real web text, 2,500 documents) plus ``--docs`` documents of
People's Daily paragraphs with planted exact and near duplicates (``bench_dedup_job.build``),
then times loading the annotate output, what-ifs that change filter thresholds (the dedup stages rerun on the new
survivors), one that changes the near-dedup threshold, and ``ptd clean`` with the exported
config on the same input, whose counts must equal the what-if's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_INPUT, load_lines, source_fingerprint
from bench_dedup_job import build


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="one document per line (default: CLUE sample)")
    ap.add_argument("--docs", type=int, default=25000, help="generated news documents added (default 25000)")
    args = ap.parse_args()

    import psutil

    from telechat_ptd.tuning import Tuner, compare_counts, run_clean
    from telechat_ptd.tuning.tuner import run_ptd

    lines = load_lines(args.input, "bench_tuning")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in" / "news").mkdir(parents=True)
        (tmp / "in" / "web.txt").write_bytes(b"\n".join(lines) + b"\n")
        build(tmp / "in" / "news" / "news.jsonl", args.docs)
        corpus = tmp / "in"
        _, t_annotate = timed(lambda: run_ptd("annotate", [corpus], tmp / "ann"))
        rss0 = psutil.Process().memory_info().rss
        tuner, t_load = timed(lambda: Tuner.load(tmp / "ann"))
        rss = psutil.Process().memory_info().rss - rss0
        cases = [
            ("zh.min_chars 100 -> 300", {"filters.zh.min_chars": 300}),
            ("zh.min_chars 100 -> 50 (new survivors signed)", {"filters.zh.min_chars": 50}),
            ("4 thresholds + c4 off", {"filters.zh.min_chars": 200, "filters.zh.max_symbol_ratio": 0.05,
                                       "filters.zh.min_stopword_hits": 4, "filters.rules.c4": False}),
            ("near threshold 0.5 -> 0.7", {"dedup.near.threshold": 0.7}),
        ]
        print(f"bench_tuning  code {source_fingerprint()}  input {args.input.name} + {args.docs:,} generated news: {len(tuner.rows):,} documents")
        print(f"  ptd annotate (once)            {t_annotate:8.2f} s")
        print(f"  load signals + baseline replay {t_load:8.2f} s   (+{rss / 2**20:,.0f} MiB RSS)")
        last = None
        for name, changes in cases:
            what, secs = timed(lambda: tuner.what_if(changes))
            print(f"  what-if {name:<40} {secs:6.2f} s   kept {what.kept_share:6.1%} (baseline {tuner.baseline.kept_share:.1%})")
            last = (what, secs)
        what, secs = last
        path = tuner.export(what, tmp / "retuned.yaml")
        stats, t_clean = timed(lambda: run_clean([corpus], tmp / "clean", path))
        problems = compare_counts(what.counts(), stats)
        print(f"  ptd clean --config exported    {t_clean:8.2f} s   counts equal the what-if: {not problems}")
        print(f"  ratio clean / what-if          {t_clean / secs:8.1f} x")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
