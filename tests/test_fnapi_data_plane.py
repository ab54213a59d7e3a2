"""The DirectRunner's data-plane loss (Beam 2.77) and runners/fnapi_data_plane.py's fix for it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from telechat_ptd.runners import fnapi_data_plane

ROOT = Path(__file__).resolve().parents[1]


def test_beam_still_clears_writes_made_while_its_flusher_waits():
    """The race itself, in Beam's class. When this fails, Beam has fixed it and the patch can go."""
    from apache_beam.runners.worker.data_plane import TimeBasedBufferingClosableOutputStream

    sent: list[bytes] = []
    waiting, release = threading.Event(), threading.Event()

    def flush_to_a_full_queue(data: bytes) -> None:
        sent.append(data)
        if len(sent) == 1:
            waiting.set()
            release.wait(10)

    stream = TimeBasedBufferingClosableOutputStream(sent.append, flush_to_a_full_queue, time_flush_threshold_ms=5)
    stream.write(b"first;")
    assert waiting.wait(10)
    stream.write(b"second;")  # the runner goes on writing while the flush waits on the queue
    release.set()
    with stream._flush_lock:  # the flush has finished
        pass
    stream.close()
    assert b"".join(sent) == b"first;"


class _Stream:
    """An output stream whose sends block until the worker reads, as a full send queue does."""

    def __init__(self, worker_reading: threading.Event):
        self.reading = worker_reading
        self.buffer = b""
        self.messages: list[bytes | str] = []
        self.closed = threading.Event()

    def write(self, data: bytes) -> None:
        self.buffer += data

    def flush(self) -> None:
        assert self.reading.wait(10)
        self.messages.append(self.buffer)
        self.buffer = b""

    def close(self) -> None:
        self.flush()
        self.messages.append("is_last")
        self.closed.set()


def test_inputs_are_sent_without_waiting_for_the_worker_one_message_per_chunk():
    reading = threading.Event()
    stream = _Stream(reading)

    class Conn:
        def output_stream(self, instruction_id, transform_id):
            assert (instruction_id, transform_id) == ("bundle_7", "Join/Flatten/Read")
            return stream

    manager = type("BundleManager", (), {})()
    manager._worker_handler = type("Handler", (), {"data_conn": Conn()})()
    chunks = [b"a" * 10, b"b" * 20, b"c" * 5]
    done = threading.Event()
    threading.Thread(target=lambda: (fnapi_data_plane._send_input_to_worker(
        manager, "bundle_7", "Join/Flatten/Read", iter(chunks)), done.set()), daemon=True).start()
    # Beam's version blocks here until the worker reads, and the worker reads only once the
    # bundle starts, which happens after this returns.
    assert done.wait(10)
    assert stream.messages == []
    reading.set()
    assert stream.closed.wait(10)
    assert stream.messages == [*chunks, b"", "is_last"]


def test_a_chunk_over_grpcs_limit_fails_the_job_instead_of_hanging_it():
    from apache_beam.runners.worker.data_plane import _FLUSH_MAX_SIZE

    class Huge(bytes):
        def __len__(self):
            return _FLUSH_MAX_SIZE + 1

    manager = type("BundleManager", (), {})()
    with pytest.raises(ValueError, match="Group/Read.*exceeds gRPC's message limit"):
        fnapi_data_plane._send_input_to_worker(manager, "bundle_1", "Group/Read", [Huge()])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["multi_processing", "multi_threading"])
def test_plain_beam_loses_elements_without_the_fix_and_none_with_it(mode):
    """bench/beam_flatten_loss.py with the data plane's queues shrunk to 64 KB and a flush every
    millisecond: the loss shows on 32 MB instead of 1.2 GB."""
    def run(*extra):
        return subprocess.run(
            [sys.executable, str(ROOT / "bench" / "beam_flatten_loss.py"), "--mode", mode, "--workers", "2",
             "--per-seed", "2000", "--size", "500", "--queue-bytes", "65536", *extra],
            capture_output=True, text=True, timeout=300)

    broken, fixed = run(), run("--fixed")
    assert broken.returncode == 1, broken.stdout + broken.stderr[-2000:]
    assert "lost" in broken.stdout
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr[-2000:]
    assert "64,000 of 64,000 elements came out" in fixed.stdout


def test_a_direct_runner_job_installs_the_fix(monkeypatch, tmp_path):
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    from telechat_ptd.pipeline.cli import run_job

    original = fn_runner.BundleManager.__dict__["_send_input_to_worker"]
    monkeypatch.setattr(fnapi_data_plane, "_installed", False)
    monkeypatch.setattr(fn_runner.BundleManager, "_send_input_to_worker", original)
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1000)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "一篇足够长的中文文档。' + "内容丰富，句子完整，适合训练。" * 20 + '"}\n', encoding="utf-8")
    stats = run_job("dedup", [str(src)], str(tmp_path / "out"), None, [], [])
    assert stats["input"] == 1
    assert fn_runner.BundleManager._send_input_to_worker is fnapi_data_plane._send_input_to_worker
    assert worker_handlers.DATA_BUFFER_TIME_LIMIT_MS == 0
