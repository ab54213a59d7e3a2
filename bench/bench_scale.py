#!/usr/bin/env python
"""Scale evidence for ``ptd clean``: speed-up with workers, and which process's memory grows
with the corpus.

Why
---
A job that is fast on 5,000 documents can still fail at 10^6: a DoFn that accumulates state,
a shuffle held in one process, a side input that grows with the corpus. The claim to check is
that no *worker's* peak RSS grows with corpus size (workers stream bundles; only what is
documented may grow), while the DirectRunner's driver -- which holds every shuffle (exact
dedup, the MinHash-LSH buckets, connected components, the sorted shard writes) in memory --
is expected to grow, and is printed as the driver so it is not mistaken for a worker. A tree
total (what bench_job reports) cannot tell these apart, so every process is polled by pid and
reported on its own.

What is measured
----------------
For each corpus size in ``--docs`` (e.g. ``250000,1000000``) a synthetic corpus is generated
into ``--tmpdir`` (bench/synthetic_corpus.py: real sentences, web-like lengths, 8% exact and
8% near duplicates, 10% junk, 64 files so the work splits), unless ``--corpus DIR`` is given.
Then, for each setup in ``--setups``, a fresh process runs
``ptd clean CORPUS -o OUT -q --config CFG -- BEAM_ARGS`` (through bench_job.run_job / measure:
wall, tree CPU from os.wait4, kill after ``--timeout-s``):

* ``direct1``: DirectRunner, multi_processing, 1 SDK worker process;
* ``direct2``: the same with 2 worker processes;
* ``dask2``: ``telechat_ptd.runners.dask.DaskRunner`` on a local dask.distributed cluster of 2
  worker processes with 1 thread each (``--dask-memory-limit`` each, Dask's ``auto`` by default:
  the machine's memory shared out, spilling to disk from 60% of it), started by this bench in
  its own subprocess (``--_dask-cluster``) which prints the scheduler address and the workers'
  pids; the cluster is fresh for each run and torn down after it. When the runner module is
  missing or the run fails, the row says so with the error's last line and the bench goes on.

CFG (``--stages all``) turns on normalization, the rule filters, language ID, exact + near
dedup and the safety stage's lexicon and PII redaction (blocklist off), and turns *off* every
model scorer (kenlm, fasttext, bert, gpt2, toxicity): the scale question is about the Beam graph and its
shuffles, and the scorers' per-core cost is measured by bench/cost_estimate.py instead.
``--stages none`` (every stage off: read, shard writes, stats) and ``--stages near`` (near
dedup alone) are controls: a worker whose memory grows as much with every stage off grows
with Beam's runner, not with a stage.

Every process of the job is polled every ``--interval`` s (psutil RSS and CPU times): the
driver (the ptd process), each child (multi_processing SDK workers, labelled from their command
line), and, for dask, the worker processes and the scheduler process by pid. Peak RSS is per
process; the "sum" is the peak of the per-poll sum over all of them. CPU s = os.wait4 of the
ptd tree (exact) plus, for dask, the CPU the cluster's processes spent during the run (psutil).

Checks printed after the tables: direct1 -> direct2 speed-up; with two sizes, each process's
peak RSS at the larger size over the smaller; and whether the setups wrote the same output
for the same corpus (sha1 of the sorted lines of data/, of rejected/ and of errors/, and of
stats.json without timing fields).

    python bench/bench_scale.py --docs 250000,1000000 --setups direct1,direct2,dask2 \\
        --tmpdir /var/tmp --timeout-s 14400
"""

from __future__ import annotations

import argparse
import ctypes
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, source_fingerprint
from bench_job import MB, MiB, run_job

HERE = Path(__file__).resolve().parent
SETUPS = {
    "direct1": ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=1"],
    "direct2": ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    "dask2": ["--runner=telechat_ptd.runners.dask.DaskRunner"],  # + --dask_client_address
}
SCORERS = ("kenlm", "fasttext", "bert", "gpt2", "toxicity")
CONFIG = {
    "normalize": {"enabled": True},
    "filters": {"enabled": True, "lang": {"keep": ["zh", "en"]}},
    "dedup": {"exact": {"enabled": True}, "near": {"enabled": True}},
    "safety": {"blocklist": {"enabled": False}, "lexicon": {"enabled": True}, "pii": {"enabled": True}},
    "scorers": {name: {"enabled": False} for name in SCORERS},
}
# --stages: which stages CFG turns on. "none" (read and write only) and "near" (near dedup
# alone) are controls that tell Beam's own memory from a stage's.
_OFF = {"normalize": {"enabled": False}, "filters": {"enabled": False},
        "dedup": {"exact": {"enabled": False}, "near": {"enabled": False}},
        "safety": {"blocklist": {"enabled": False}, "lexicon": {"enabled": False}, "pii": {"enabled": False}},
        "scorers": CONFIG["scorers"]}
STAGES = {
    "all": (CONFIG, "normalize + rule filters + language ID (zh, en) + exact and near dedup + safety lexicon and PII "
                    "(blocklist off); model scorers kenlm/fasttext/bert/gpt2/toxicity OFF for the scale runs"),
    "none": (_OFF, "CONTROL: every stage off (read, write shards and stats only)"),
    "near": ({**_OFF, "dedup": {"exact": {"enabled": False}, "near": {"enabled": True}}},
             "CONTROL: near dedup only (MinHash, LSH buckets, connected components, join), every other stage off"),
}
TIMING = re.compile(r"second|wall|time|elapsed|duration|started|finished", re.I)


# --------------------------------------------------------------------------- per-process polling


class Processes:
    """Per-pid peak RSS and CPU of the job's process tree plus ``external`` pids (the dask
    cluster), fed by bench_job.measure's ``observe`` hook at every poll."""

    def __init__(self, external: dict[int, str] | None = None):
        import psutil

        self.psutil = psutil
        self.ext = {}
        for pid, label in (external or {}).items():
            try:
                p = psutil.Process(pid)
                self.ext[pid] = (p, label)
            except psutil.NoSuchProcess:
                pass
        self.info: dict[int, dict] = {}  # pid -> label, peak, cpu0, cpu1, order
        self.peak_sum = 0
        self.root: int | None = None
        for pid, (p, label) in self.ext.items():
            self._sample(p, label)  # the cluster's CPU before the job

    def _label(self, p) -> str:
        if p.pid == self.root:
            return "driver (ptd)"
        try:
            cmd = " ".join(p.cmdline())
        except self.psutil.Error:
            cmd = "?"
        if "sdk_worker_main" in cmd:
            try:
                name = p.name()
            except self.psutil.Error:
                name = "?"
            # the SDK worker is started through a shell: label the few-MiB wrapper apart
            return "sdk worker" if "python" in name else f"sdk worker wrapper ({name})"
        return "child: " + (cmd[:60] or p.name())

    def _sample(self, p, label: str | None = None) -> int:
        try:
            with p.oneshot():
                rss = p.memory_info().rss
                t = p.cpu_times()
        except self.psutil.Error:
            return 0
        cpu = t.user + t.system
        rec = self.info.get(p.pid)
        if rec is None:
            rec = self.info[p.pid] = {"label": label or self._label(p), "peak": 0, "cpu0": cpu,
                                      "order": len(self.info), "pid": p.pid}
        rec["peak"] = max(rec["peak"], rss)
        rec["cpu1"] = cpu
        return rss

    def __call__(self, procs) -> None:
        if self.root is None and procs:
            self.root = procs[0].pid
        total = 0
        for p in procs:
            total += self._sample(p)
        for p, label in self.ext.values():
            total += self._sample(p, label)
        self.peak_sum = max(self.peak_sum, total)

    def rows(self) -> list[dict]:
        """Processes with a role and an ordinal (``sdk worker 1``, ``dask worker 2``) in order
        of appearance; the job's own children are counted from their first poll (``cpu0`` is
        then ~0 only for them, so their CPU is cpu1)."""
        out, seen = [], {}
        for rec in sorted(self.info.values(), key=lambda r: r["order"]):
            role = rec["label"]
            seen[role] = seen.get(role, 0) + 1
            ext = rec["pid"] in self.ext
            out.append({**rec, "name": role if role.startswith("driver") or role.startswith("dask scheduler") else f"{role} {seen[role]}",
                        "cpu": (rec.get("cpu1", rec["cpu0"]) - rec["cpu0"]) if ext else rec.get("cpu1", 0.0), "external": ext})
        return out


# --------------------------------------------------------------------------- dask cluster


def dask_cluster_child(n: int, memory_limit: str) -> None:
    """Runs in its own process: a LocalCluster of n single-threaded worker processes; prints
    {"address", "workers": {addr: pid}, "pid"} and serves until stdin closes."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    pids = client.run(os.getpid)
    print(json.dumps({"address": cluster.scheduler_address, "workers": pids, "pid": os.getpid()}), flush=True)
    sys.stdin.read()
    client.close()
    cluster.close()


class DaskCluster:
    def __init__(self, n: int, log: Path, memory_limit: str, timeout_s: float = 180):
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--_dask-cluster", str(n),
                                      "--dask-memory-limit", memory_limit],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=REPO)
        t0 = time.perf_counter()
        line = b""
        while time.perf_counter() - t0 < timeout_s:
            line = self.proc.stdout.readline()
            if not line or line.lstrip().startswith(b"{"):
                break
        if not line.strip():
            self.close()
            raise RuntimeError(f"dask cluster did not start (see {log})")
        info = json.loads(line)
        self.address = info["address"]
        self.workers = {int(pid): "dask worker" for pid in info["workers"].values()}
        self.scheduler_pid = int(info["pid"])

    def close(self) -> None:
        import psutil

        try:
            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            procs = []
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (subprocess.TimeoutExpired, OSError):
            pass
        if self.proc.poll() is None:
            procs.insert(0, self.proc)
        for p in procs:
            try:
                p.send_signal(signal.SIGKILL)  # by pid: only what this bench started
            except (psutil.NoSuchProcess, ProcessLookupError):
                pass
        self.proc.wait()
        self.log.close()


# --------------------------------------------------------------------------- output identity


def _lines(folder: Path) -> list[bytes]:
    out: list[bytes] = []
    for p in sorted(folder.glob("*")) if folder.is_dir() else []:
        if p.name.endswith(".gz"):
            data = gzip.decompress(p.read_bytes())
        elif p.name.endswith(".zst"):
            import zstandard

            data = zstandard.ZstdDecompressor().stream_reader(p.open("rb")).read()
        else:
            data = p.read_bytes()
        out += [ln for ln in data.split(b"\n") if ln]
    return out


def _strip_timing(obj):
    if isinstance(obj, dict):
        return {k: _strip_timing(v) for k, v in obj.items() if not TIMING.search(k)}
    if isinstance(obj, list):
        return [_strip_timing(v) for v in obj]
    return obj


def output_hashes(out: Path) -> dict:
    """sha1 of the sorted lines of data/, rejected/, errors/ (shard boundaries may differ
    between runners; the set of lines must not) and of stats.json without timing fields."""
    h = {}
    for name in ("data", "rejected", "errors"):
        lines = sorted(_lines(out / name))
        h[name] = hashlib.sha1(b"\n".join(lines)).hexdigest()[:12] + f" ({len(lines):,} lines)"
    stats = out / "stats.json"
    if stats.is_file():
        s = _strip_timing(json.loads(stats.read_text()))
        h["stats"] = hashlib.sha1(json.dumps(s, sort_keys=True).encode()).hexdigest()[:12]
        h["_stats"] = s
    _give_back_heap()
    return h


def _give_back_heap() -> None:
    """Return the freed heap of the sorted lines to the OS: at 1M documents it is 3.2 GB
    that this process would otherwise keep through the next setup's run."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _diff_keys(a, b, prefix="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix[:-1]}: {a} vs {b}"]


# --------------------------------------------------------------------------- one run


def last_error_line(log: Path) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):  # the exception line, not Beam's trailing log chatter
        if re.match(r"^[\w.]+(Error|Exception|Exit)\b|^[\w.]+: ", ln) and not ln.startswith(("INFO", "WARNING", "DEBUG")):
            return ln[:300]
    return (lines[-1] if lines else "(no output)")[:300]


def run_setup(setup: str, corpus: Path, tmp: Path, cfg: Path, tag: str, timeout_s: float, dask_memory: str,
              dask_partitions: int | None = None) -> dict:
    out = tmp / f"out_{tag}_{setup}"
    shutil.rmtree(out, ignore_errors=True)
    beam = list(SETUPS[setup])
    cluster = None
    row = {"setup": setup, "tag": tag}
    if setup.startswith("dask"):
        try:
            import dask.distributed  # noqa: F401
        except ImportError as exc:
            return {**row, "failed": f"dask.distributed not installed: {exc}"}
        from importlib.util import find_spec

        try:
            found = find_spec("telechat_ptd.runners.dask") is not None
        except ImportError:
            found = False
        if not found:
            row["note"] = "telechat_ptd.runners.dask not found"
        try:
            cluster = DaskCluster(int(setup[4:] or 2), tmp / f"dask_{tag}_{setup}.log", dask_memory)
        except Exception as exc:  # noqa: BLE001
            return {**row, "failed": f"cluster: {type(exc).__name__}: {exc}"}
        beam.append(f"--dask_client_address={cluster.address}")
        if dask_partitions:
            beam.append(f"--dask_npartitions={dask_partitions}")
        print(f"  dask cluster for {setup}: scheduler {cluster.address} (pid {cluster.scheduler_pid}), "
              f"worker pids {sorted(cluster.workers)}", flush=True)
    ext = {}
    if cluster:
        ext = {**cluster.workers, cluster.scheduler_pid: "dask scheduler (+nannies)"}
    procs = Processes(ext)
    try:
        res = run_job(corpus, out, beam, timeout_s, extra=("--config", str(cfg)), observe=procs)
    finally:
        if cluster:
            procs([])  # one last sample of the cluster
            cluster.close()
    row.update(res)
    row["procs_rows"] = procs.rows()
    row["peak_sum"] = procs.peak_sum / MiB
    row["cpu_total"] = res["cpu"] + sum(r["cpu"] for r in row["procs_rows"] if r["external"])
    if res["stats"] is None:
        why = "timed out" if res["timed_out"] else f"rc {res['rc']}"
        row["failed"] = f"{why}: {last_error_line(res['log'])}"
    else:
        row["hashes"] = output_hashes(out)
    return row


# --------------------------------------------------------------------------- report


def _fmt_procs(rows: list[dict], kind: str) -> str:
    sel = [r for r in rows if r["name"].startswith(kind) and "wrapper" not in r["name"]]
    return ", ".join(f"{r['peak'] / MiB:,.0f}" for r in sel) or "-"


def report(runs: list[dict], sizes: dict[str, dict]) -> int:
    failed = 0
    print()
    print("### ptd clean at scale (rules + lang ID + exact/near dedup + lexicon + PII; model scorers OFF)")
    print()
    print("| corpus | setup | docs in | kept | rejected | errors | balanced | wall s | docs/s | MB/s | CPU s | cores "
          "| driver peak MiB | worker peaks MiB | other procs peak MiB | sum peak MiB |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        corpus = sizes[r["tag"]]["label"]
        if r.get("failed") and "wall" not in r:
            failed += 1
            print(f"| {corpus} | {r['setup']} | FAILED: {r['failed']} | | | | | | | | | | | | | |")
            continue
        rows = r["procs_rows"]
        drv = next((x for x in rows if x["name"].startswith("driver")), None)
        workers = _fmt_procs(rows, "sdk worker") if r["setup"].startswith("direct") else _fmt_procs(rows, "dask worker")
        other = [x for x in rows if not (x["name"].startswith(("driver", "sdk worker", "dask worker")))]
        other_s = ", ".join(f"{x['name'][:30]} {x['peak'] / MiB:,.0f}" for x in other) or "-"
        w = r["wall"]
        tail = (f"{r['cpu_total']:.1f} | {r['cpu_total'] / w:.2f} | {drv['peak'] / MiB if drv else 0:,.0f} | {workers} | "
                f"{other_s} | {r['peak_sum']:,.0f} |")
        s = r["stats"]
        if s is None:
            failed += 1
            print(f"| {corpus} | {r['setup']} | FAILED: {r['failed']} | | | | | {w:.1f} | | | {tail}")
            continue
        mb = s.get("input_bytes", 0) / MB
        print(f"| {corpus} | {r['setup']} | {s['input']:,} | {s['kept']:,} ({s['kept'] / max(s['input'], 1):.1%}) | "
              f"{s['rejected']:,} | {s['errors']:,} | {s['balanced']} | {w:.1f} | {s['input'] / w:,.0f} | {mb / w:.2f} | {tail}")
    print()
    print("Peak RSS per process (MiB), polled by pid; CPU s per process from psutil (the ptd tree's total is exact, from wait4):")
    print()
    print("| corpus | setup | process | pid | peak RSS MiB | CPU s |")
    print("|---|---|---|---:|---:|---:|")
    for r in runs:
        for x in r.get("procs_rows", []):
            print(f"| {sizes[r['tag']]['label']} | {r['setup']} | {x['name']} | {x['pid']} | {x['peak'] / MiB:,.0f} | {x['cpu']:.1f} |")

    # speed-up
    print()
    ok = {(r["tag"], r["setup"]): r for r in runs if r.get("stats")}
    for tag, size in sizes.items():
        a, b = ok.get((tag, "direct1")), ok.get((tag, "direct2"))
        if a and b:
            print(f"speed-up direct1 -> direct2 on {size['label']}: {a['wall'] / b['wall']:.2f}x "
                  f"({a['wall']:.1f} s -> {b['wall']:.1f} s; CPU {a['cpu_total']:.0f} s -> {b['cpu_total']:.0f} s)")
        d = ok.get((tag, "dask2"))
        if a and d:
            print(f"speed-up direct1 -> dask2 on {size['label']}: {a['wall'] / d['wall']:.2f}x")

    # memory growth with corpus size
    tags = list(sizes)
    if len(tags) >= 2:
        small, big = tags[0], tags[-1]
        print()
        print(f"Peak RSS growth, {sizes[big]['label']} / {sizes[small]['label']} "
              f"(documents x{sizes[big]['docs'] / max(sizes[small]['docs'], 1):.1f}):")
        print()
        print("| setup | process | peak small MiB | peak big MiB | ratio |")
        print("|---|---|---:|---:|---:|")
        for setup in dict.fromkeys(r["setup"] for r in runs):
            a, b = ok.get((small, setup)), ok.get((big, setup))
            if not (a and b):
                print(f"| {setup} | (a run failed: no comparison) | | | |")
                continue
            pa = {x["name"]: x["peak"] for x in a["procs_rows"]}
            for x in b["procs_rows"]:
                if x["name"] in pa and pa[x["name"]] > 0:
                    name = x["name"] + (" -- DRIVER: holds the DirectRunner's shuffles, expected to grow" if x["name"].startswith("driver") and setup.startswith("direct") else "")
                    print(f"| {setup} | {name} | {pa[x['name']] / MiB:,.0f} | {x['peak'] / MiB:,.0f} | {x['peak'] / pa[x['name']]:.2f} |")
            print(f"| {setup} | sum of all processes | {a['peak_sum']:,.0f} | {b['peak_sum']:,.0f} | {b['peak_sum'] / max(a['peak_sum'], 1e-9):.2f} |")

    # identical outputs
    print()
    for tag, size in sizes.items():
        hs = [(r["setup"], r["hashes"]) for r in runs if r["tag"] == tag and r.get("hashes")]
        if len(hs) < 2:
            if hs:
                print(f"outputs on {size['label']}: only {hs[0][0]} succeeded; nothing to compare "
                      f"(data {hs[0][1]['data']}, rejected {hs[0][1]['rejected']}, errors {hs[0][1]['errors']}, stats {hs[0][1].get('stats')})")
            continue
        ref_name, ref = hs[0]
        same = True
        for name, h in hs[1:]:
            for part in ("data", "rejected", "errors", "stats"):
                if h.get(part) != ref.get(part):
                    same = False
                    print(f"outputs DIFFER on {size['label']}: {part} {ref_name} {ref.get(part)} vs {name} {h.get(part)}")
                    if part == "stats":
                        for d in _diff_keys(ref.get("_stats"), h.get("_stats"))[:10]:
                            print(f"    stats.{d}")
        if same:
            print(f"outputs identical on {size['label']} across {', '.join(n for n, _ in hs)}: data {ref['data']}, "
                  f"rejected {ref['rejected']}, errors {ref['errors']}, stats.json (minus timing) {ref['stats']}")
    return 1 if failed else 0


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for what exactly is measured.")
    ap.add_argument("--docs", default="20000", help="comma-separated corpus sizes in documents (default 20000)")
    ap.add_argument("--files", type=int, default=64, help="files per generated corpus (default 64)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", type=Path, help="use this corpus directory instead of generating one (one size)")
    ap.add_argument("--setups", default="direct1,direct2,dask2", help=f"comma-separated, of {', '.join(SETUPS)}")
    ap.add_argument("--stages", choices=list(STAGES), default="all",
                    help="all (default): every stage but the model scorers; none / near: controls, every stage off / "
                         "near dedup alone")
    ap.add_argument("--timeout-s", type=float, default=4 * 3600, help="kill a job (and its descendants) after this")
    ap.add_argument("--tmpdir", type=Path, help="where corpora and outputs go (default: the system's temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep generated corpora and outputs")
    ap.add_argument("--dask-memory-limit", default="auto",
                    help="memory_limit of each Dask worker (default auto: the machine's memory / workers; 0: no limit, "
                         "no spilling)")
    ap.add_argument("--dask-npartitions", type=int,
                    help="partitions of every shuffled stage on Dask (default: the runner's, 4 per worker thread); "
                         "more keep each task's partition smaller at 1M documents")
    ap.add_argument("--_dask-cluster", dest="dask_cluster", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.dask_cluster:
        dask_cluster_child(args.dask_cluster, args.dask_memory_limit)
        return 0
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = [s for s in setups if s not in SETUPS]
    if unknown:
        ap.error(f"unknown setup(s) {unknown}; choose from {list(SETUPS)}")
    sizes_docs = [int(float(d)) for d in args.docs.split(",") if d.strip()]

    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "absent"

    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_", dir=args.tmpdir))
    cfg = tmp / "scale.yaml"
    import yaml

    config, described = STAGES[args.stages]
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    fingerprint = source_fingerprint()
    print(f"bench_scale: setups {', '.join(setups)}; corpus {args.corpus or ', '.join(f'{d:,}' for d in sizes_docs) + ' docs (synthetic)'}; "
          f"python {platform.python_version()}, apache-beam {ver('apache-beam')}, dask {ver('distributed')}, {os.cpu_count()} CPUs; "
          f"telechat_ptd source sha1 {fingerprint}; dask worker memory_limit {args.dask_memory_limit}, npartitions {args.dask_npartitions or 'default'}; tmp {tmp}", flush=True)
    print(f"  config ({args.stages}): {described}", flush=True)
    runs: list[dict] = []
    sizes: dict[str, dict] = {}
    try:
        corpora = [(str(args.corpus), args.corpus)] if args.corpus else [(f"{d}", tmp / f"corpus_{d}") for d in sizes_docs]
        for tag, path in corpora:
            if not args.corpus:
                import synthetic_corpus

                m = synthetic_corpus.generate(path, int(tag), args.files, args.seed, quiet=True)
                print(synthetic_corpus.describe(m), flush=True)
                label = f"{int(tag):,} docs"
            else:
                man = path / ".manifest.json"
                m = json.loads(man.read_text()) if man.is_file() else {}
                label = f"{path.name}" + (f" ({m['docs']:,} docs)" if m else "")
                tag = f"corpus_{path.name}"
            sizes[tag] = {"label": label, "docs": m.get("docs", 0)}
            for setup in setups:
                t = time.perf_counter()
                try:
                    r = run_setup(setup, path, tmp, cfg, tag, args.timeout_s, args.dask_memory_limit, args.dask_npartitions)
                except Exception as exc:  # noqa: BLE001 -- one setup's failure must not lose the others' rows
                    r = {"setup": setup, "tag": tag, "failed": f"bench error: {type(exc).__name__}: {exc}"}
                now = source_fingerprint()
                if now != fingerprint:
                    r["code"] = now
                runs.append(r)
                status = f"FAILED ({r['failed']})" if r.get("failed") else f"{r['wall']:.1f} s"
                print(f"  {label} {setup}: {status} [{time.perf_counter() - t:.0f} s]", flush=True)
                if not args.keep:
                    shutil.rmtree(tmp / f"out_{tag}_{setup}", ignore_errors=True)
            if not args.keep and not args.corpus:
                shutil.rmtree(path, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rc = report(runs, sizes)
    changed = [f"{sizes[r['tag']]['label']} {r['setup']}: code {r['code']}" for r in runs if r.get("code")]
    if changed:
        print("runs that ended with a different telechat_ptd source than at the start (" + fingerprint + "): " + "; ".join(changed))
    if source_fingerprint() != fingerprint:
        print(f"WARNING: telechat_ptd's source changed during this run (sha1 {fingerprint} -> {source_fingerprint()}): "
              "rows may not be comparable")
    return rc


if __name__ == "__main__":
    sys.exit(main())
