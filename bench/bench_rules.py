#!/usr/bin/env python
"""Rule-stage throughput per core and streaming memory, against datatrove in the same run.

What is measured
----------------
The CLUE sample (one document per line) is replicated until its UTF-8 text reaches
``--target-mb`` (default 100 MB; MB = 1e6 bytes of UTF-8 document text, newlines excluded).
Copies are verbatim by default: neither side keeps state across documents (datatrove's
5-entry ``lru_cache`` on tokenization never sees a repeat, the copies are 2,500 documents
apart), so verbatim copies cost what the sample costs and keep its kept share exactly.
``--suffix`` instead appends ``"\\n（k）"`` to every line of copy k >= 1 (what bench_job.py
does to get past exact dedup). Documents come from a generator that decodes every document
from bytes afresh, so nothing is pre-hashed or pre-built and memory does not grow with input;
the cost of that generator alone is printed as its own row ("stream only").

Timed on one pinned core, one process, wall clock (time.perf_counter), after a warm-up on
``--warmup-docs`` documents (numba JIT compiles on first use; datatrove builds its regexes):

* ours, clean mode:    ``DocumentProcessor(load_config()).process(text)`` -- normalization and
                       every rule family, stopping at the first failing rule;
* ours, annotate mode: ``process(text, complete=True)`` -- every signal on every document;
* anchor, datatrove 0.10 ``GopherQualityFilter() -> GopherRepetitionFilter() -> C4QualityFilter()``
  on ``datatrove.data.Document(text=..., id=str(i))``, calling each filter's ``.filter(doc)``:
    - cascade with thresholds adapted to Chinese characters (HEADLINE anchor): a document
      goes to the next filter only if the previous one kept it, as in a datatrove pipeline;
      Gopher's word-length and English stop-word rules off, 的/了/是... as stop words, 100-word
      minimum, C4's ASCII-only terminal-punctuation line rule off. It keeps Chinese text at a
      share close to ours, so both sides do comparable work; compared with ours in clean mode;
    - cascade with datatrove's default (English) thresholds;
    - all three on every document, default thresholds: compared with ours in annotate mode
      (all work, always).

Ratios are ours/datatrove in docs/s (equal to the MB/s ratio: same documents). The runs are
interleaved: the stream is cut into ``--blocks`` (20) blocks and all runs do block b before any
does block b+1, so load from other processes on the machine falls on ours and the anchors
alike. cpu/wall per run (process CPU time over wall time) below 1 shows the core was shared;
at 1 it does not rule out a busy sibling hyperthread or host, which slows every run here by up
to ~40% (seen on this 2-vCPU VM while other sessions ran pytest). Ratios survive that better
than absolute figures; "median block MB/s" (median over the blocks of each run) is the absolute
figure least moved by a burst of load; blocks are not whole copies of the sample, so some of
the spread between blocks is content.

The header prints a sha1 of telechat_ptd's *.py and *.yaml files and the run warns if it
changed while running: the package is edited concurrently, and a changed threshold (e.g.
zh.min_chars) changes both kept shares and speed.

Offline word tokenizer for datatrove (there is no network and no spaCy here)
-----------------------------------------------------------------------------
datatrove's default ``language="en"`` (and "zh") maps to its SpaCyTokenizer, and spaCy is not
installed (``ImportError: Please install `spacy` to use en word tokenizer``); NLTK is installed
but its punkt data is not, and fetching it needs the network. datatrove's
``load_word_tokenizer`` accepts a ``WordTokenizer`` instance passed as ``language=`` ("for custom
tokenizers"), so every filter gets ``language=OfflineZhTokenizer()``: datatrove's own
``WhitespaceTokenizer`` (its regex sentence splitter, which knows 。！？) with only
``word_tokenize`` replaced by one regex that makes every Han character a word (what spaCy's
blank ``zh`` pipeline does with its default "char" segmenter, and what our zh rules count as a
word), every run of other letters/digits a word and every other visible character a word.
One instance is shared by the three filters, so datatrove's tokenization cache works as it
does with a language string. Thresholds stay at datatrove's (English) defaults, so on this
Chinese text the default-threshold anchor keeps ~0% (Gopher's mean word length >= 3 and its
English stop words reject it) and stops at its first filter, which makes it a cheap anchor:
hence the zh-threshold cascade as the headline and the "all three" row as the full-work one.

Memory
------
For each size in ``--rss-sizes`` (default 100,400 MB) a fresh subprocess of this script runs
our clean mode over that many MB as a stream and reports its peak RSS (VmHWM from
/proc/self/status, imports + JIT included; ru_maxrss is not used on Linux because it carries
the parent's RSS over fork+exec), its RSS right after warm-up, and RSS at 25/50/75/100 % of the stream:
if streaming works, peak ~ post-warm-up RSS and the quartiles are flat. Sizes up to
``--rss-anchor-max-mb`` (default 100) also get a subprocess running the datatrove cascade as
the memory anchor; the bigger sizes run only our pipeline, to keep the run short.

Runtime of the default run on a 2-core machine: ~8.5 minutes (datatrove's all-three variant
at ~0.4 MB/s is 4.5 of them; the RSS runs ~2.5). ``--quick`` = 10 MB, RSS at 10 and 40 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _common import DEFAULT_INPUT, load_lines, source_fingerprint

MB = 1e6


# --------------------------------------------------------------------------- environment


def pin_one_core(enabled: bool) -> str:
    """Pin this process to one CPU and keep thread pools at one thread (before heavy imports)."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]  # the last one: the first usually gets more interrupts
    os.sched_setaffinity(0, {cpu})
    return f"pinned to cpu {cpu} of {len(cpus)}"


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> tuple[float, str]:
    """Peak RSS of this process: VmHWM where Linux has it, else ru_maxrss.

    ru_maxrss is not used on Linux because it survives fork+exec: a child started by a 200 MiB
    parent reports at least 200 MiB. VmHWM belongs to the process's own address space.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024, "VmHWM"
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
    return maxrss / (2**20 if sys.platform == "darwin" else 1024), "ru_maxrss"


def suffix_bytes(copy: int, suffix: bool) -> bytes:
    return f"\n（{copy}）".encode() if suffix and copy else b""


def plan(lines: list[bytes], target_mb: float, suffix: bool) -> tuple[int, int]:
    """Number of documents (cycling through the lines) whose text first reaches target_mb."""
    target = target_mb * MB
    n = total = 0
    while total < target:
        copy, j = divmod(n, len(lines))
        total += len(lines[j]) + len(suffix_bytes(copy, suffix))
        n += 1
    return n, total


def doc_bytes(lines: list[bytes], start: int, stop: int, suffix: bool) -> int:
    k = len(lines)
    return sum(len(lines[i % k]) + len(suffix_bytes(i // k, suffix)) for i in range(start, stop))


def stream(lines: list[bytes], n_docs: int, suffix: bool, start: int = 0):
    """Yield (i, text) for documents start..n_docs-1: a fresh str per document, decoded from bytes."""
    k = len(lines)
    for i in range(start, n_docs):
        copy, j = divmod(i, k)
        yield i, (lines[j] + suffix_bytes(copy, suffix)).decode("utf-8")


# --------------------------------------------------------------------------- the two sides


def make_ours():
    from telechat_ptd.pipeline.config import load_config
    from telechat_ptd.process import DocumentProcessor

    return DocumentProcessor(load_config())


def make_datatrove(zh_thresholds: bool = False):
    """The three datatrove filters; ``zh_thresholds`` adapts their English defaults to Chinese
    characters the way our zh rule set does, so the cascade keeps Chinese text and does the
    same amount of work per document as ours (the fair anchor for a cascade)."""
    import regex
    from datatrove.pipeline.filters import C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils.word_tokenizers import WhitespaceTokenizer

    class OfflineZhTokenizer(WhitespaceTokenizer):
        """datatrove's WhitespaceTokenizer (regex sentences) with a regex word split, no spaCy."""

        _words = regex.compile(r"\p{Han}|[^\s\p{Han}\p{P}\p{S}]+|\S")

        def word_tokenize(self, text: str) -> list[str]:
            return self._words.findall(text)

    tok = OfflineZhTokenizer()
    if not zh_thresholds:
        return [GopherQualityFilter(language=tok), GopherRepetitionFilter(language=tok), C4QualityFilter(language=tok)]
    return [
        GopherQualityFilter(
            min_doc_words=100, max_doc_words=None, min_avg_word_length=None, max_avg_word_length=None,
            max_non_alpha_words_ratio=0.6, stop_words=list("的了是在和有也就不这我他们"), language=tok,
        ),
        GopherRepetitionFilter(language=tok),
        # C4's terminal punctuation is ASCII (.?!"'): every Chinese line would be dropped.
        C4QualityFilter(filter_no_terminal_punct=False, min_num_sentences=2, language=tok),
    ]


def run_ours(proc, docs, complete: bool, progress=None) -> dict:
    kept = 0
    reasons: Counter = Counter()
    t0, c0 = time.perf_counter(), time.process_time()
    for i, text in docs:
        out = proc.process(text, complete=complete)
        if out.reason is None:
            kept += 1
        else:
            reasons[out.reason] += 1
        if progress is not None:
            progress(i)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "kept": kept, "reasons": reasons}


def run_datatrove(filters, docs, cascade: bool, progress=None) -> dict:
    from datatrove.data import Document

    kept = 0
    reasons: Counter = Counter()  # first rejecting filter and its reason
    t0, c0 = time.perf_counter(), time.process_time()
    for i, text in docs:
        doc = Document(text=text, id=str(i))
        first = None
        for f in filters:
            res = f.filter(doc)
            ok, why = res if isinstance(res, tuple) else (bool(res), None)
            if not ok and first is None:
                first = f"{f.__class__.__name__.replace('Filter', '')}:{why}"
                if cascade:
                    break
        if first is None:
            kept += 1
        else:
            reasons[first] += 1
        if progress is not None:
            progress(i)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "kept": kept, "reasons": reasons}


def run_stream_only(docs) -> dict:
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _, text in docs:
        n += len(text)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "kept": None, "reasons": Counter()}


def warm_up(lines, n_warm, ours=None, dt=None):
    if ours is not None:
        run_ours(ours, stream(lines, n_warm, False), complete=False)
        run_ours(ours, stream(lines, n_warm, False), complete=True)
    if dt is not None:
        run_datatrove(dt, stream(lines, n_warm, False), cascade=False)


# --------------------------------------------------------------------------- RSS child


def rss_child(args) -> None:
    """One size, one fresh process: stream it, print one JSON line."""
    where = pin_one_core(not args.no_pin)
    lines = load_lines(Path(args.input), "bench_rules")
    n_docs, n_bytes = plan(lines, args.child_mb, args.suffix)
    fingerprint = source_fingerprint()
    rss_start = rss_mb()
    if args.child_side == "ours":
        side = make_ours()
        warm_up(lines, args.warmup_docs, ours=side)
    else:
        side = make_datatrove()
        warm_up(lines, args.warmup_docs, dt=side)
    rss_warm = rss_mb()
    marks = {n_docs * q // 4 - 1: q * 25 for q in (1, 2, 3, 4)}
    quartiles: dict[int, float] = {}

    def progress(i):
        if i in marks:
            quartiles[marks[i]] = rss_mb()

    docs = stream(lines, n_docs, args.suffix)
    if args.child_side == "ours":
        res = run_ours(side, docs, complete=False, progress=progress)
    else:
        res = run_datatrove(side, docs, cascade=True, progress=progress)
    peak, peak_src = peak_rss_mb()
    print(json.dumps({
        "side": args.child_side, "mb": n_bytes / MB, "docs": n_docs, "wall": res["wall"], "kept": res["kept"],
        "rss_start": rss_start, "rss_warm": rss_warm, "quartiles": quartiles, "peak": peak, "peak_src": peak_src, "where": where,
        "fingerprint": fingerprint,
    }))


def spawn_rss(args, side: str, mb: float) -> dict:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--_rss-child", str(mb), "--_side", side,
        "--input", str(args.input), "--warmup-docs", str(args.warmup_docs),
    ] + (["--suffix"] if args.suffix else []) + (["--no-pin"] if args.no_pin else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench_rules: RSS subprocess ({side}, {mb} MB) failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def fmt_reasons(reasons: Counter, n: int, top: int = 3) -> str:
    return ", ".join(f"{r} {c / n:.0%}" for r, c in reasons.most_common(top))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the module docstring (head -80 bench/bench_rules.py) for what exactly is measured.",
    )
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT,
                    help="one document per line (default: ../shared/data/zh/clue_corpus_small_sample.txt from the repo root)")
    ap.add_argument("--target-mb", type=float, help="MB (1e6 bytes) of UTF-8 text to time (default 100; --quick 10)")
    ap.add_argument("--rss-sizes",
                    help="comma-separated MB for the per-size fresh-process peak-RSS runs; '' skips them "
                    "(default 100,400; --quick 10,40)")
    ap.add_argument("--rss-anchor-max-mb", type=float,
                    help="RSS sizes up to this also run the datatrove cascade in its own process (default 100; --quick 10)")
    ap.add_argument("--warmup-docs", type=int, default=200, help="documents per side before timing (default 200)")
    ap.add_argument("--blocks", type=int, default=20,
                    help="interleave the timed runs over this many blocks of the stream (default 20)")
    ap.add_argument("--suffix", action="store_true", help="append '\\n（k）' to the lines of copy k>=1 instead of verbatim copies")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: --target-mb 10 --rss-sizes 10,40 --rss-anchor-max-mb 10 (explicit flags win)")
    ap.add_argument("--_rss-child", dest="child_mb", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--_side", dest="child_side", default="ours", choices=["ours", "datatrove"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_mb is not None:
        rss_child(args)
        return 0
    for key, full, quick in (("target_mb", 100.0, 10.0), ("rss_sizes", "100,400", "10,40"), ("rss_anchor_max_mb", 100.0, 10.0)):
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    rss_sizes = [float(s) for s in args.rss_sizes.split(",") if s.strip()]

    where = pin_one_core(not args.no_pin)
    lines = load_lines(args.input, "bench_rules")
    n_docs, n_bytes = plan(lines, args.target_mb, args.suffix)
    mb = n_bytes / MB

    from importlib.metadata import version

    fingerprint = source_fingerprint()
    print(
        f"bench_rules: {mb:.1f} MB = {n_docs:,} docs ({len(lines):,}-line {args.input.name} x{n_docs / len(lines):.1f}, "
        f"{'suffixed' if args.suffix else 'verbatim'} copies); 1 process, {where}; "
        f"python {platform.python_version()}, datatrove {version('datatrove')}, telechat_ptd source sha1 {fingerprint}",
        flush=True,
    )
    t = time.perf_counter()
    ours, dt, dt_zh = make_ours(), make_datatrove(), make_datatrove(zh_thresholds=True)
    warm_up(lines, args.warmup_docs, ours=ours, dt=dt)
    warm_up(lines, args.warmup_docs, dt=dt_zh)
    print(f"  set-up + warm-up on {args.warmup_docs} docs per side: {time.perf_counter() - t:.1f} s", flush=True)

    runs = [
        ("stream only (decode, no work)", lambda d: run_stream_only(d)),
        ("ours clean (stop at 1st failure)", lambda d: run_ours(ours, d, complete=False)),
        ("ours annotate (all signals)", lambda d: run_ours(ours, d, complete=True)),
        ("datatrove cascade, zh thresholds [anchor]", lambda d: run_datatrove(dt_zh, d, cascade=True)),
        ("datatrove cascade, default thresholds", lambda d: run_datatrove(dt, d, cascade=True)),
        ("datatrove all three every doc", lambda d: run_datatrove(dt, d, cascade=False)),
    ]
    # Interleaved: the stream is cut into --blocks blocks and every run does block b before any
    # run does block b+1, so load from other processes on this machine hits all runs alike.
    results = {name: {"wall": 0.0, "cpu": 0.0, "kept": 0, "reasons": Counter(), "blocks": []} for name, _ in runs}
    bounds = [n_docs * b // args.blocks for b in range(args.blocks + 1)]
    block_mb = [doc_bytes(lines, bounds[b], bounds[b + 1], args.suffix) / MB for b in range(args.blocks)]
    load0 = os.getloadavg()
    for b in range(args.blocks):
        for name, fn in runs:
            res = fn(stream(lines, bounds[b + 1], args.suffix, start=bounds[b]))
            acc = results[name]
            acc["wall"] += res["wall"]
            acc["blocks"].append(block_mb[b] / res["wall"])
            acc["cpu"] += res["cpu"]
            acc["reasons"] += res["reasons"]
            acc["kept"] = None if res["kept"] is None else acc["kept"] + res["kept"]
        print(f"  block {b + 1}/{args.blocks} done, cumulative s: " + ", ".join(
            f"{name.split(' (')[0].split(' [')[0]} {results[name]['wall']:.1f}" for name, _ in runs[1:]), flush=True)
    load1 = os.getloadavg()
    fingerprint_end = source_fingerprint()
    for name, _ in runs:
        print(f"  {name:<38} {results[name]['wall']:7.1f} s", flush=True)

    r_clean, r_ann = results[runs[1][0]], results[runs[2][0]]
    r_casc, r_default, r_all = results[runs[3][0]], results[runs[4][0]], results[runs[5][0]]
    anchor_for = {runs[1][0]: r_casc, runs[2][0]: r_all}

    rss_rows = []
    for size in rss_sizes:
        sides = ["ours"] + (["datatrove"] if size <= args.rss_anchor_max_mb else [])
        for side in sides:
            t = time.perf_counter()
            row = spawn_rss(args, side, size)
            rss_rows.append(row)
            print(f"  RSS run {side:<9} {row['mb']:6.1f} MB: {time.perf_counter() - t:6.1f} s", flush=True)

    # ---------------------------------------------------------------- tables
    print()
    print(f"### Rule stage, 1 core: {mb:.1f} MB UTF-8 text, {n_docs:,} docs ({args.input.name})")
    print()
    print("| run | wall s | docs/s | MB/s | median block MB/s | cpu/wall | kept | ours/anchor | top rejections (first failing rule) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, res in results.items():
        w = res["wall"]
        kept = "" if res["kept"] is None else f"{res['kept'] / n_docs:.1%}"
        anchor = anchor_for.get(name)
        ratio = f"{anchor['wall'] / w:.2f}x" if anchor else ""
        print(
            f"| {name} | {w:.1f} | {n_docs / w:,.0f} | {mb / w:.2f} | {statistics.median(res['blocks']):.2f} | {res['cpu'] / w:.2f} | {kept} | {ratio} | "
            f"{fmt_reasons(res['reasons'], n_docs)} |"
        )
    print()
    print(f"HEADLINE  ours clean / datatrove cascade (zh thresholds) = {r_casc['wall'] / r_clean['wall']:.2f}x "
          f"({mb / r_clean['wall']:.2f} vs {mb / r_casc['wall']:.2f} MB/s per core)")
    print(f"          ours clean / datatrove cascade (defaults)      = {r_default['wall'] / r_clean['wall']:.2f}x "
          f"(its English defaults keep {r_default['kept'] / n_docs:.1%}: it stops at the first filter)")
    print(f"          ours annotate / datatrove all three every doc  = {r_all['wall'] / r_ann['wall']:.2f}x "
          f"({mb / r_ann['wall']:.2f} vs {mb / r_all['wall']:.2f} MB/s per core)")
    print(f"          ours clean / datatrove all three every doc     = {r_all['wall'] / r_clean['wall']:.2f}x")
    if r_clean["kept"] != r_ann["kept"]:
        print(f"WARNING: clean kept {r_clean['kept']:,} but annotate kept {r_ann['kept']:,}: the two modes disagree")
    print("  (datatrove: offline per-character zh word tokenizer; thresholds as labelled; see the docstring)")
    print(f"  load average (1 min) before/after the timed runs: {load0[0]:.2f} / {load1[0]:.2f} on {os.cpu_count()} CPUs; "
          "cpu/wall < 1 means the pinned core was shared (=1 does not rule out a busy sibling vCPU)")
    if fingerprint_end != fingerprint:
        print(f"WARNING: telechat_ptd's source changed during the timed runs (sha1 {fingerprint} -> {fingerprint_end}); "
              "the process kept the code and config it had loaded at the start")
    if rss_rows:
        print()
        print("### Peak RSS, streaming rule stage (fresh process per row, 1 core)")
        print()
        print("| side | input MB | docs | s | MB/s | RSS after import+warm-up MiB | RSS at 25/50/75/100% MiB | peak RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|---|---:|")
        for row in rss_rows:
            q = "/".join(f"{row['quartiles'].get(str(k), row['quartiles'].get(k, float('nan'))):.0f}" for k in (25, 50, 75, 100))
            side = "ours clean" if row["side"] == "ours" else "datatrove cascade"
            if row["fingerprint"] != fingerprint:
                side += f" (source sha1 {row['fingerprint']})"
            print(
                f"| {side} | {row['mb']:.1f} | {row['docs']:,} | {row['wall']:.1f} | {row['mb'] / row['wall']:.2f} | "
                f"{row['rss_warm']:.0f} | {q} | {row['peak']:.0f} ({row['peak_src']}) |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
