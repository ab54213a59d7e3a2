"""Beam's DaskRunner, made able to run the cleaning job's graph.

``--runner=telechat_ptd.runners.dask.DaskRunner --dask_client_address=tcp://HOST:8786``

Beam 2.77's ``apache_beam.runners.dask.dask_runner.DaskRunner`` translates Create, ParDo,
GroupByKey and Flatten to dask bags, but four things break a graph like ours, and this
subclass replaces the graph translation (the ops themselves are Beam's):

* **Tagged outputs.** It keeps one bag per transform, so every output of a multi-output
  ParDo (kept / rejected / error / count) reaches every consumer, tags stripped. Here bags are
  kept per PCollection: a ParDo's bag holds ``(tag, value)`` pairs split into one bag per tag.
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

Not supported (the job does not use them), refused at translation: ``beam.io.Read`` sources,
stateful DoFns and timers, splittable DoFns. Memory: dask bags keep intermediate results in
worker memory (spilled to disk by dask's worker memory manager) rather than in a shuffle
service, and ``(tag, value)`` lists per partition; size ``--dask_npartitions`` so a partition
stays well below a worker's memory.
"""

from __future__ import annotations

import collections
import logging

import dask.bag as db
from apache_beam import ParDo, TaggedOutput, pvalue
from apache_beam.pipeline import PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask import overrides, transform_evaluator
from apache_beam.transforms.core import DoFn
from apache_beam.transforms.sideinputs import SideInputMap

log = logging.getLogger(__name__)

PARTITIONS_PER_THREAD = 4


def _bundle(items, fn, window_fn, invoker_kwargs):
    """One partition is one bundle: setup, every element, finish, teardown (as Beam's).

    The receivers are made here, per task: shared ones would mix the outputs of tasks that
    run in threads of one worker."""
    receivers = transform_evaluator.OneReceiver()
    handler = _OutputHandler(
        window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
        per_element_output_counter=None, output_batch_converter=None,
        process_yields_batches=False, process_batch_yields_elements=False,
    )
    invoker = DoFnInvoker.create_invoker(DoFnSignature(fn), handler, **invoker_kwargs)
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(item)
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    return [(o.tag, o.value.value) if isinstance(o, TaggedOutput) else (None, o.value) for o in receivers.values]


def _key(item):
    return item[0]


def _values(item):
    key, values = item
    return key, [transform_evaluator.defenestrate(v[1]) for v in values]


def _tagged(bag: db.Bag, tag):
    return bag.filter(lambda pair, tag=tag: pair[0] == tag).map(lambda pair: pair[1])


def _untag(bag: db.Bag):
    return bag.map(lambda pair: pair[1])


class _ParDo(transform_evaluator.ParDo):
    """Beam's ParDo op with tags kept: the bag holds ``(tag, value)`` pairs."""

    def apply(self, input_bag, side_inputs=None):
        transform = self.transform
        args, kwargs = transform.raw_side_inputs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        invoker_kwargs = dict(
            context=DoFnContext(transform.label, state=None), side_inputs=side_inputs,
            input_args=list(args), input_kwargs=kwargs, user_state_context=None,
            bundle_finalizer_param=DoFn.BundleFinalizerParam(),
        )
        return input_bag.map(transform_evaluator.get_windowed_value, window_fn).map_partitions(
            _bundle, transform.fn, window_fn, invoker_kwargs
        )


class _Visitor(PipelineVisitor):
    def __init__(self, client, bag_kwargs: dict, partitions: int):
        self.client = client
        self.bag_kwargs = bag_kwargs
        self.partitions = partitions
        self.bags: dict[pvalue.PCollection, db.Bag] = {}
        self.waiting: collections.Counter = collections.Counter()  # consumers not yet visited
        self.consumers: collections.Counter = collections.Counter()
        self.produced: list[pvalue.PCollection] = []
        self.held: list = []  # persisted bags: results stay on the cluster until the job ends

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
        side_inputs = [self._side_input(si) for si in node.side_inputs]
        for p in list(node.inputs) + [si.pvalue for si in node.side_inputs]:
            self.waiting[p] -= 1
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
        elif cls is ParDo:
            out = _ParDo(node, bag_kwargs=self.bag_kwargs).apply(inputs[0], side_inputs or None)
            tagged = True
        else:
            op = transform_evaluator.TRANSLATIONS.get(cls, transform_evaluator.NoOp)(node, bag_kwargs=self.bag_kwargs)
            out = op.apply(inputs[0] if inputs else None, side_inputs or None)
            tagged = False
        outputs = {tag: pc for tag, pc in node.outputs.items() if isinstance(pc, pvalue.PCollection)}
        self.produced.extend(outputs.values())
        for tag, pc in outputs.items():
            if not tagged:
                self.bags[pc] = out
            elif len(outputs) == 1:
                self.bags[pc] = _untag(out)
            else:
                self.bags[pc] = _tagged(out, pc.tag)

    def _side_input(self, si) -> SideInputMap:
        """Computes the side input now, once.

        Every bag still to be read and every sink so far is persisted with it: later bags
        then start from those results, so nothing upstream runs twice, and graph
        optimization (fusing map chains into one task) cannot fuse a result away."""
        frontier = [p for p in self.bags if self.waiting[p] > 0 or self.consumers[p] == 0]
        persisted = self.client.persist([self.bags[p] for p in frontier])
        for p, bag in zip(frontier, persisted):
            self.bags[p] = bag
        self.held.extend(persisted)
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
        client = ddist.Client(**dask_options)
        threads = sum(client.nthreads().values()) or 1
        partitions = bag_kwargs.get("npartitions") or PARTITIONS_PER_THREAD * threads
        pipeline.replace_all(overrides.dask_overrides())
        visitor = _Visitor(client, bag_kwargs, partitions)
        visitor.count_consumers(pipeline)
        pipeline.visit(visitor)
        futures = client.compute(visitor.sinks())
        return _Result(client, futures, visitor.held)


class _Result(beam_dask.DaskRunnerResult):
    """Holds the persisted bags until the job ends, then closes the client (Beam's leaves
    it connected: it then logs reconnection errors when the cluster goes away)."""

    def __init__(self, client, futures, held):
        super().__init__(client, futures)
        self.held = held

    def wait_until_finish(self, duration=None):
        try:
            return super().wait_until_finish(duration)
        finally:
            if self.state in ("DONE", "FAILED"):
                self.held = []
                self.client.close()
