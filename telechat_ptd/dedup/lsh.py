"""LSH banding: documents that agree on all rows of any band become candidates.

Two documents with Jaccard similarity s share a band with probability 1 - (1 - s^r)^b (the
S-curve); bands x rows come from datasketch's optimal-parameter search for the threshold.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def band_params(threshold: float, num_perm: int, bands: int | None = None, rows: int | None = None) -> tuple[int, int]:
    if bands is not None and rows is not None:
        return bands, rows
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def collision_probability(similarity: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - similarity**rows) ** bands


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """One key per band: the band index and a 64-bit digest of its rows."""
    sig = np.ascontiguousarray(signature, dtype=np.uint32)
    return [
        i.to_bytes(2, "big") + hashlib.blake2b(sig[i * rows : (i + 1) * rows].tobytes(), digest_size=8).digest()
        for i in range(bands)
    ]
