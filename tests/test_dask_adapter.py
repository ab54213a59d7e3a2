"""The Dask adapter's graph translation on an in-process cluster: what the worker still holds
while the job's last stage runs. The whole job on a two-process cluster is in test_runners."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

PAYLOAD = 200_000  # bytes per element of the large stage
N = 100  # 20 MB in all


class _Held(beam.DoFn):
    """Records the bytes the worker holds in memory while this (the last) stage runs."""

    def __init__(self, path: str):
        self.path = path

    def process(self, x, total):
        from dask.sizeof import sizeof

        worker = distributed.get_worker()
        held = sum(sizeof(worker.data[k]) for k in list(worker.data.keys()))
        with open(self.path, "a") as f:
            f.write(json.dumps({"held": held, "total": total}) + "\n")
        yield x


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, memory_limit=0,
                                  dashboard_address=":0") as c:
        yield c


def test_a_stage_read_by_every_consumer_is_freed_before_the_job_ends(cluster, tmp_path):
    """Side inputs persist what is still to be read; once every reader has run, the large
    stage must not stay on the worker (it did: 1M documents then needed all of it at once)."""
    log = tmp_path / "held.jsonl"
    options = PipelineOptions(["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address={cluster.scheduler_address}"])
    with beam.Pipeline(options=options) as p:
        large = p | beam.Create(range(N)) | "Large" >> beam.Map(lambda i: (i, "x" * PAYLOAD))
        count = large | "CountLarge" >> beam.combiners.Count.Globally()
        small = large | "Shrink" >> beam.Map(lambda kv, n: (kv[0], len(kv[1]), n), beam.pvalue.AsSingleton(count))
        total = small | "Sum" >> beam.Map(lambda t: t[1]) | beam.CombineGlobally(sum)
        _ = small | "Last" >> beam.ParDo(_Held(str(log)), beam.pvalue.AsSingleton(total))
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert rows and all(r["total"] == N * PAYLOAD for r in rows)  # the large stage did run in full
    assert max(r["held"] for r in rows) < N * PAYLOAD / 4


@beam.typehints.with_output_types(tuple[object, int])
class _Split(beam.DoFn):
    def process(self, n):
        if n % 3 == 0:
            yield beam.pvalue.TaggedOutput("fizz", ("fizz", n))
        elif n % 5 == 0:
            yield beam.pvalue.TaggedOutput("buzz", ("buzz", n))
        else:
            yield (n % 2, n)


class _Append(beam.DoFn):
    def __init__(self, path: str, label: str):
        self.path, self.label = path, label

    def process(self, kv):
        key, values = kv
        with open(self.path, "a") as f:
            f.write(json.dumps([self.label, key, sorted(values)]) + "\n")
        yield key


def test_each_tagged_output_reaches_its_own_grouping(cluster, tmp_path):
    """Every output of a multi-output ParDo goes to its own readers, and GroupByKey (without
    its ReifyWindows pass here) groups each."""
    log = tmp_path / "groups.jsonl"
    options = PipelineOptions(["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address={cluster.scheduler_address}",
                               "--dask_npartitions=3"])
    with beam.Pipeline(options=options) as p:
        split = p | beam.Create(range(1, 61)) | beam.ParDo(_Split()).with_outputs("fizz", "buzz", main="rest")
        for label in ("rest", "fizz", "buzz"):
            _ = split[label] | f"Group{label}" >> beam.GroupByKey() | f"Write{label}" >> beam.ParDo(_Append(str(log), label))
    got = sorted(json.loads(line) for line in log.read_text().splitlines())
    assert got == sorted([
        ["buzz", "buzz", [n for n in range(1, 61) if n % 5 == 0 and n % 3]],
        ["fizz", "fizz", [n for n in range(1, 61) if n % 3 == 0]],
        ["rest", 0, [n for n in range(1, 61) if n % 3 and n % 5 and n % 2 == 0]],
        ["rest", 1, [n for n in range(1, 61) if n % 3 and n % 5 and n % 2 == 1]],
    ])


class _Thresholds(beam.DoFn):
    def __init__(self, path: str):
        self.path = path

    def process(self, x):
        import gc

        with open(self.path, "a") as f:
            f.write(json.dumps(gc.get_threshold()) + "\n")
        yield x


@pytest.mark.parametrize("flag, during", [([], [100000, 50, 100]), (["--dask_gc_thresholds=5000,20"], [5000, 20, None])])
def test_workers_collect_less_often_during_the_job_and_get_their_thresholds_back(cluster, tmp_path, flag, during):
    """The worker here runs in this process, so its thresholds are this process's."""
    import gc

    before = gc.get_threshold()
    log = tmp_path / "thresholds.jsonl"
    options = PipelineOptions(["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address={cluster.scheduler_address}", *flag])
    with beam.Pipeline(options=options) as p:
        _ = p | beam.Create(range(10)) | beam.ParDo(_Thresholds(str(log)))
    seen = {tuple(json.loads(line)) for line in log.read_text().splitlines()}
    expected = tuple(before[i] if v is None else v for i, v in enumerate(during))
    assert seen == {expected}
    assert gc.get_threshold() == before


def test_gc_thresholds_none_leaves_the_workers_alone_and_bad_values_are_refused(cluster, tmp_path):
    import gc

    from telechat_ptd.runners.dask import parse_gc_thresholds

    before = gc.get_threshold()
    log = tmp_path / "thresholds.jsonl"
    options = PipelineOptions(["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address={cluster.scheduler_address}",
                               "--dask_gc_thresholds=none"])
    with beam.Pipeline(options=options) as p:
        _ = p | beam.Create(range(3)) | beam.ParDo(_Thresholds(str(log)))
    assert {tuple(json.loads(line)) for line in log.read_text().splitlines()} == {before}
    for bad in ("fast", "1,2,3,4", "-1", "100000,x"):
        with pytest.raises(ValueError, match="dask_gc_thresholds"):
            parse_gc_thresholds(bad)


class _Stateful(beam.DoFn):
    count = beam.transforms.userstate.CombiningValueStateSpec("count", sum)

    def process(self, kv, count=beam.DoFn.StateParam(count)):
        yield kv


def test_a_refused_job_gives_the_workers_their_thresholds_back(cluster):
    import gc

    before = gc.get_threshold()
    options = PipelineOptions(["--runner=telechat_ptd.runners.dask.DaskRunner", f"--dask_client_address={cluster.scheduler_address}"])
    with pytest.raises(NotImplementedError, match="stateful"):
        with beam.Pipeline(options=options) as p:
            _ = p | beam.Create([(1, 2)]) | beam.ParDo(_Stateful())
    assert gc.get_threshold() == before
