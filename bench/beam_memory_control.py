#!/usr/bin/env python
"""Does a DirectRunner SDK worker's memory grow with the corpus in a pipeline with none of our
code? The control for bench_scale.py's worker-memory figures.

bench_scale measures each process of ``ptd clean``: the multi_processing SDK worker's peak
RSS grows with the corpus even with every stage off (``--stages none``). That leaves Beam's
runner or our read and shard-write transforms. This script runs a plain Beam pipeline on the
same synthetic corpora, with the same runner options and no telechat_ptd code in the graph:
ReadFromText over the gzipped jsonl files -> Reshuffle -> json.loads -> key into 64 groups ->
GroupByKey -> count each group -> WriteToText. If its worker grows by the same factor, the
growth is the runner's (FnApiRunner hands a worker each stage's whole input as one bundle per
worker), not a stage's.

    python bench/beam_memory_control.py --docs 25000,100000 --workers 1 --tmpdir /var/tmp
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

from bench_job import MiB, measure
from bench_scale import SETUPS, Processes

GROUPS = 64


def _keyed(doc: dict) -> tuple[int, str]:
    text = doc.get("data", doc.get("text")) or ""
    return zlib.crc32(text.encode()) % GROUPS, text


def pipeline_child(corpus: str, out: str, beam_args: list[str]) -> None:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        (p
         | beam.io.ReadFromText(f"{corpus}/*.jsonl.gz")
         | beam.Reshuffle()
         | beam.Map(json.loads)
         | beam.Map(_keyed)
         | beam.GroupByKey()
         | beam.MapTuple(lambda key, texts: f"{key}\t{sum(1 for _ in texts)}")
         | beam.io.WriteToText(f"{out}/counts"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", default="25000,100000", help="comma-separated corpus sizes (default 25000,100000)")
    ap.add_argument("--workers", type=int, default=1, choices=(1, 2), help="DirectRunner SDK worker processes")
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tmpdir", type=Path)
    ap.add_argument("--_child", nargs=2, metavar=("CORPUS", "OUT"), help=argparse.SUPPRESS)
    args, beam_args = ap.parse_known_args(argv)
    if args._child:
        pipeline_child(*args._child, beam_args)
        return 0
    import synthetic_corpus

    runner = SETUPS[f"direct{args.workers}"]
    tmp = Path(tempfile.mkdtemp(prefix="beam_control_", dir=args.tmpdir))
    peaks: dict[int, dict[str, float]] = {}
    try:
        for n in (int(float(d)) for d in args.docs.split(",")):
            corpus, out = tmp / f"corpus_{n}", tmp / f"out_{n}"
            synthetic_corpus.generate(corpus, n, args.files, args.seed, quiet=True)
            procs = Processes()
            cmd = [sys.executable, __file__, "--_child", str(corpus), str(out), *runner]
            res = measure(cmd, tmp / f"log_{n}.txt", timeout_s=4 * 3600, observe=procs)
            if res["rc"] != 0:
                print((tmp / f"log_{n}.txt").read_text()[-3000:])
                return 1
            counted = sum(int(line.split("\t")[1]) for f in out.glob("counts*") for line in f.read_text().splitlines())
            peaks[n] = {r["label"].replace(" (ptd)", ""): r["peak"] / MiB for r in procs.rows()}
            print(f"{n:,} docs ({counted:,} counted): wall {res['wall']:.1f} s; peak RSS MiB "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in peaks[n].items()), flush=True)
            shutil.rmtree(corpus)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sizes = sorted(peaks)
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(f"\nplain Beam pipeline, DirectRunner multi_processing x{args.workers}: peak RSS {big:,} / {small:,} docs "
              f"(documents x{big / small:.1f})")
        for label in peaks[big]:
            if label in peaks[small]:
                print(f"  {label:28} {peaks[small][label]:8,.0f} -> {peaks[big][label]:8,.0f} MiB  x{peaks[big][label] / peaks[small][label]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
