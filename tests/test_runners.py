"""The whole clean job, every stage on, on distributed setups: Beam's portable runner against a
local job service with an external worker pool (how Flink runs Python workers), and the Dask
runner on a dask.distributed cluster with two worker processes; both must give the
DirectRunner's bytes, which it writes replaying every bundle (see ``direct``). Workers start in
another directory than the launch, which holds the inputs, models and lists under relative
paths, as a user's project does; an audit hook in the workers records every file they open."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from tiny_models import bert_classifier, fasttext_model, gpt2_model, kenlm_model

from telechat_ptd.pipeline.cli import run_job
from telechat_ptd.scorers.degrade import degrade
from telechat_ptd.scorers.reference import normalized, peoples_daily

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
# A slice of the sample with every input kind: WARC, a broken jsonl, a truncated gzip,
# parquet, a book, news.
INPUTS = ["web/crawl-002.warc.gz", "web/crawl-broken.jsonl", "web/crawl-truncated.jsonl.gz", "web/reviews.parquet",
          "book/book-0.txt"]
OUTPUTS = ["data", "rejected", "errors", "minhash", "stats.json"]

CONFIG = """\
scorers:
  kenlm: {enabled: true, model: models/kenlm, max_perplexity: 450}
  fasttext: {enabled: true, model: models/quality.bin, min_quality: 0.6}
  bert: {enabled: true, model: models/bert, min_quality: null}
  gpt2: {enabled: true, model: models/gpt2, max_perplexity: 450}
  toxicity: {enabled: true, model: models/toxicity.bin, max_toxicity: 0.48}
safety:
  blocklist: {enabled: true, paths: [lists/blocklist]}
  lexicon: {enabled: true, paths: [default, ads=lists/ads.txt]}
dedup:
  near: {save_index: true}
"""

AUDIT = """\
import os, sys
_log = os.environ.get("PTD_AUDIT_LOG")
if _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    def _hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            os.write(_fd, (os.path.abspath(path) + "\\n").encode("utf-8", "replace"))
    sys.addaudithook(_hook)
"""


@pytest.fixture(scope="module")
def launch(tmp_path_factory, sample_dir, torch_one_thread):
    """A launch directory: raw/ inputs, models/, lists/ and job.yaml naming them relatively."""
    root = tmp_path_factory.mktemp("launch")
    for rel in INPUTS:
        (root / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_dir / rel, root / "raw" / rel)
    docs = list(normalized(peoples_daily()[:700]))
    models = root / "models"
    for name in ("kenlm", "bert", "gpt2", "fasttext", "toxicity"):
        (models / name).mkdir(parents=True)
    kenlm_model(docs[:400], models / "kenlm")
    shutil.move(fasttext_model(docs[:600], models / "fasttext"), models / "quality.bin")
    gpt2_model(docs[:150], models / "gpt2")
    bert_classifier(docs, models / "bert")
    from telechat_ptd.scorers.fasttext_quality import train_fasttext
    from telechat_ptd.scorers.toxicity import TOXICITY

    insults = [text for _, text in degrade(docs[400:500], seed=2)]
    train_fasttext(insults, docs[500:600], models / "toxicity.bin", labels=TOXICITY, epoch=5, dim=16, bucket=20_000,
                   log=lambda _: None)
    shutil.copytree(REPO / "configs" / "blocklist", root / "lists" / "blocklist")
    (root / "lists" / "ads.txt").write_text("加微信\n代开发票\n", encoding="utf-8")
    (root / "job.yaml").write_text(CONFIG, encoding="utf-8")
    return root


def _run(root: Path, out: str, beam_args: list[str]) -> dict:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return run_job("clean", ["raw"], out, "job.yaml", [], beam_args)
    finally:
        os.chdir(cwd)


def _files(out: Path) -> dict[str, bytes]:
    """Every output file's bytes; stats.json without ``scorer_ms``, the only timing in it."""
    found = {}
    for name in OUTPUTS:
        path = out / name
        for f in sorted([path] if path.is_file() else path.rglob("*")):
            if f.is_file():
                found[str(f.relative_to(out))] = f.read_bytes()
    stats = json.loads(found["stats.json"])
    assert stats.pop("scorer_ms")
    found["stats.json"] = json.dumps(stats, sort_keys=True).encode()
    return found


@pytest.fixture(scope="module")
def direct(launch):
    """The DirectRunner's output, with every bundle replayed on the same DoFn instances before
    its real run (as a retried bundle on Dataflow or Flink): a DoFn keeping state between
    bundles would change it, and the other runners, which replay nothing, would then differ
    from it; a writer that is not idempotent fails here."""
    stats = _run(launch, "out-direct", ["--runner=DirectRunner", "--direct_runner_bundle_repeat=1"])
    assert stats["balanced"] and stats["kept"] > 100
    # Every stage acted, so identical outputs are not identical by doing nothing.
    assert {"filter", "dedup", "score", "safety"} <= set(stats["rejected_by_stage"]), stats["rejected_by_stage"]
    reasons = stats["rejected_by_reason"]
    assert {"kenlm_perplexity_high", "fasttext_quality_low", "gpt2_perplexity_high", "toxic", "url_blocklist_gambling"} <= set(reasons), reasons
    assert stats["pii"]
    return launch / "out-direct"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on {port}")


def _worker_env(audit_dir: Path, log: Path) -> dict:
    """The environment of a worker host: the project's interpreter first on PATH (the worker
    pool starts workers as a bare `python`), and the audit hook."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(audit_dir)
    env["PTD_AUDIT_LOG"] = str(log)
    return env


def _stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def _assert_workers_read_only_what_they_were_given(log: Path, launch: Path) -> None:
    """Every file a worker opened is a declared input, model, list or output under the launch
    directory, or part of the installed software; and they did open the models (so the audit
    saw the workers at all)."""
    # Paths that do not exist are import-system probes (e.g. the editable install's path hook),
    # not reads; a job that needed a missing file would have failed.
    opened = {Path(p).resolve() for p in log.read_text().splitlines() if p and os.path.exists(p)}
    installed = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}] + [REPO / "telechat_ptd"]
    system = [Path(p) for p in ("/dev", "/proc", "/sys", "/etc", "/usr", "/lib", "/lib64", "/opt", "/root/.cache")]
    scratch = Path(tempfile.gettempdir()).resolve()
    basetemp = launch.resolve().parent.parent
    strays = []
    for path in opened:
        if path.is_relative_to(launch.resolve()) or any(path.is_relative_to(p) for p in installed + system):
            continue
        if path.is_relative_to(scratch) and not path.is_relative_to(basetemp):
            continue  # the workers' own scratch files (model caches, spill files)
        strays.append(path)
    assert not strays, f"workers opened files the job was not given: {sorted(strays)[:10]}"
    models = launch.resolve() / "models"
    assert {p.parent.name for p in opened if p.is_relative_to(models)} >= {"kenlm", "gpt2", "bert"}


def test_portable_runner_with_external_worker_pool(launch, direct, tmp_path):
    out_direct = direct
    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "sitecustomize.py").write_text(AUDIT)
    log = tmp_path / "opened.log"
    elsewhere = tmp_path / "worker-host"
    elsewhere.mkdir()
    job_port, pool_port = _free_port(), _free_port()
    service = subprocess.Popen([sys.executable, "-m", "telechat_ptd.runners.job_service",
                                "--port", str(job_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                             f"--service_port={pool_port}"], cwd=elsewhere, env=_worker_env(audit, log),
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "pool.err").open("wb"))
    try:
        _wait_for(job_port, service)
        _wait_for(pool_port, pool)
        _run(launch, "out-portable", ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
                                      "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}"])
    finally:
        _stop(pool, service)
    assert "No module named" not in (tmp_path / "pool.err").read_text()
    assert _files(launch / "out-portable") == _files(out_direct)
    _assert_workers_read_only_what_they_were_given(log, launch)


def test_dask_runner_on_a_two_process_cluster(launch, direct, tmp_path):
    out_direct = direct
    elsewhere = tmp_path / "worker-host"
    elsewhere.mkdir()
    port = _free_port()
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], cwd=elsewhere, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = None
    try:
        _wait_for(port, scheduler)
        workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}", "--nworkers", "2",
                                    "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"], cwd=elsewhere,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        _run(launch, "out-dask", ["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address=tcp://127.0.0.1:{port}"])
    finally:
        _stop(*[p for p in (workers, scheduler) if p is not None])
    assert _files(launch / "out-dask") == _files(out_direct)


class _Seen(beam.DoFn):
    """What the replay catches: a DoFn that remembers elements across bundles."""

    def setup(self):
        self.seen = set()

    def process(self, x):
        if x not in self.seen:
            self.seen.add(x)
            yield x


def test_bundle_replay_catches_a_dofn_with_state():
    """What makes the replayed reference a check: a DoFn with state fails under it."""
    options = beam.options.pipeline_options.PipelineOptions(["--direct_runner_bundle_repeat=1"])
    with pytest.raises(Exception, match="Failed assert"):
        with beam.Pipeline(options=options) as p:
            assert_that(p | beam.Create([1, 2, 3]) | beam.ParDo(_Seen()), equal_to([1, 2, 3]))
