#!/usr/bin/env python
"""The whole ``ptd clean`` DirectRunner job: wall time, throughput and peak RSS per input size.

What is measured
----------------
For each size in ``--sizes`` (default 100,400 MB; ``--quick`` = 5 MB) a jsonl input is built
in a temporary directory, one ``{"data": text}`` line per document, from the CLUE sample
(one document per line) replicated until the documents' UTF-8 text reaches the size
(MB = 1e6 bytes of document text, the unit of ``input_bytes`` in stats.json; the jsonl file is
somewhat larger and is reported too). Copy 0 of the sample is verbatim; every line of copy
k >= 1 gets ``"\\n（k）"`` appended, so copies are distinct documents and the job's exact dedup
does not collapse them (with verbatim copies every copy after the first would be rejected as
exact_duplicate and the job would write ~nothing).

Each job runs in a fresh process,
``sys.executable -m telechat_ptd.pipeline.cli clean INPUT -o OUT -q [-- BEAM_ARGS]`` (the same
interpreter as ``.venv/bin/ptd``), and is measured from outside:

* wall: from process start to exit (interpreter start, Beam import and graph build included);
* peak RSS of the process tree: psutil polls every 0.2 s and sums the RSS of the process and
  all its descendants (multi_processing workers included); the largest single process RSS is
  reported both as polled and as ru_maxrss from ``os.wait4`` (exact, no sampling gap; this
  bench process stays small so the fork inheritance of ru_maxrss does not inflate it);
* CPU seconds of the tree (``os.wait4`` rusage: the process and its reaped descendants), and
  cores used = CPU s / wall s;
* counts from OUT/stats.json (input, kept, rejected, errors, input_bytes, balanced).

Anchors, measured in the same run
---------------------------------
* startup: the same command on a 1-document input -- the fixed cost every job pays (Python,
  Beam, graph construction, writing an empty-ish output). "MB/s net" subtracts it from wall.
* rule stage alone: a fresh process, pinned to one core, that reads the largest input's jsonl
  (first ``--anchor-mb`` MB, default 20) with json.loads and runs
  ``DocumentProcessor(load_config()).process(text)`` on every document after a 200-document
  warm-up -- the per-core work of the job without Beam. job MB/s / rule MB/s is the share of
  single-core rule-stage speed the whole job keeps (above 1 only with parallel workers).

The header prints a sha1 of telechat_ptd's *.py and *.yaml files and the run warns if it
changed while running: the package is edited concurrently, and a changed threshold (e.g.
zh.min_chars) changes both kept shares and speed.

Beam options: ``--beam-args "--direct_num_workers=2 --direct_running_mode=multi_processing"``
(use ``--beam-args=...`` or quote it) or everything after a lone ``--`` on this script's
command line; they are passed after a lone ``--`` on the ptd command line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_INPUT, REPO, load_lines, source_fingerprint

MB = 1e6
MiB = 2**20


def build_jsonl(lines: list[str], target_mb: float, path: Path) -> tuple[int, int]:
    """Write documents until their UTF-8 text reaches target_mb; return (docs, text bytes)."""
    target = target_mb * MB
    n = text_bytes = 0
    k = len(lines)
    with open(path, "w", encoding="utf-8") as f:
        while text_bytes < target:
            copy, j = divmod(n, k)
            text = lines[j] + (f"\n（{copy}）" if copy else "")
            f.write(json.dumps({"data": text}, ensure_ascii=False))
            f.write("\n")
            text_bytes += len(text.encode("utf-8"))
            n += 1
    return n, text_bytes


# --------------------------------------------------------------------------- measuring a job


def measure(cmd: list[str], log: Path, timeout_s: float, interval: float = 0.2, observe=None) -> dict:
    """``observe(procs)``, when given, is called at every poll with the live process tree
    (psutil.Process objects, the job's own process first): bench_scale records per-process
    peaks with it."""
    import psutil

    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    root = psutil.Process(proc.pid)
    peak_tree = peak_single = 0
    max_procs = 1
    status = ru = None
    timed_out = False
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            procs = []
        tree = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            tree += rss
            peak_single = max(peak_single, rss)
        peak_tree = max(peak_tree, tree)
        max_procs = max(max_procs, len(procs))
        if observe is not None:
            observe(procs)
        if time.perf_counter() - t0 > timeout_s and not timed_out:
            timed_out = True
            for p in reversed(procs):  # our child and its descendants, by pid
                try:
                    p.send_signal(signal.SIGKILL)
                except psutil.NoSuchProcess:
                    pass
        time.sleep(interval)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "rc": proc.returncode, "wall": wall, "timed_out": timed_out,
        "peak_tree": peak_tree / MiB, "peak_single_polled": peak_single / MiB,
        "peak_single_wait4": ru.ru_maxrss / 1024,  # KiB on Linux
        "cpu": ru.ru_utime + ru.ru_stime, "procs": max_procs,
    }


def run_job(input_path: Path, out_dir: Path, beam_args: list[str], timeout_s: float, command: str = "clean",
            extra: tuple[str, ...] = (), observe=None) -> dict:
    cmd = [sys.executable, "-m", "telechat_ptd.pipeline.cli", command, str(input_path), "-o", str(out_dir), "-q", *extra]
    if beam_args:
        cmd += ["--", *beam_args]
    log = out_dir.parent / f"{out_dir.name}.log"
    res = measure(cmd, log, timeout_s, observe=observe)
    res["cmd"] = cmd
    res["log"] = log
    stats_path = out_dir / "stats.json"
    if res["rc"] == 0 and stats_path.is_file():
        res["stats"] = json.loads(stats_path.read_text())
    else:
        tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        why = "timed out" if res["timed_out"] else f"exit code {res['rc']}"
        print(f"bench_job: job failed ({why}): {shlex.join(cmd)}\n{tail}", file=sys.stderr)
        res["stats"] = None
    return res


# --------------------------------------------------------------------------- rule-stage anchor


def rules_anchor_child(path: str, mb: float, warmup: int) -> None:
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    from telechat_ptd.pipeline.config import load_config
    from telechat_ptd.process import DocumentProcessor

    proc = DocumentProcessor(load_config())
    with open(path, "rb") as f:
        for _, line in zip(range(warmup), f):
            proc.process(json.loads(line)["data"])
    limit = mb * MB
    n = nbytes = kept = 0
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            text = json.loads(line)["data"]
            kept += proc.process(text).kept
            n += 1
            nbytes += len(text.encode("utf-8"))
            if nbytes >= limit:
                break
    wall = time.perf_counter() - t0
    print(json.dumps({"docs": n, "mb": nbytes / MB, "wall": wall, "kept": kept}))


def rules_anchor(path: Path, mb: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_rules-anchor", str(path), "--anchor-mb", str(mb)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench_job: rule-stage anchor failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra_beam: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra_beam = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Beam options: --beam-args='--direct_num_workers=2 --direct_running_mode=multi_processing', "
        "or put them after a lone '--'. See the module docstring for what exactly is measured.",
    )
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT,
                    help="one document per line (default: ../shared/data/zh/clue_corpus_small_sample.txt from the repo root)")
    ap.add_argument("--sizes", help="comma-separated MB (1e6 bytes) of document text per job (default 100,400; --quick 5)")
    ap.add_argument("--quick", action="store_true", help="smoke test: --sizes 5 --anchor-mb 5 (explicit flags win)")
    ap.add_argument("--beam-args", default="", help="Beam pipeline options for ptd, one shell-quoted string")
    ap.add_argument("--anchor-mb", type=float, help="MB of the largest input the rule-stage anchor processes (default 20; --quick 5)")
    ap.add_argument("--no-anchors", action="store_true", help="skip the startup and rule-stage anchors")
    ap.add_argument("--timeout-s", type=float, default=3600, help="kill a job (and its descendants) after this (default 3600)")
    ap.add_argument("--tmpdir", type=Path, help="where the temporary directory goes (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary inputs and outputs")
    ap.add_argument("--_rules-anchor", dest="anchor_path", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.anchor_mb is None:
        args.anchor_mb = 5.0 if args.quick else 20.0
    if args.anchor_path:
        rules_anchor_child(args.anchor_path, args.anchor_mb, 200)
        return 0
    sizes = [float(s) for s in (args.sizes or ("5" if args.quick else "100,400")).split(",") if s.strip()]
    beam_args = shlex.split(args.beam_args) + extra_beam

    lines = [ln.decode("utf-8") for ln in load_lines(args.input, "bench_job")]
    from importlib.metadata import version

    tmp = Path(tempfile.mkdtemp(prefix="bench_job_", dir=args.tmpdir))
    fingerprint = source_fingerprint()
    print(
        f"bench_job: ptd clean on {', '.join(f'{s:g}' for s in sizes)} MB of {args.input.name} "
        f"({len(lines):,} lines, copies k>=1 suffixed); beam args: {shlex.join(beam_args) or '(none: DirectRunner defaults)'}; "
        f"python {platform.python_version()}, apache-beam {version('apache-beam')}, {os.cpu_count()} CPUs; "
        f"telechat_ptd source sha1 {fingerprint}; tmp {tmp}",
        flush=True,
    )
    rows = []
    anchor = None
    try:
        if not args.no_anchors:
            one = tmp / "startup.jsonl"
            one.write_text(json.dumps({"data": lines[0]}, ensure_ascii=False) + "\n", encoding="utf-8")
            res = run_job(one, tmp / "out_startup", beam_args, args.timeout_s)
            res.update(name="startup anchor (1 doc)", file_mb=one.stat().st_size / MB)
            rows.append(res)
            print(f"  startup anchor: {res['wall']:.1f} s", flush=True)
        startup = rows[0]["wall"] if rows and rows[0]["stats"] else 0.0
        largest = max(sizes)
        for size in sizes:
            path = tmp / f"in_{size:g}MB.jsonl"
            t = time.perf_counter()
            docs, text_bytes = build_jsonl(lines, size, path)
            print(f"  built {path.name}: {docs:,} docs, {text_bytes / MB:.1f} MB text, "
                  f"{path.stat().st_size / MB:.1f} MB file ({time.perf_counter() - t:.1f} s)", flush=True)
            if size == largest and not args.no_anchors:
                anchor = rules_anchor(path, min(args.anchor_mb, size))
                print(f"  rule-stage anchor: {anchor['mb']:.1f} MB in {anchor['wall']:.1f} s", flush=True)
            res = run_job(path, tmp / f"out_{size:g}MB", beam_args, args.timeout_s)
            res.update(name=f"ptd clean {size:g} MB", file_mb=path.stat().st_size / MB)
            now = source_fingerprint()
            if now != fingerprint:
                res["name"] += f" (source sha1 {now} at its end)"
            rows.append(res)
            print(f"  job {size:g} MB: {res['wall']:.1f} s, rc {res['rc']}", flush=True)
            if not args.keep:
                path.unlink()
                shutil.rmtree(tmp / f"out_{size:g}MB", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    # ---------------------------------------------------------------- table
    print()
    print(f"### ptd clean, DirectRunner{' ' + shlex.join(beam_args) if beam_args else ' (defaults)'}, {os.cpu_count()} CPUs")
    print()
    print("| run | text MB | file MB | docs in | kept | rejected | errors | balanced | wall s | docs/s | MB/s | MB/s net of startup "
          "| CPU s | cores | procs | peak tree RSS MiB | max 1-proc RSS MiB (polled / wait4) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = 0
    for r in rows:
        s = r["stats"]
        w = r["wall"]
        tail = (f"{r['cpu']:.1f} | {r['cpu'] / w:.2f} | {r['procs']} | {r['peak_tree']:.0f} | "
                f"{r['peak_single_polled']:.0f} / {r['peak_single_wait4']:.0f} |")
        if s is None:
            failed += 1
            print(f"| {r['name']} | | {r['file_mb']:.1f} | FAILED (rc {r['rc']}{', timeout' if r['timed_out'] else ''}) "
                  f"| | | | | {w:.1f} | | | | {tail}")
            continue
        mb = s.get("input_bytes", 0) / MB
        net = w - startup if r["name"].startswith("ptd") and startup else 0.0
        net_s = f"{mb / net:.2f}" if net > 0 else ""
        print(
            f"| {r['name']} | {mb:.1f} | {r['file_mb']:.1f} | {s['input']:,} | {s['kept']:,} ({s['kept'] / max(s['input'], 1):.1%}) "
            f"| {s['rejected']:,} | {s['errors']:,} | {s['balanced']} | {w:.1f} | {s['input'] / w:,.0f} | {mb / w:.2f} | {net_s} | {tail}"
        )
    if source_fingerprint() != fingerprint:
        print(f"WARNING: telechat_ptd's source changed during this run (sha1 {fingerprint} -> {source_fingerprint()}): "
              "rows may not be comparable")
    if anchor:
        a_mbs = anchor["mb"] / anchor["wall"]
        print()
        print(f"rule-stage anchor (1 core, json.loads + DocumentProcessor.process, no Beam): {anchor['mb']:.1f} MB, "
              f"{anchor['docs']:,} docs, {anchor['docs'] / anchor['wall']:,.0f} docs/s, {a_mbs:.2f} MB/s, "
              f"kept {anchor['kept'] / max(anchor['docs'], 1):.1%}")
        for r in rows:
            if r["name"].startswith("ptd") and r["stats"]:
                mb = r["stats"].get("input_bytes", 0) / MB
                print(f"  {r['name']}: job MB/s / rule-stage MB/s = {mb / r['wall'] / a_mbs:.2f}"
                      + (f" (net of startup {mb / (r['wall'] - startup) / a_mbs:.2f})" if r["wall"] > startup > 0 else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
