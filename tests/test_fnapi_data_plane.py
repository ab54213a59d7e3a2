"""The DirectRunner's data-plane loss (Beam 2.77) and runners/fnapi_data_plane.py's fix for it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from telechat_ptd.runners import fnapi_data_plane

# Captured at collection, before any test runs a DirectRunner job (which installs the patch).
from apache_beam.runners.portability.fn_api_runner import execution as _execution  # noqa: E402

BEAM_PARTITION = _execution.GroupingBuffer.__dict__["partition"]

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

    # A race: with the shrunk queues it shows on most runs, not on every one.
    tries = [run() for _ in range(3)]
    assert any(t.returncode == 1 and "lost" in t.stdout for t in tries), tries[-1].stdout + tries[-1].stderr[-2000:]
    fixed = run("--fixed")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr[-2000:]
    assert "64,000 of 64,000 elements came out" in fixed.stdout


def test_a_direct_runner_job_installs_the_fix(monkeypatch, tmp_path):
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    from telechat_ptd.pipeline.cli import run_job

    original = fn_runner.BundleManager.__dict__["_send_input_to_worker"]
    monkeypatch.setattr(fnapi_data_plane, "_installed", False)
    monkeypatch.setattr(fn_runner.BundleManager, "_send_input_to_worker", original)
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1000)
    monkeypatch.setattr(_execution.GroupingBuffer, "partition", BEAM_PARTITION)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "一篇足够长的中文文档。' + "内容丰富，句子完整，适合训练。" * 20 + '"}\n', encoding="utf-8")
    stats = run_job("dedup", [str(src)], str(tmp_path / "out"), None, [], [])
    assert stats["input"] == 1
    assert fn_runner.BundleManager._send_input_to_worker is fnapi_data_plane._send_input_to_worker
    assert worker_handlers.DATA_BUFFER_TIME_LIMIT_MS == 0
    assert _execution.GroupingBuffer.partition is fnapi_data_plane._partition


def test_the_job_service_entry_point_installs_the_fix_before_serving(monkeypatch):
    """Portable-runner users start ptd's job service instead of Beam's; the FnApiRunner that
    runs their jobs in it must already be patched when it serves."""
    from apache_beam.runners.portability import local_job_service_main
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    from telechat_ptd.runners import job_service

    original = fn_runner.BundleManager.__dict__["_send_input_to_worker"]
    monkeypatch.setattr(fnapi_data_plane, "_installed", False)
    monkeypatch.setattr(fn_runner.BundleManager, "_send_input_to_worker", original)
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1000)
    monkeypatch.setattr(_execution.GroupingBuffer, "partition", BEAM_PARTITION)
    served = []

    def fake_run(argv):
        served.append((list(argv), fn_runner.BundleManager._send_input_to_worker, worker_handlers.DATA_BUFFER_TIME_LIMIT_MS,
                       _execution.GroupingBuffer.partition))

    monkeypatch.setattr(local_job_service_main, "run", fake_run)
    assert job_service.main(["--port", "8099"]) == 0
    assert served == [(["--port", "8099"], fnapi_data_plane._send_input_to_worker, 0, fnapi_data_plane._partition)]


def test_the_job_service_refuses_background_mode_which_would_run_beams_unpatched_module(monkeypatch, capsys):
    from apache_beam.runners.portability import local_job_service_main

    from telechat_ptd.runners import job_service

    monkeypatch.setattr(local_job_service_main, "run", lambda argv: pytest.fail("must not serve"))
    assert job_service.main(["--background", "--pid_file", "x.pid"]) == 2
    assert "--background is not supported" in capsys.readouterr().err


def _grouping_buffer(n_keys: int, values_per_key: int):
    from apache_beam import coders
    from apache_beam.runners.portability.fn_api_runner import execution
    from apache_beam.transforms import core
    from apache_beam.transforms.window import GlobalWindows

    kv = coders.TupleCoder([coders.StrUtf8Coder(), coders.BytesCoder()])
    pre = coders.WindowedValueCoder(kv, coders.coders.GlobalWindowCoder())
    post = coders.WindowedValueCoder(
        coders.TupleCoder([coders.StrUtf8Coder(), coders.IterableCoder(coders.BytesCoder())]), coders.coders.GlobalWindowCoder()
    )
    buf = execution.GroupingBuffer(pre, post, core.Windowing(GlobalWindows()))
    out = execution.create_OutputStream()
    for i in range(values_per_key):
        for k in range(n_keys):
            pre.get_impl().encode_to_stream(GlobalWindows.windowed_value((f"文档-{k}", f"{k}:{i}".encode() * 7)), out, True)
    buf.append(out.get())
    return buf, post


def _decode_groups(chunks, post) -> dict:
    from apache_beam.runners.portability.fn_api_runner import execution

    groups = {}
    for chunk in chunks:  # each chunk alone, as the worker decodes each data message
        stream = execution.create_InputStream(chunk)
        while stream.size() > 0:
            key, values = post.get_impl().decode_from_stream(stream, True).value
            assert key not in groups
            groups[key] = list(values)
    return groups


def test_grouped_output_is_cut_into_chunks_of_whole_groups(monkeypatch):
    """Each worker's share of a GroupByKey comes as several chunks, each decodable on its own,
    holding exactly the groups (with values in order) that Beam's own partition gives."""
    assert BEAM_PARTITION is not fnapi_data_plane._partition
    ours, post = _grouping_buffer(300, 5)
    beams, _ = _grouping_buffer(300, 5)
    monkeypatch.setattr(fnapi_data_plane, "GROUPED_CHUNK_BYTES", 2048)
    mine = fnapi_data_plane._partition(ours, 2)
    theirs = BEAM_PARTITION(beams, 2)
    assert all(len(parts) > 3 for parts in mine)
    assert all(len(c) < 2048 + 400 for parts in mine for c in parts)  # a chunk ends after the group that passes 2 KB
    assert [_decode_groups(parts, post) for parts in mine] == [_decode_groups(parts, post) for parts in theirs]
    assert not ours._table
    assert fnapi_data_plane._partition(ours, 2) is mine  # partitioned once, as Beam's


def test_empty_grouping_gives_each_worker_one_empty_chunk():
    from apache_beam.runners.portability.fn_api_runner import execution
    from apache_beam.transforms import core
    from apache_beam.transforms.window import GlobalWindows
    from apache_beam import coders

    kv = coders.WindowedValueCoder(coders.TupleCoder([coders.StrUtf8Coder(), coders.BytesCoder()]))
    buf = execution.GroupingBuffer(kv, kv, core.Windowing(GlobalWindows()))
    assert fnapi_data_plane._partition(buf, 3) == [[b""], [b""], [b""]]


@pytest.mark.slow
def test_a_multi_worker_group_by_key_with_tiny_chunks_loses_and_splits_nothing(monkeypatch):
    """The whole path: chunked grouped output, sent one message per chunk to two worker
    processes, decoded there chunk by chunk."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    fnapi_data_plane.install()
    monkeypatch.setattr(fnapi_data_plane, "GROUPED_CHUNK_BYTES", 512)
    opts = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    expected = [(f"键{k}", sum(range(k, 4000, 97))) for k in range(97)]
    with beam.Pipeline(options=opts) as p:
        sums = (
            p
            | beam.Create(list(range(4000)))
            | beam.Map(lambda i: (f"键{i % 97}", i))
            | beam.GroupByKey()
            | beam.MapTuple(lambda k, vs: (k, sum(vs)))
        )
        assert_that(sums, equal_to(expected))
