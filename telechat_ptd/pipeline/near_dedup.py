"""Near-duplicate removal in Beam: MinHash -> LSH buckets -> connected components -> one
document kept per cluster.

Only ids, signatures and small rank keys travel through the bucket, component and cluster
shuffles (band keys carry ids alone; signatures follow only documents that share a bucket);
the documents themselves are shuffled once, packed (pipeline/packed.py), to be joined with
the decisions. Each
document is a node keyed by ``id`` plus a digest of its text, so documents that share an id
(a data problem, not ours to lose) never merge into one node.

Memory per worker: one LSH bucket (members' ids and signatures, ~0.5 KB each at 128
permutations), one node's neighbourhood in a component round, and one cluster's rank keys at a
time (values are iterated twice, never held). None of it grows with the corpus, only with the
largest cluster.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.pvalue import TaggedOutput

from telechat_ptd.dedup.lsh import band_keys, band_params
from telechat_ptd.dedup.minhash import MinHasher
from telechat_ptd.dedup.near import bucket_edges, cluster_decisions, node_key, rank_key, signature
from telechat_ptd.pipeline.components import ConnectedComponents
from telechat_ptd.pipeline.config import NearDedupConfig
from telechat_ptd.pipeline.packed import pack, unpack
from telechat_ptd.pipeline.stages import ReasonCounters, rejected_record

class _Sign(beam.DoFn):
    """Document -> (node, (signature bytes, rank key)); documents with no shingle are not
    near-deduplicated (an empty signature would match every other empty one)."""

    def __init__(self, cfg: NearDedupConfig):
        self.cfg = cfg

    def setup(self):
        c = self.cfg
        self.hasher = MinHasher(c.num_perm, c.seed, c.scheme, c.hash)

    def process(self, doc: dict):
        sig = signature(doc, self.hasher, self.cfg)
        if sig is None:
            return
        node = node_key(doc)
        yield node, (sig.tobytes(), rank_key(node, doc.get("score"), len(doc["text"])))


def _bands(item, bands: int, rows: int):
    node, (sig, _) = item
    for key in band_keys(np.frombuffer(sig, dtype=np.uint32), bands, rows):
        yield key, node


def _shared_buckets(bucket):
    """Members of buckets that hold more than one node: (node, bucket key)."""
    key, nodes = bucket
    nodes = list(nodes)
    if len(nodes) > 1:
        for node in nodes:
            yield node, key


def _with_signature(joined):
    node, groups = joined
    for sig, _ in groups["sig"]:
        for key in groups["bucket"]:
            yield key, (node, sig)


def _cluster_members(joined):
    node, groups = joined
    sigs, roots = groups["sig"], groups["root"]
    for root in roots:
        for sig, rank in sigs:
            yield root, (node, sig, rank)


class _Route(beam.DoFn):
    """Documents joined with their decision: kept (main) or ``rejected`` near duplicates;
    ``index`` gets (id, signature) of kept documents for a later incremental run."""

    def __init__(self, save_index: bool):
        self.save_index = save_index

    def setup(self):
        self.metrics = ReasonCounters()

    def process(self, joined):
        _, groups = joined
        decisions = list(groups["decision"])
        sigs = list(groups["sig"])
        for data in groups["doc"]:
            doc = unpack(data)
            if decisions:
                rep, similarity = decisions[0]
                self.metrics.inc("rejected.dedup.near_duplicate")
                detail = f"jaccard={similarity:.3f} with {rep}"
                yield TaggedOutput(
                    "rejected",
                    rejected_record(doc, "dedup", "near_duplicate", detail, duplicate_of=rep, similarity=round(similarity, 4)),
                )
                continue
            yield doc
            if self.save_index and sigs:
                yield TaggedOutput("index", {"id": doc["id"], "signature": sigs[0][0]})


def _repoint(joined):
    """Exact duplicates of a document that near dedup removed point to its representative."""
    _, groups = joined
    decisions = list(groups["decision"])
    for data in groups["exact"]:
        record = unpack(data)
        if decisions:
            rep, _ = decisions[0]
            via = record["duplicate_of"]
            record = {**record, "duplicate_of": rep, "detail": f"identical to {via}, a near duplicate of {rep}"}
        yield record


class RepointExactDuplicates(beam.PTransform):
    """Rejected exact duplicates + near-dedup decisions -> the same records, with duplicate_of
    always naming a document that is kept."""

    def __init__(self, decisions):
        super().__init__()
        self.decisions = decisions

    def expand(self, exact_rejected):
        keyed = exact_rejected | "KeyByKept" >> beam.Map(
            lambda r: (node_key({"id": r["duplicate_of"], "text": r["text"]}), pack(r))
        )
        return {"exact": keyed, "decision": self.decisions} | "JoinKept" >> beam.CoGroupByKey() | "Repoint" >> beam.FlatMap(_repoint)


class NearDedup(beam.PTransform):
    """Documents -> {"kept", "rejected" (near_duplicate), "index" (id and signature of kept
    documents), "decisions" (node -> (representative id, Jaccard))}.

    ``indexed`` is an optional PCollection of (id, signature bytes) from earlier runs: those
    documents always win their cluster and are never output themselves.
    """

    def __init__(self, cfg: NearDedupConfig, indexed=None):
        super().__init__()
        self.cfg = cfg
        self.indexed = indexed

    def expand(self, docs):
        c = self.cfg
        bands, rows = band_params(c.threshold, c.num_perm, c.bands, c.rows)
        signed = docs | "MinHash" >> beam.ParDo(_Sign(c))
        if self.indexed is not None:
            old = self.indexed | "IndexRank" >> beam.Map(
                lambda r: (f"{r[0]}\x1fi", (r[1], rank_key(f"{r[0]}\x1fi", None, 0, indexed=True)))
            )
            signed_all = (signed, old) | "WithIndex" >> beam.Flatten()
        else:
            signed_all = signed
        # Band keys carry only node ids: most buckets hold one document and are dropped, and
        # signatures are joined only to members of shared buckets (~1 KB per document shuffled
        # instead of bands x 0.5 KB).
        shared = (
            signed_all
            | "Bands" >> beam.FlatMap(_bands, bands, rows)
            | "ByBucket" >> beam.GroupByKey()
            | "SharedBuckets" >> beam.FlatMap(_shared_buckets)
        )
        edges = (
            {"sig": signed_all, "bucket": shared}
            | "JoinBucketSigs" >> beam.CoGroupByKey()
            | "WithSignature" >> beam.FlatMap(_with_signature)
            | "ByBucketWithSigs" >> beam.GroupByKey()
            | "BucketEdges" >> beam.FlatMapTuple(lambda _, members: bucket_edges(members, c.threshold, c.verify, c.max_bucket_checks))
        )
        roots = (
            edges
            | "Components" >> ConnectedComponents(c.max_rounds)
            | "WithRoots" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[1])])
            | "DistinctNodes" >> beam.Distinct()
        )
        decisions = (
            {"sig": signed_all, "root": roots}
            | "JoinRoots" >> beam.CoGroupByKey()
            | "ClusterMembers" >> beam.FlatMap(_cluster_members)
            | "ByCluster" >> beam.GroupByKey()
            | "Representative" >> beam.FlatMapTuple(lambda _, members: cluster_decisions(members))
        )
        keyed_docs = docs | "KeyDocs" >> beam.Map(lambda d: (node_key(d), pack(d)))
        routed = (
            {"doc": keyed_docs, "decision": decisions, "sig": signed}
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Route" >> beam.ParDo(_Route(c.save_index)).with_outputs("rejected", "index", main="kept")
        )
        return {"kept": routed.kept, "rejected": routed.rejected, "index": routed.index, "decisions": decisions}
