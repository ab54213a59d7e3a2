"""Beam's DaskRunner, made able to run the cleaning job's graph.

``--runner=telechat_ptd.runners.dask.DaskRunner --dask_client_address=tcp://HOST:8786``

Beam 2.77's ``apache_beam.runners.dask.dask_runner.DaskRunner`` translates Create, ParDo,
GroupByKey and Flatten to dask bags, but four things break a graph like ours, and this
subclass replaces the graph translation (the ops themselves are Beam's):

* **Tagged outputs.** It keeps one bag per transform, so every output of a multi-output
  ParDo (kept / rejected / error / count) reaches every consumer, tags stripped. Here bags are
  kept per PCollection: a multi-output ParDo's partition holds its values by tag, and each
  tag's bag picks its own.
* **Only the last sink ran.** It computes the bag of the last transform visited; the other
  sinks (rejected/, errors/, stats.json) never ran. Here every leaf bag is computed.
* **Side inputs recomputed per task.** It hands each task a lazy bag that the task computes
  again, upstream included. Here a side input is computed once on the cluster, before its
  consumer, with every bag that still has consumers persisted at that point (so nothing
  upstream runs twice), and reaches the tasks as a list.
* **Partitions.** Reshuffle was a no-op, so a job over a handful of files ran in one
  partition, and every Flatten added up its inputs' partitions (thousands of tiny tasks after
  the accounting's Flatten of every branch). Here Reshuffle, GroupByKey and Flatten all give
  ``--dask_npartitions`` partitions (default: 4 per worker thread).

Two more are about cost. A persisted bag is let go as soon as every reader has been
translated, so the cluster frees it once they have run (holding them to the end kept every
stage's documents in worker memory). And in the global window, which is all this runner
supports, GroupByKey's ReifyWindows pass is skipped and elements are wrapped inside the
bundle: with the tag split above, that cut a 20k-document job on one worker from 251 s to
157 s with identical output. And while a job runs, its workers collect cyclic garbage less
often (``--dask_gc_thresholds``, restored when the job ends): a worker holding a stage's
documents walked all of them at every full collection, 13% of its CPU at 50k documents.

Not supported (the job does not use them), refused at translation: ``beam.io.Read`` sources,
stateful DoFns and timers, splittable DoFns. Memory: dask bags keep intermediate results in
worker memory (spilled to disk by dask's worker memory manager when the workers have a
``memory_limit``) rather than in a shuffle service; size ``--dask_npartitions`` so a
partition stays well below a worker's memory.
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import logging

import dask.bag as db
from apache_beam import GroupByKey, ParDo, TaggedOutput, pvalue
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask import overrides, transform_evaluator
from apache_beam.transforms.core import DoFn
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindow, TimestampedValue
from apache_beam.utils.windowed_value import WindowedValue
from distributed.diagnostics.plugin import WorkerPlugin

log = logging.getLogger(__name__)

PARTITIONS_PER_THREAD = 4
_GLOBAL = (GlobalWindow(),)
_WRAPPED = (WindowedValue, TimestampedValue, TaggedOutput)


def _bundle(items, fn, window_fn, invoker_kwargs, split: bool):
    """One partition is one bundle: setup, every element, finish, teardown (as Beam's).

    The receivers are made here, per task: shared ones would mix the outputs of tasks that
    run in threads of one worker. Bags hold bare values in the global window, wrapped here
    without a detour through a per-element map. A multi-output ParDo's partition is one dict
    of values by tag (``[{tag: [...]}]``), which each tag's bag picks from: one pass per
    partition instead of every tag's reader filtering every element."""
    receivers = transform_evaluator.OneReceiver()
    handler = _OutputHandler(
        window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
        per_element_output_counter=None, output_batch_converter=None,
        process_yields_batches=False, process_batch_yields_elements=False,
    )
    invoker = DoFnInvoker.create_invoker(DoFnSignature(fn), handler, **invoker_kwargs)
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    process = invoker.invoke_process
    for item in items:
        if isinstance(item, _WRAPPED):
            process(transform_evaluator.get_windowed_value(item, window_fn))
        else:
            process(WindowedValue(item, 0, _GLOBAL))
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    if not split:
        return [o.value.value if isinstance(o, TaggedOutput) else o.value for o in receivers.values]
    by_tag = collections.defaultdict(list)
    for o in receivers.values:
        if isinstance(o, TaggedOutput):
            by_tag[o.tag].append(o.value.value)
        else:
            by_tag[None].append(o.value)
    return [dict(by_tag)]


def _pick(partition, tag):
    return partition[0].get(tag, []) if partition else []


def _key(item):
    return item[0]


def _values(item):
    key, values = item
    return key, [transform_evaluator.defenestrate(v[1]) for v in values]


class GcOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--dask_gc_thresholds", default="100000,50,100",
            help="gc.set_threshold() on every Dask worker while the job runs, restored after it "
                 "(default 100000,50,100; Python's own is 700,10,10); 'none' leaves the workers "
                 "as they are. A worker holds whole stages of documents, and each full "
                 "collection walks them all: at 50k documents the defaults cost 13%% of the "
                 "workers' CPU, these 2%%, with identical output.")


def parse_gc_thresholds(text: str) -> tuple[int, ...] | None:
    if text.strip().lower() in ("", "none"):
        return None
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not 1 <= len(values) <= 3 or min(values) < 0:
        raise ValueError(f"--dask_gc_thresholds={text!r}: expected up to three non-negative integers "
                         "like 100000,50,100, or none")
    return values


class GcThresholds(WorkerPlugin):
    """Sets the workers' collection thresholds for one job and puts theirs back after it."""

    name = "telechat-ptd-gc-thresholds"

    def __init__(self, thresholds: tuple[int, ...]):
        self.thresholds = thresholds
        self.previous: tuple[int, ...] | None = None

    def setup(self, worker) -> None:
        self.previous = gc.get_threshold()
        gc.set_threshold(*self.thresholds)

    def teardown(self, worker) -> None:
        if self.previous is not None:
            gc.set_threshold(*self.previous)


class _ParDo(transform_evaluator.ParDo):
    """Beam's ParDo op with tags kept when ``split`` (see ``_bundle``)."""

    def apply(self, input_bag, side_inputs=None, split: bool = False):
        transform = self.transform
        args, kwargs = transform.raw_side_inputs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        invoker_kwargs = dict(
            context=DoFnContext(transform.label, state=None), side_inputs=side_inputs,
            input_args=list(args), input_kwargs=kwargs, user_state_context=None,
            bundle_finalizer_param=DoFn.BundleFinalizerParam(),
        )
        return input_bag.map_partitions(_bundle, transform.fn, window_fn, invoker_kwargs, split)


class _Visitor(PipelineVisitor):
    def __init__(self, client, bag_kwargs: dict, partitions: int):
        self.client = client
        self.bag_kwargs = bag_kwargs
        self.partitions = partitions
        self.bags: dict[pvalue.PCollection, db.Bag] = {}
        self.waiting: collections.Counter = collections.Counter()  # consumers not yet visited
        self.consumers: collections.Counter = collections.Counter()
        self.produced: list[pvalue.PCollection] = []

    def count_consumers(self, pipeline) -> None:
        counter = self.waiting

        class Count(PipelineVisitor):
            def visit_transform(self, node):
                for p in node.inputs:
                    counter[p] += 1
                for si in node.side_inputs:
                    counter[si.pvalue] += 1

        pipeline.visit(Count())
        self.consumers.update(counter)

    def visit_transform(self, node) -> None:
        transform = node.transform
        cls = type(transform)
        if cls is overrides._Read:
            raise NotImplementedError(f"{node.full_label}: beam.io.Read sources are not supported on the Dask runner")
        if isinstance(transform, ParDo):
            signature = DoFnSignature(transform.fn)
            if signature.is_stateful_dofn() or signature.is_splittable_dofn():
                raise NotImplementedError(f"{node.full_label}: stateful and splittable DoFns are not supported on the Dask runner")
        inputs = [None if isinstance(p, pvalue.PBegin) else self.bags[p] for p in node.inputs]
        outputs = [pc for pc in node.outputs.values() if isinstance(pc, pvalue.PCollection)]
        side_inputs = [self._side_input(si) for si in node.side_inputs]
        for p in list(node.inputs) + [si.pvalue for si in node.side_inputs]:
            self.waiting[p] -= 1
            if self.waiting[p] == 0 and p in self.bags:
                # Every reader now holds it (as a lazy graph over its futures): dropping our
                # handle lets the cluster free a persisted result once its readers have run,
                # instead of keeping every document to the end of the job.
                del self.bags[p]
        if cls is overrides._Reshuffle:
            out = inputs[0].repartition(npartitions=self.partitions)
            tagged = False
        elif cls is overrides._GroupByKeyOnly:
            out = inputs[0].groupby(_key, npartitions=self.partitions).map(_values)
            tagged = False
        elif cls is overrides._Flatten:
            out = db.concat(inputs)
            if out.npartitions > self.partitions:
                out = out.repartition(npartitions=self.partitions)
            tagged = False
        elif cls is ParDo and isinstance(transform.fn, GroupByKey.ReifyWindows) and node.inputs[0].windowing.is_default():
            # Bags hold bare values in the global window: nothing to reify, and the grouping
            # then skips a pass over every shuffled element.
            out = inputs[0]
            tagged = False
        elif cls is ParDo:
            tagged = len(outputs) > 1
            out = _ParDo(node, bag_kwargs=self.bag_kwargs).apply(inputs[0], side_inputs or None, tagged)
        else:
            op = transform_evaluator.TRANSLATIONS.get(cls, transform_evaluator.NoOp)(node, bag_kwargs=self.bag_kwargs)
            out = op.apply(inputs[0] if inputs else None, side_inputs or None)
            tagged = False
        self.produced.extend(outputs)
        for pc in outputs:
            self.bags[pc] = out.map_partitions(_pick, pc.tag) if tagged else out

    def _side_input(self, si) -> SideInputMap:
        """Computes the side input now, once.

        Every bag still to be read and every sink so far is persisted with it: later bags
        then start from those results, so nothing upstream runs twice, and graph
        optimization (fusing map chains into one task) cannot fuse a result away."""
        frontier = [p for p in self.bags if self.waiting[p] > 0 or self.consumers[p] == 0]
        persisted = self.client.persist([self.bags[p] for p in frontier])
        for p, bag in zip(frontier, persisted):
            self.bags[p] = bag
        values = self.bags[si.pvalue].compute()
        iterator = transform_evaluator.DaskBagWindowedIterator(values, si._window_mapping_fn)
        return SideInputMap(type(si), si._view_options(), iterator)

    def sinks(self) -> list[db.Bag]:
        """The PCollections nobody reads: the writers' last outputs, computed at the end."""
        return [self.bags[p] for p in self.produced if self.consumers[p] == 0]


class DaskRunner(beam_dask.DaskRunner):
    """Beam's DaskRunner with tagged outputs, every sink and side inputs computed once."""

    def run_pipeline(self, pipeline, options):
        import dask.distributed as ddist

        dask_options = options.view_as(beam_dask.DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = beam_dask.DaskOptions._extract_bag_kwargs(dask_options)
        thresholds = parse_gc_thresholds(options.view_as(GcOptions).dask_gc_thresholds)
        client = ddist.Client(**dask_options)
        if thresholds is not None:
            client.register_plugin(GcThresholds(thresholds), name=GcThresholds.name)
        threads = sum(client.nthreads().values()) or 1
        partitions = bag_kwargs.get("npartitions") or PARTITIONS_PER_THREAD * threads
        pipeline.replace_all(overrides.dask_overrides())
        visitor = _Visitor(client, bag_kwargs, partitions)
        visitor.count_consumers(pipeline)
        try:
            pipeline.visit(visitor)
            futures = client.compute(visitor.sinks())
        except BaseException:  # a refused transform or a failed side input: no job to wait for
            _Result(client, [], gc_plugin=thresholds is not None).release()
            raise
        return _Result(client, futures, gc_plugin=thresholds is not None)


@dataclasses.dataclass
class _Result(beam_dask.DaskRunnerResult):
    """Gives the workers their collection thresholds back and closes the client when the job
    ends (Beam's leaves it connected: it then logs reconnection errors when the cluster goes
    away)."""

    gc_plugin: bool = False

    def wait_until_finish(self, duration=None):
        try:
            return super().wait_until_finish(duration)
        finally:
            if self.state in ("DONE", "FAILED"):
                self.release()

    def release(self) -> None:
        if self.gc_plugin:
            self.client.unregister_worker_plugin(GcThresholds.name)
        self.client.close()
