"""Plain Beam, none of our code: the DirectRunner drops elements of a large materialized Flatten.

Two stages each produce N keyed elements of SIZE bytes; a CoGroupByKey joins them. Its
internal Flatten has inputs from two stages, so the FnApiRunner materializes it and a third
stage reads it back into the GroupByKey. The script counts the elements that come out and
compares them with what went in. With Beam 2.77, multi_processing, on this machine:

    1 worker, 0.8 GB   400,000 of 400,000
    2 workers, 0.8 GB  400,000 of 400,000
    1 worker, 1.2 GB   574,080 / 579,942 of 600,000 (two runs)
    2 workers, 1.2 GB  579,264 of 600,000

The job still reports success. The per-stage element counts (FnApiRunner monitoring infos)
show where the elements go: both producer stages report 300,000 outputs into the Flatten, but
the stage that reads the Flatten gets 574,080 elements. This is what failed ptd's 250k-document
DirectRunner runs in near dedup's joins (ptd's accounting check caught it).

    python bench/beam_flatten_loss.py [--per-seed 18750] [--size 2000] [--workers 2]

Exits 1 when elements were lost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

SEEDS = 16


def _generate(seed: int, tag: str, per_seed: int, size: int):
    for j in range(per_seed):
        yield seed * per_seed + j, tag * size


def run(per_seed: int, size: int, workers: int) -> tuple[int, int]:
    """(elements in, elements out of the CoGroupByKey)."""
    options = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing",
                               f"--direct_num_workers={workers}"])
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "count")
        with beam.Pipeline(options=options) as p:
            a = p | "A" >> beam.Create(range(SEEDS)) | "GenA" >> beam.FlatMap(_generate, "a", per_seed, size)
            b = (p | "B" >> beam.Create(range(SEEDS)) | "Spread" >> beam.Reshuffle()
                 | "GenB" >> beam.FlatMap(_generate, "b", per_seed, size))
            (
                {"a": a, "b": b}
                | "Join" >> beam.CoGroupByKey()
                | "Count" >> beam.Map(lambda kv: len(list(kv[1]["a"])) + len(list(kv[1]["b"])))
                | "Total" >> beam.CombineGlobally(sum)
                | "Write" >> beam.io.WriteToText(out, shard_name_template="")
            )
        return 2 * SEEDS * per_seed, int(Path(out).read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-seed", type=int, default=18750, help="elements per seed and side (16 seeds, 2 sides)")
    ap.add_argument("--size", type=int, default=2000, help="bytes per element value (default 2000: 1.2 GB in all)")
    ap.add_argument("--workers", type=int, default=2, help="direct_num_workers (default 2)")
    args = ap.parse_args()
    expected, got = run(args.per_seed, args.size, args.workers)
    print(f"{args.workers} worker(s), {expected * args.size / 1e9:.1f} GB: {got:,} of {expected:,} elements came out"
          + ("" if got == expected else f"; {expected - got:,} lost"))
    return 0 if got == expected else 1


if __name__ == "__main__":
    sys.exit(main())
