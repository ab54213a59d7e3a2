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

It also cuts a GroupByKey's output into chunks of whole elements (`GROUPED_CHUNK_BYTES`). Beam
encodes each worker's share of a grouping into one bytes object, which the data plane then copies
three more times on its way out (into the stream, out of it, into the protobuf message); without
that transient the launching process's peak at 250k documents fell from 6.0 to 4.6 GiB, and no
share has to fit in one gRPC message (a share of unpacked exact-dedup input at 1M documents is
about 2 GB, the limit). The worker decodes each data message on its own, so a chunk must end on
an element boundary, which only the encoder knows. The grouping table is also emptied as it is
encoded, instead of after.
"""

from __future__ import annotations

import logging
import threading

_LOGGER = logging.getLogger(__name__)
_lock = threading.Lock()
_installed = False
GROUPED_CHUNK_BYTES = 64 << 20


def install() -> None:
    """Patch the FnApiRunner in this process; idempotent."""
    global _installed
    from apache_beam.runners.portability.fn_api_runner import execution, fn_runner, worker_handlers

    with _lock:
        if _installed:
            return
        worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 0
        fn_runner.BundleManager._send_input_to_worker = _send_input_to_worker
        execution.GroupingBuffer.partition = _partition
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


def _partition(self, n: int) -> list[list[bytes]]:
    """GroupingBuffer.partition (Beam 2.77), giving each of the ``n`` workers its groups as
    chunks of about GROUPED_CHUNK_BYTES, and dropping each group from the table once encoded.
    Groups go to workers round-robin in table order, as in Beam's."""
    from apache_beam.runners.portability.fn_api_runner import execution as ex

    if self._grouped_output:
        return self._grouped_output
    if self._windowing.is_default():
        globally_window = ex.GlobalWindows.windowed_value(
            None,
            timestamp=ex.GlobalWindow().max_timestamp(),
            pane_info=ex.windowed_value.PaneInfo(
                is_first=True, is_last=True, timing=ex.windowed_value.PaneInfoTiming.ON_TIME, index=0, nonspeculative_index=0
            ),
        ).with_value

        def windowed_key_values(key, values):
            return [globally_window((key, values))]
    else:
        windowed_key_values = ex.trigger.create_trigger_driver(self._windowing, True).process_entire_key
    coder_impl = self._post_grouped_coder.get_impl()
    key_coder_impl = self._key_coder.get_impl()
    chunks: list[list[bytes]] = [[] for _ in range(n)]
    streams = [ex.create_OutputStream() for _ in range(n)]
    for idx, encoded_key in enumerate(list(self._table)):
        values = self._table.pop(encoded_key)
        stream = streams[idx % n]
        for wkvs in windowed_key_values(key_coder_impl.decode(encoded_key), values):
            coder_impl.encode_to_stream(wkvs, stream, True)
        if stream.size() >= GROUPED_CHUNK_BYTES:
            chunks[idx % n].append(stream.get())
            streams[idx % n] = ex.create_OutputStream()
    for ix, stream in enumerate(streams):
        if stream.size() or not chunks[ix]:
            chunks[ix].append(stream.get())
    self._grouped_output = chunks
    return chunks
