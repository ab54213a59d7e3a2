"""Connected components by alternating large-star and small-star rounds.

Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014): each round groups
edges by node and only ever holds one node's neighbourhood, so no worker needs all nodes or
all edges. Both operations keep connectivity; repeated, they turn every component into a star
around its smallest node, in O(log^2 n) rounds (a chain of 10^5 nodes in worst-case order
needs 17 large/small pairs, a random one 13).

These are the per-node reduce steps; ``pipeline/components.py`` unrolls them in Beam.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def large_star(node, neighbors: Iterable) -> Iterator[tuple]:
    """Connect every larger neighbour to the smallest node of the neighbourhood."""
    nbrs = set(neighbors)
    nbrs.discard(node)
    if not nbrs:
        return
    m = min(min(nbrs), node)
    for v in nbrs:
        if v > node:
            yield v, m


def small_star(node, smaller: Iterable) -> Iterator[tuple]:
    """Connect the node and its smaller neighbours to the smallest of them."""
    nbrs = set(smaller)
    nbrs.discard(node)
    if not nbrs:
        return
    m = min(nbrs)
    for v in nbrs | {node}:
        if v != m:
            yield v, m


def star_violations(node, roles: Iterable[tuple]) -> int:
    """After convergence every edge is (child, root): a node is a root or a child of exactly
    one root, never both. Count what breaks that for one node (0 when converged)."""
    parents = set()
    is_parent = False
    for role, other in roles:
        if role == "child":
            parents.add(other)
        else:
            is_parent = True
    return int(len(parents) > 1) + int(bool(parents) and is_parent)
