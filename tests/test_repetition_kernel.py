"""The compiled n-gram kernel against a plain-Python reading of the Gopher definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.kernels import ngram_signals


def covered(starts: list[int], lengths: list[int], k: int) -> int:
    positions = {p for s in starts for p in range(s, s + k)}
    return sum(lengths[p] for p in positions)


def reference(tokens: list[int], lengths: list[int], k: int, top: bool) -> float:
    total = sum(lengths)
    grams = [tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]
    if len(grams) < 2 or total == 0:
        return 0.0
    if top:
        counts: dict = {}
        best, best_count = None, 0
        for g in grams:  # the n-gram that first reaches the highest count
            counts[g] = counts.get(g, 0) + 1
            if counts[g] > best_count:
                best, best_count = g, counts[g]
        if best_count < 2:
            return 0.0
        return covered([i for i, g in enumerate(grams) if g == best], lengths, k) / total
    seen: set = set()
    repeats = []
    for i, g in enumerate(grams):
        if g in seen:
            repeats.append(i)
        seen.add(g)
    return covered(repeats, lengths, k) / total


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=0, max_size=60),
    st.lists(st.integers(1, 5), min_size=60, max_size=60),
    st.lists(st.integers(1, 8), min_size=1, max_size=6, unique=True),
)
def test_kernel_matches_reference(tokens, all_lengths, sizes):
    lengths = all_lengths[: len(tokens)]
    sizes = sorted(sizes)
    ids = np.array(tokens, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(7)
    cum = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))).astype(np.int64)
    for top in (True, False):
        values = ngram_signals(
            ids, cum, np.array(sizes, dtype=np.int64), np.array([top] * len(sizes)),
            np.full(len(sizes), -1.0), True,
        )
        for k, value in zip(sizes, values):
            assert abs(value - reference(tokens, lengths, k, top)) < 1e-12, (k, top)


def test_early_stop_leaves_unrequested_sizes_out():
    ids = np.arange(50, dtype=np.uint64)  # no repeats at all
    cum = np.arange(51, dtype=np.int64)
    sizes = np.array([5, 6, 7], dtype=np.int64)
    out = ngram_signals(ids, cum, sizes, np.array([False] * 3), np.array([0.1, 0.1, 0.1]), False)
    assert out[0] == 0.0 and (out[1:] == -1.0).all()
    out = ngram_signals(ids, cum, sizes, np.array([False] * 3), np.array([0.1, 0.1, 0.1]), True)
    assert (out == 0.0).all()
