"""The decisions of near-duplicate removal, as plain functions.

The Beam stage (``pipeline/near_dedup.py``) distributes them; ``near_duplicates()`` runs them
in memory on a sample (the filter-tuning what-if uses it), with union-find in place of the
distributed components, which compute the same clusters. Same functions, same decisions.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator

import numpy as np

from telechat_ptd.dedup.lsh import band_keys, band_params
from telechat_ptd.dedup.minhash import MinHasher, jaccard
from telechat_ptd.dedup.shingle import shingle_bytes

INDEXED, NEW = 0, 1  # rank keys sort ascending: indexed documents first


def node_key(doc: dict) -> str:
    """Graph node of a document: its id plus a digest of its text, so documents that share an
    id (a data problem) stay separate nodes."""
    digest = hashlib.blake2b(doc["text"].encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{doc['id']}\x1f{digest}"


def doc_id(node: str) -> str:
    return node.rsplit("\x1f", 1)[0]


def rank_key(node: str, score: float | None, length: int, indexed: bool = False) -> tuple:
    """Smaller is better: indexed documents, then higher score, then longer text, then id."""
    return (INDEXED if indexed else NEW, -(score if score is not None else float("-inf")), -length, node)


def signature(doc: dict, hasher: MinHasher, cfg) -> np.ndarray | None:
    """The document's MinHash signature; None when it has no shingle (an empty signature
    would match every other empty one)."""
    s = shingle_bytes(doc["text"], cfg.ngram_chars, cfg.ngram_words, cfg.unit, cfg.char_min_han_share)
    if s.starts.size == 0:
        return None
    return hasher.signature(s.utf8, s.starts, s.ends)


def bucket_edges(members: Iterable[tuple[str, bytes]], threshold: float, verify: bool, max_checks: int) -> Iterator[tuple[str, str]]:
    """Edges inside one LSH bucket of (node, signature bytes). With verification, a member
    joins the first earlier member (in node order) whose estimated Jaccard reaches the
    threshold, looking at most ``max_checks`` members back; without, the bucket's first."""
    members = sorted(members)
    if len(members) < 2:
        return
    if not verify:
        for node, _ in members[1:]:
            yield node, members[0][0]
        return
    sigs = [np.frombuffer(sig, dtype=np.uint32) for _, sig in members]
    for j in range(1, len(members)):
        for i in range(max(0, j - max_checks), j):
            if jaccard(sigs[i], sigs[j]) >= threshold:
                yield members[j][0], members[i][0]
                break


def cluster_decisions(members) -> Iterator[tuple[str, tuple[str, float]]]:
    """One cluster of (node, signature bytes, rank key): every member but the best-ranked
    -> (node, (representative id, estimated Jaccard to it)). Iterates ``members`` twice."""
    best = min(members, key=lambda m: m[2])
    rep_node, rep_sig = best[0], np.frombuffer(best[1], dtype=np.uint32)
    for node, sig, _ in members:
        if node != rep_node:
            yield node, (doc_id(rep_node), jaccard(np.frombuffer(sig, dtype=np.uint32), rep_sig))


def near_duplicates(docs: list[dict], cfg) -> dict[str, tuple[str, float]]:
    """In memory: node -> (representative id, Jaccard) for every document to remove."""
    return cluster_signed(sign_documents(docs, cfg), cfg)


def sign_documents(docs: Iterable[dict], cfg) -> dict[str, tuple[bytes, tuple]]:
    """node -> (signature bytes, rank key) of every document that has a shingle."""
    hasher = MinHasher(cfg.num_perm, cfg.seed, cfg.scheme, cfg.hash)
    signed = {}
    for doc in docs:
        sig = signature(doc, hasher, cfg)
        if sig is not None:
            node = node_key(doc)
            signed[node] = (sig.tobytes(), rank_key(node, doc.get("score"), len(doc["text"])))
    return signed


def cluster_signed(signed: dict[str, tuple[bytes, tuple]], cfg) -> dict[str, tuple[str, float]]:
    """LSH buckets, verified edges and union-find over signed nodes: the removal decisions."""
    bands, rows = band_params(cfg.threshold, cfg.num_perm, cfg.bands, cfg.rows)
    buckets: dict[bytes, list] = defaultdict(list)
    for node, (sig, _) in signed.items():
        for key in band_keys(np.frombuffer(sig, dtype=np.uint32), bands, rows):
            buckets[key].append(node)
    return cluster_buckets(signed, buckets.values(), cfg)


def cluster_buckets(signed: dict[str, tuple[bytes, tuple]], buckets: Iterable[list[str]], cfg) -> dict[str, tuple[str, float]]:
    """The decisions from LSH buckets given as lists of nodes (a caller holding band keys
    already, like the what-if, builds them its own way)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for nodes in buckets:
        if len(nodes) < 2:
            continue
        members = [(node, signed[node][0]) for node in nodes]
        for a, b in bucket_edges(members, cfg.threshold, cfg.verify, cfg.max_bucket_checks):
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    clusters: dict[str, list] = defaultdict(list)
    for node in list(parent):
        clusters[find(node)].append((node, *signed[node]))
    return dict(d for members in clusters.values() for d in cluster_decisions(members))
