"""Compiled per-document kernels (numba) for the signals that loop over characters.

On documents of a few hundred characters, the cost of a NumPy call (µs) dominates the work it
does; these loops do the work in one compiled pass instead.

Gopher's n-gram signals need, for up to nine n-gram sizes, the most frequent n-gram and the
n-grams seen before. With NumPy that is ~10 array calls per size, and array calls dominate on
documents of a few hundred characters; one compiled pass per size with an open-addressing
hash table costs a few ns per window.

Window hashes come from prefix hashes, h(i, k) = H[i+k] - H[i]·P^k (mod 2^64), so every size
costs one subtraction per window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from telechat_ptd.charclass import CONTROL, HAN, NEWLINE, OTHER, SPACE, SYMBOL

_P = np.uint64(0x100000001B3)  # odd, so multiplication is a bijection mod 2^64


@njit(cache=True, nogil=True)
def _covered(starts, n_starts, cum, k):
    """Characters covered by windows [s, s+k) for ascending starts (overlaps once)."""
    total = 0
    until = -1
    for j in range(n_starts):
        s = starts[j]
        e = s + k
        if s >= until:
            total += cum[e] - cum[s]
        elif e > until:
            total += cum[e] - cum[until]
        until = max(until, e)
    return total


@njit(cache=True, nogil=True)
def ngram_signals(ids, cum, sizes, is_top, limits, complete):
    """Value per requested size: top-n-gram share (``is_top``) or repeated-n-gram share.

    ``ids`` token ids (uint64), ``cum`` running character count (len(ids)+1), ``sizes`` tokens
    per n-gram (increasing within each kind). Unless ``complete``, repeated-n-gram sizes stop
    once a value is at or below ``limits`` (coverage only shrinks as n grows); the sizes not
    computed come back as -1.
    """
    n = ids.size
    out = np.full(sizes.size, -1.0)
    total = cum[n]
    if total == 0:
        for i in range(sizes.size):
            out[i] = 0.0
        return out
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    for i in range(n):
        prefix[i + 1] = prefix[i] * _P + ids[i]
    cap = 1
    while cap < 2 * n + 2:
        cap *= 2
    mask = cap - 1
    keys = np.empty(cap, dtype=np.uint64)
    firsts = np.empty(cap, dtype=np.int64)
    counts = np.empty(cap, dtype=np.int64)
    hashes = np.empty(n + 1, dtype=np.uint64)
    starts = np.empty(n + 1, dtype=np.int64)
    dup_done = False
    for q in range(sizes.size):
        k = sizes[q]
        m = n - k + 1
        if m < 2 or (dup_done and not is_top[q]):
            out[q] = 0.0 if m < 2 or complete else -1.0
            continue
        pk = np.uint64(1)
        for _ in range(k):
            pk *= _P
        firsts[:] = -1
        best_slot = -1
        best_count = 0
        n_rep = 0
        for i in range(m):
            h = prefix[i + k] - prefix[i] * pk
            hashes[i] = h
            slot = np.int64(h & np.uint64(mask))
            while firsts[slot] != -1 and keys[slot] != h:
                slot = (slot + 1) & mask
            if firsts[slot] == -1:
                keys[slot] = h
                firsts[slot] = i
                counts[slot] = 1
            else:
                counts[slot] += 1
                starts[n_rep] = i
                n_rep += 1
            if counts[slot] > best_count:
                best_count = counts[slot]
                best_slot = slot
        if is_top[q]:
            if best_count < 2:
                out[q] = 0.0
                continue
            target = keys[best_slot]
            c = 0
            for i in range(m):
                if hashes[i] == target:
                    starts[c] = i
                    c += 1
            out[q] = _covered(starts, c, cum, k) / total
        else:
            value = _covered(starts, n_rep, cum, k) / total if n_rep else 0.0
            out[q] = value
            if value == 0.0 or (not complete and value <= limits[q]):
                dup_done = True
    return out


@njit(cache=True, nogil=True)
def count_sentence_ends(cps, ends_table):
    """Runs of sentence-ending marks, plus periods before whitespace, a non-ASCII character
    or the end of the text (Chinese reviews often type "." for "。")."""
    n = 0
    prev_mark = False
    size = cps.size
    for i in range(size):
        c = cps[i]
        mark = c < 0x10000 and ends_table[c]
        if not mark and c == 0x2E:
            nxt = cps[i + 1] if i + 1 < size else 0x20
            mark = nxt > 0x7F or nxt == 0x20 or nxt == 0x0A
        if mark and not prev_mark:
            n += 1
        prev_mark = mark
    return n


@njit(cache=True, nogil=True)
def _astral_class(c):
    if 0x20000 <= c <= 0x3FFFF:
        return HAN
    if 0x1F000 <= c <= 0x1FAFF:
        return SYMBOL
    if c >= 0xF0000:
        return CONTROL
    return OTHER


@njit(cache=True, nogil=True)
def class_counts(cps, table, n_classes):
    """Number of codepoints in each class of ``charclass``."""
    counts = np.zeros(n_classes, dtype=np.int64)
    for i in range(cps.size):
        c = cps[i]
        counts[table[c] if c < 0x10000 else _astral_class(c)] += 1
    return counts


@njit(cache=True, nogil=True)
def visible_codepoints(cps, table):
    """The codepoints that are not whitespace, as uint64 token ids."""
    out = np.empty(cps.size, dtype=np.uint64)
    n = 0
    for i in range(cps.size):
        c = cps[i]
        if c >= 0x10000 or (table[c] != SPACE and table[c] != NEWLINE):
            out[n] = c
            n += 1
    return out[:n]


@njit(cache=True, nogil=True)
def flags_present(cps, table):
    """OR of the per-codepoint flags in ``table`` (BMP only) over the text."""
    flags = np.uint8(0)
    for i in range(cps.size):
        c = cps[i]
        if c < 0x10000:
            flags |= table[c]
    return flags


@njit(cache=True, nogil=True)
def utf8_doc_stats(data, offsets, n_docs):
    """Per document of a UTF-8 string column (Arrow's data and offsets buffers): characters,
    CJK unified ideographs (U+4E00-U+9FFF: lead byte E4 with a second byte >= B8, or E5-E9)
    and a 64-bit FNV-1a hash of the bytes, in one pass at memory speed."""
    chars = np.zeros(n_docs, dtype=np.int64)
    han = np.zeros(n_docs, dtype=np.int64)
    hashes = np.zeros(n_docs, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for d in range(n_docs):
        start, end = offsets[d], offsets[d + 1]
        c = 0
        h_count = 0
        h = np.uint64(0xCBF29CE484222325)
        for i in range(start, end):
            b = data[i]
            h = (h ^ np.uint64(b)) * prime
            if (b & 0xC0) != 0x80:
                c += 1
                if (b == 0xE4 and i + 1 < end and data[i + 1] >= 0xB8) or (0xE5 <= b <= 0xE9):
                    h_count += 1
        chars[d] = c
        han[d] = h_count
        hashes[d] = h
    return chars, han, hashes
