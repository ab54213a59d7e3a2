"""Plain Beam, none of our code: the DirectRunner drops elements of large stage inputs.

Two stages each produce N keyed elements of SIZE bytes; a CoGroupByKey joins them. Its
internal Flatten has inputs from two stages, so the FnApiRunner materializes it and a third
stage reads it back into the GroupByKey. The script counts the elements that come out and
compares them with what went in. With Beam 2.77 on this machine (2 cores):

    multi_processing, 1 or 2 workers, 0.8 GB   400,000 of 400,000
    multi_processing, 1 worker, 1.2 GB         574,080 / 579,942 of 600,000 (two runs)
    multi_processing, 2 workers, 1.2 GB        579,264 / 589,617 of 600,000 (two runs)
    multi_threading, 1 worker, 1.2 GB          598,068 / 596,750 / 595,884 of 600,000
    in_memory, 1 worker, 1.2 and 2.4 GB        all of them (no gRPC data plane)
    --fixed, every mode above, 1.2 GB          all of them

The job still reports success. The cause is a race in
`apache_beam.runners.worker.data_plane.TimeBasedBufferingClosableOutputStream`, which the
FnApiRunner uses for its side of the data plane (`worker_handlers.DATA_BUFFER_TIME_LIMIT_MS =
1000`) and for multi_threading workers. Its flusher thread calls `flush_callback(self.get())`
and then `self._clear()`, holding `_flush_lock`; `write()` does not take that lock. The
callback puts the data on a send queue of 100 MB and blocks while the queue is full, which it
is for any bundle input over about 200 MB: the runner writes a bundle's whole input before it
starts the bundle, so the worker reads none of it until then. Everything the runner writes
during that wait is cleared unsent. Counted on the data plane (multi_threading, 1 worker): the
producers' 300,000 elements each left them as 606,513,672 and 605,680,164 bytes, where both
should be the same size.

`--queue-bytes 65536` shrinks the send queues and flushes every millisecond, so the loss shows
on a few MB: `--per-seed 2000 --size 500 --queue-bytes 65536` loses 32,000 of 64,000 elements
with 2 multi_processing workers. `--fixed` installs telechat_ptd.runners.fnapi_data_plane first,
which is what `ptd` does on the DirectRunner.

    python bench/beam_flatten_loss.py [--per-seed 18750] [--size 2000] [--workers 2]
        [--mode multi_processing|multi_threading|in_memory] [--queue-bytes N] [--fixed]

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


def run(per_seed: int, size: int, workers: int, mode: str = "multi_processing", queue_bytes: int = 0,
        fixed: bool = False) -> tuple[int, int]:
    """(elements in, elements out of the CoGroupByKey)."""
    if queue_bytes:
        from apache_beam.runners.portability.fn_api_runner import worker_handlers
        from apache_beam.runners.worker import data_plane

        data_plane._DEFAULT_SEND_QUEUE_MAX_BYTES = queue_bytes
        worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 1
    if fixed:
        from telechat_ptd.runners import fnapi_data_plane

        fnapi_data_plane.install()
    options = PipelineOptions(["--runner=DirectRunner", f"--direct_running_mode={mode}",
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
    ap.add_argument("--mode", default="multi_processing",
                    choices=("multi_processing", "multi_threading", "in_memory"),
                    help="direct_running_mode (default multi_processing)")
    ap.add_argument("--queue-bytes", type=int, default=0,
                    help="shrink the data plane's send queues to this many bytes (Beam: 100 MB), which makes the "
                         "loss show on small data; it applies in this process: the runner, and in-process workers")
    ap.add_argument("--fixed", action="store_true", help="install telechat_ptd.runners.fnapi_data_plane first")
    args = ap.parse_args()
    expected, got = run(args.per_seed, args.size, args.workers, args.mode, args.queue_bytes, args.fixed)
    print(f"{args.mode}, {args.workers} worker(s), {expected * args.size / 1e9:.1f} GB: {got:,} of {expected:,} elements came out"
          + ("" if got == expected else f"; {expected - got:,} lost"))
    return 0 if got == expected else 1


if __name__ == "__main__":
    sys.exit(main())
