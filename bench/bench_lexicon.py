#!/usr/bin/env python
"""Lexicon matching speed per core: ``Lexicon.signals()`` with the full public Chinese lexicon.

Loads every file of ``../shared/data/lexicons/sensitive_lexicon_zh`` (one category per file,
~87k lines; ``--lexicon`` to override), then times ``signals()`` on each document of the CLUE
sample, replicated to ``--target-mb`` of UTF-8 text (MB = 1e6 bytes). The anchor, timed in
the same run on the same documents: a naive regex alternation over ``--anchor-terms`` terms
(the only approach without an automaton that scales past a handful of terms), on a
``--anchor-mb`` slice (it is slow), reported as MB/s so the ratio is comparable.
Machine load from other processes lowers absolute figures; rounds are interleaved and the
best round is reported for each side (ours also in CPU time, which load disturbs less). ``--implementation`` picks the automaton's layout
(default: the one ``lexicon.py`` uses) to compare the alternatives on the same data.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from importlib.metadata import version
from pathlib import Path

import ahocorasick_rs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_INPUT, REPO, source_fingerprint  # noqa: E402

from telechat_ptd.safety import lexicon  # noqa: E402
from telechat_ptd.safety.lexicon import Lexicon, hits_key  # noqa: E402

DEFAULT_LEXICON = REPO / ".." / "shared" / "data" / "lexicons" / "sensitive_lexicon_zh"


def docs_to(path: Path, target_mb: float) -> list[str]:
    if not path.is_file():
        sys.exit(f"bench_lexicon: input not found: {path} (pass --input)")
    base = [d for d in path.read_text(encoding="utf-8").split("\n") if d.strip()]
    size = sum(len(d.encode()) for d in base)
    return base * max(1, round(target_mb * 1e6 / size))


def mb(docs: list[str]) -> float:
    return sum(len(d.encode()) for d in docs) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--target-mb", type=float, default=50.0)
    ap.add_argument("--anchor-terms", type=int, default=2000)
    ap.add_argument("--anchor-mb", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--implementation", choices=["DFA", "ContiguousNFA", "NoncontiguousNFA"],
                    help="automaton layout (default: lexicon.MATCHER_IMPLEMENTATION)")
    args = ap.parse_args()
    if args.implementation:
        lexicon.MATCHER_IMPLEMENTATION = getattr(ahocorasick_rs.Implementation, args.implementation)
    if not args.lexicon.exists():
        sys.exit(f"bench_lexicon: lexicon not found: {args.lexicon} (pass --lexicon)")

    t0 = time.perf_counter()
    lx = Lexicon.from_files(str(args.lexicon))
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_terms = lx.n_terms
    t_build = time.perf_counter() - t0
    rep = lx.report
    print(f"code fingerprint {source_fingerprint()}")
    print(f"matcher: ahocorasick-rs {version('ahocorasick-rs')} BytesAhoCorasick, overlapping,"
          f" implementation {lexicon.MATCHER_IMPLEMENTATION}")
    print(f"lexicon: {args.lexicon.resolve()}  {len(lx.categories)} categories")
    print(f"  loaded {rep.kept} terms (skipped {dict(rep.skipped)}) in {t_load:.2f}s;"
          f" automaton over {n_terms} distinct terms built in {t_build:.2f}s")

    docs = docs_to(args.input, args.target_mb)
    anchor_docs = docs_to(args.input, args.anchor_mb)
    terms = sorted({t for ts in lx.terms.values() for t in ts})[:: max(1, n_terms // args.anchor_terms)]
    terms = terms[: args.anchor_terms]
    regex = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))

    hit_keys = [hits_key(c) for c in lx.categories]
    size, anchor_size = mb(docs), mb(anchor_docs)  # outside the timed loops
    best_ours = best_ours_cpu = best_anchor = 0.0
    hits = 0
    for _ in range(args.rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        hits = 0
        for d in docs:
            hits += sum(map(lx.signals(d).__getitem__, hit_keys))
        best_ours = max(best_ours, size / (time.perf_counter() - t0))
        best_ours_cpu = max(best_ours_cpu, size / (time.process_time() - c0))
        t0 = time.perf_counter()
        for d in anchor_docs:
            regex.findall(d.lower())
        best_anchor = max(best_anchor, anchor_size / (time.perf_counter() - t0))
    print(f"ours:   Lexicon.signals() over {size:.1f} MB ({len(docs)} docs): {best_ours:.1f} MB/s per core"
          f" ({best_ours_cpu:.1f} MB/s of CPU time), {hits / len(docs):.2f} hits/doc")
    print(f"anchor: regex alternation of {len(terms)} terms over {anchor_size:.1f} MB: {best_anchor:.2f} MB/s")
    print(f"ratio ours/anchor: {best_ours / best_anchor:.1f}x  (ours scans {n_terms / len(terms):.0f}x more terms)")


if __name__ == "__main__":
    main()
