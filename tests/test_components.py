"""Connected components: the star operations and their Beam unrolling against union-find."""

from __future__ import annotations

import collections

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.dedup.components import large_star, small_star, star_violations
from telechat_ptd.pipeline.components import ConnectedComponents


def union_find_roots(edges) -> dict:
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return {x: find(x) for x in list(parent)}


def run_rounds(edges, pairs):
    """The Beam graph's rounds, in plain Python."""
    for _ in range(pairs):
        adj = collections.defaultdict(list)
        for u, v in edges:
            adj[u].append(v)
            adj[v].append(u)
        edges = [e for node, nbrs in adj.items() for e in large_star(node, nbrs)]
        smaller = collections.defaultdict(list)
        for u, v in edges:
            a, b = (u, v) if v < u else (v, u)
            smaller[a].append(b)
        edges = [e for node, nbrs in smaller.items() for e in small_star(node, nbrs)]
    return set(edges)


def converged(edges) -> bool:
    roles = collections.defaultdict(list)
    for child, root in edges:
        roles[child].append(("child", root))
        roles[root].append(("root", child))
    return sum(star_violations(n, r) for n, r in roles.items()) == 0


graphs = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=60)


@settings(max_examples=400, deadline=None)
@given(graphs)
def test_rounds_give_the_union_find_components(edges):
    edges = [(u, v) for u, v in edges if u != v]
    result = run_rounds(edges, 8)
    assert converged(result)
    roots = union_find_roots(edges)
    assert {(c, r) for c, r in result} == {(n, r) for n, r in roots.items() if n != r}


@pytest.mark.parametrize("n,pairs", [(1000, 10), (10_000, 14)])
def test_long_chains_converge_within_the_documented_budget(n, pairs):
    chain = [(i, i + 1) for i in range(n)]
    assert not converged(run_rounds(chain, 3))
    result = run_rounds(chain, pairs)
    assert converged(result) and result == {(i, 0) for i in range(1, n + 1)}


def test_star_violations_counts_nodes_not_yet_on_a_root():
    assert star_violations(5, [("child", 1)]) == 0
    assert star_violations(5, [("child", 1), ("child", 2)]) == 1
    assert star_violations(5, [("child", 1), ("root", 9)]) == 1


@pytest.mark.slow
def test_beam_components_equal_union_find_on_random_graph_and_chain():
    import random

    rng = random.Random(3)
    nodes = [f"doc-{i:04d}" for i in range(300)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(250)]
    edges += [(nodes[i], nodes[i + 1]) for i in range(100, 160)]  # a 60-node chain
    edges = [(u, v) for u, v in edges if u != v]
    expected = [(n, r) for n, r in union_find_roots(edges).items() if n != r]
    with beam.Pipeline() as p:
        out = p | beam.Create(edges) | ConnectedComponents(max_rounds=8)
        assert_that(out, equal_to(expected))


@pytest.mark.slow
def test_beam_components_fail_loudly_when_the_budget_is_too_small():
    chain = [(f"n{i:05d}", f"n{i + 1:05d}") for i in range(200)]
    with pytest.raises(Exception, match="did not converge in 1 large/small-star rounds.*dedup.near.max_rounds"):
        with beam.Pipeline() as p:
            p | beam.Create(chain) | ConnectedComponents(max_rounds=1)
