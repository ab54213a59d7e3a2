"""Stops Beam 2.77's DirectRunner (the FnApiRunner) from dropping elements on its data plane.

The runner's side of the data plane, and the SDK workers of `multi_threading` mode, buffer what
they send in `data_plane.TimeBasedBufferingClosableOutputStream`
(`worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 1000`). Once a second its flusher thread takes the
buffer (`get()`), puts it on the send queue, and then clears the buffer. The put blocks while the
send queue is full (100 MB), and it is full whenever a stage's input is larger than that: the
runner sends a bundle's whole input before it starts the bundle, so the worker reads none of it
yet. What the runner writes into the buffer while the flusher waits is cleared unsent, and the
job still succeeds. `bench/beam_flatten_loss.py` loses 1-4% of a 1.2 GB CoGroupByKey that way;
ptd's 250k-document near dedup lost its documents there.

`install()` turns the time-based buffering off in this process (streams then send when told to)
and sends each bundle's input from a thread of its own, one data message per buffered chunk, so
the runner can start the bundle while the worker takes the input: no send waits on a worker that
has not started, and no stage input has to fit in one 2 GB gRPC message. SDK workers in
`multi_processing` mode, and on Dataflow and Flink, do not buffer by time unless asked to
(`--experiments=data_buffer_time_limit_ms=N`, which brings the same race back).
"""

from __future__ import annotations

import logging
import threading

_LOGGER = logging.getLogger(__name__)
_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch the FnApiRunner in this process; idempotent."""
    global _installed
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    with _lock:
        if _installed:
            return
        worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 0
        fn_runner.BundleManager._send_input_to_worker = _send_input_to_worker
        _installed = True


def _send_input_to_worker(self, process_bundle_id: str, read_transform_id: str, byte_streams) -> None:
    """BundleManager._send_input_to_worker, sending from a thread so that it never waits for the
    worker: the bundle it feeds is started only after this returns."""
    from apache_beam.runners.worker.data_plane import _FLUSH_MAX_SIZE

    chunks = list(byte_streams or [])
    for chunk in chunks:
        if len(chunk) > _FLUSH_MAX_SIZE:  # fail the job here rather than hang it in the thread
            raise ValueError(f"{read_transform_id}: one buffered input chunk of {len(chunk):,} bytes exceeds "
                             f"gRPC's message limit ({_FLUSH_MAX_SIZE:,}); run on more workers or another runner")
    out = self._worker_handler.data_conn.output_stream(process_bundle_id, read_transform_id)

    def send() -> None:
        try:
            for chunk in chunks:
                out.write(chunk)
                out.flush()
            out.close()
        except Exception:  # the data channel is gone; the bundle fails on the worker's side
            _LOGGER.exception("sending %s's input for %s failed", read_transform_id, process_bundle_id)

    threading.Thread(target=send, name=f"ptd-send-{process_bundle_id}", daemon=True).start()
