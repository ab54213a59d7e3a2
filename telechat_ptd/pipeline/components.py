"""Connected components in Beam: large-star / small-star rounds unrolled in the graph.

Beam graphs are static, so the rounds are unrolled up to ``max_rounds`` pairs; a final check
verifies that the result is a star forest and fails the job, naming the setting to raise,
when the budget was too small. Memory per worker: one node's neighbourhood at a time (the
largest component's size, for its root), never the whole graph.
"""

from __future__ import annotations

import apache_beam as beam

from telechat_ptd.dedup.components import large_star, small_star, star_violations


class ComponentsDidNotConverge(RuntimeError):
    pass


def _both_directions(edge):
    u, v = edge
    yield u, v
    yield v, u


def _towards_smaller(edge):
    u, v = edge
    yield (u, v) if v < u else (v, u)


def _roles(edge):
    child, root = edge
    yield child, ("child", root)
    yield root, ("root", child)


class _Check(beam.DoFn):
    def __init__(self, max_rounds: int):
        self.max_rounds = max_rounds

    def process(self, violations: int):
        if violations:
            raise ComponentsDidNotConverge(
                f"near-duplicate clustering did not converge in {self.max_rounds} large/small-star rounds "
                f"({violations} nodes not yet attached to their component's root); raise dedup.near.max_rounds"
            )
        yield violations


class ConnectedComponents(beam.PTransform):
    """Edges (u, v) -> (node, component root) for every node on an edge; the root is the
    component's smallest node. Nodes must be comparable and deterministic to encode."""

    def __init__(self, max_rounds: int):
        super().__init__()
        self.max_rounds = max_rounds

    def expand(self, edges):
        for i in range(self.max_rounds):
            edges = (
                edges
                | f"LargeMap{i}" >> beam.FlatMap(_both_directions)
                | f"LargeGroup{i}" >> beam.GroupByKey()
                | f"LargeStar{i}" >> beam.FlatMapTuple(large_star)
                | f"SmallMap{i}" >> beam.FlatMap(_towards_smaller)
                | f"SmallGroup{i}" >> beam.GroupByKey()
                | f"SmallStar{i}" >> beam.FlatMapTuple(small_star)
            )
        check = (
            edges
            | "Roles" >> beam.FlatMap(_roles)
            | "ByNode" >> beam.GroupByKey()
            | "Violations" >> beam.MapTuple(star_violations)
            | "Total" >> beam.CombineGlobally(sum)
            | "Check" >> beam.ParDo(_Check(self.max_rounds))
        )
        roots = edges | "Distinct" >> beam.Distinct()
        # Tie the result to the check so that nothing downstream runs on an unconverged graph.
        return roots | "AfterCheck" >> beam.Map(lambda edge, _: edge, beam.pvalue.AsSingleton(check))
