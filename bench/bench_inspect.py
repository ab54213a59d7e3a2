#!/usr/bin/env python
"""``ptd inspect``'s basic statistics pass: MB/s of compressed input per core, and with 2
processes (target: >= 30 MB/s per core).

Shards are TeleChat-PTD-shaped ``{"data": ...}`` jsonl.gz built from the CLUE sample (real
Chinese web text), each copy of a line suffixed so documents stay distinct; written unescaped
(as ``ptd clean`` writes them) and, as a second case, with ``ensure_ascii`` escapes. The
anchor, measured in the same run, is the floor any reader pays: Python's ``gzip`` reading the
same files line by line with ``json.loads`` and nothing else.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_INPUT, load_lines, source_fingerprint


def build(path: Path, lines: list[str], target_mb: float, ensure_ascii: bool) -> int:
    out, size, k = [], 0, 0
    while size < target_mb * 1e6:
        for line in lines:
            record = json.dumps({"data": f"{line}（{k}）"}, ensure_ascii=ensure_ascii) + "\n"
            out.append(record)
            size += len(record.encode())
        k += 1
    path.write_bytes(gzip.compress("".join(out).encode(), compresslevel=6, mtime=0))
    return len(out)


def baseline(files: list[Path]) -> float:
    started = time.perf_counter()
    for f in files:
        with gzip.open(f, "rb") as stream:
            for line in stream:
                json.loads(line)
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--files", type=int, default=4, help="shards per case (default 4)")
    ap.add_argument("--mb", type=float, default=60, help="uncompressed MB per shard (default 60)")
    args = ap.parse_args()

    from telechat_ptd.inspect.analyze import scan_all
    from telechat_ptd.inspect.scan import ScanOptions, scan_file

    lines = [b.decode("utf-8") for b in load_lines(args.input, "bench_inspect")]
    print(f"bench_inspect  code {source_fingerprint()}  {args.files} shards x {args.mb:g} MB uncompressed per case")
    with tempfile.TemporaryDirectory() as tmp:
        for escaped in (False, True):
            files = [Path(tmp) / f"{'esc' if escaped else 'utf8'}-{i}.jsonl.gz" for i in range(args.files)]
            docs = sum(build(f, lines, args.mb, escaped) for f in files)
            scan_file(str(files[0]), ScanOptions(analysis_docs=100))  # compile the kernel once
            compressed = sum(f.stat().st_size for f in files) / 1e6
            raw = args.files * args.mb
            t1 = time.perf_counter()
            one = scan_all([str(f) for f in files], ScanOptions(), workers=1)
            t1 = time.perf_counter() - t1
            t2 = time.perf_counter()
            two = scan_all([str(f) for f in files], ScanOptions(), workers=2)
            t2 = time.perf_counter() - t2
            assert one.docs == two.docs == docs and one.chars == two.chars
            tb = baseline(files)
            name = "ensure_ascii escapes" if escaped else "unescaped UTF-8 (ptd clean's format)"
            print(f"  {name}: {docs:,} docs, {compressed:,.1f} MB compressed (ratio {raw / compressed:.2f})")
            print(f"    1 process : {compressed / t1:6.1f} MB/s compressed ({raw / t1:6.1f} MB/s uncompressed)")
            print(f"    2 processes: {compressed / t2:6.1f} MB/s compressed   speed-up {t1 / t2:.2f}x")
            print(f"    anchor gzip + json.loads per line, 1 process: {compressed / tb:6.1f} MB/s   ours / anchor {tb / t1:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
