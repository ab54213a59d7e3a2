"""Exact duplicates: documents whose normalized text is byte-identical.

A 128-bit BLAKE2b digest is the grouping key: at 10^10 documents the chance of any collision
is ~10^-18, and the key is 16 bytes in the shuffle instead of the whole text.
"""

from __future__ import annotations

import hashlib


def exact_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
