"""``ptd inspect``: scan files in parallel, merge, and derive the views of the report.

Counts over every document come from the scans; language mix, top characters and n-grams, PII,
near duplicates and (with ``annotate``) the filter decisions come from the merged random sample
and are labelled as estimates.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

from telechat_ptd.inspect.scan import ScanOptions, ShardScan, scan_file
from telechat_ptd.pipeline.config import Config
from telechat_ptd.shards import expand

@dataclass
class Inspection:
    scan: ShardScan
    sample: list[str]  # documents shown
    analysed: int  # documents in the analysis sample
    exact_dup_docs: int  # documents whose exact text appeared earlier (all documents)
    near_dup_share: float  # in the analysis sample
    languages: Counter
    top_chars: list[tuple[str, int]]
    top_ngrams: dict[int, list[tuple[str, int]]]
    pii_docs: Counter  # sampled documents with at least one hit, per type
    pii_hits: Counter
    annotate: Counter | None = None  # reason (or keep) -> sampled documents
    annotate_examples: dict[str, list[str]] = field(default_factory=dict)
    median_chars: float = 0.0
    p90_chars: float = 0.0
    seconds: float = 0.0
    workers: int = 1


def scan_all(files: list[str], opts: ScanOptions, workers: int, log=None) -> ShardScan:
    rng = np.random.default_rng(opts.seed)
    total = ShardScan()
    if workers <= 1 or len(files) == 1:
        results = (scan_file(f, opts) for f in files)
        for i, part in enumerate(results, 1):
            total.merge(part, rng, opts.analysis_docs)
            _progress(log, i, len(files), part)
        return total
    ctx = get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(scan_file, f, opts): f for f in files}
        done = {}
        for i, future in enumerate(as_completed(futures), 1):
            part = future.result()
            done[futures[future]] = part
            _progress(log, i, len(files), part)
        for f in files:  # merge in file order: the same sample whatever finished first
            total.merge(done[f], rng, opts.analysis_docs)
    return total


def _progress(log, i: int, n: int, part: ShardScan) -> None:
    if log is not None:
        mb = part.compressed_bytes / 1e6
        log(f"[{i}/{n}] {part.files[0]}: {part.docs:,} documents, {mb:,.1f} MB in {part.seconds:.1f} s "
            f"({mb / max(part.seconds, 1e-9):,.1f} MB/s)")


def top_ngrams(texts: list[str], n: int, k: int) -> list[tuple[str, int]]:
    counts: Counter = Counter()
    for text in texts:
        compact = "".join(text.split())
        counts.update(compact[i : i + n] for i in range(len(compact) - n + 1))
    return counts.most_common(k)


def inspect_files(paths: list[str], cfg: Config, opts: ScanOptions = ScanOptions(), workers: int = 1, show: int = 5,
                  annotate: bool = False, log=None) -> Inspection:
    from telechat_ptd.dedup.near import near_duplicates
    from telechat_ptd.filters import language
    from telechat_ptd.filters.view import TextView
    from telechat_ptd.pii import find_pii

    started = time.perf_counter()
    scan = scan_all(expand(paths), opts, workers, log)
    docs = scan.reservoir
    rng = np.random.default_rng(opts.seed + 1)
    shown = [docs[i] for i in sorted(rng.choice(len(docs), size=min(show, len(docs)), replace=False))] if docs else []
    hashes = np.concatenate(scan.hashes) if scan.hashes else np.zeros(0, np.uint64)
    lengths = np.concatenate(scan.lengths) if scan.lengths else np.zeros(0, np.int32)
    languages = Counter(language.detect(TextView(t), cfg.filters.lang) for t in docs)
    pii_docs: Counter = Counter()
    pii_hits: Counter = Counter()
    for text in docs:
        hits = find_pii(text)
        pii_hits.update(hits)
        pii_docs.update(hits.keys())
    near = near_duplicates([{"id": str(i), "text": t} for i, t in enumerate(docs)], cfg.dedup.near) if docs else {}
    chars: Counter = Counter()
    for text in docs:
        chars.update(text)
    for space in [c for c in chars if c.isspace()]:
        del chars[space]
    head = docs[:1000]
    result = Inspection(
        scan=scan, sample=shown, analysed=len(docs), exact_dup_docs=int(hashes.size - np.unique(hashes).size),
        near_dup_share=len(near) / max(1, len(docs)), languages=languages, top_chars=chars.most_common(30),
        top_ngrams={n: top_ngrams(head, n, 20) for n in (2, 3, 4)}, pii_docs=pii_docs, pii_hits=pii_hits,
        median_chars=float(np.median(lengths)) if lengths.size else 0.0,
        p90_chars=float(np.percentile(lengths, 90)) if lengths.size else 0.0, workers=workers,
    )
    if annotate:
        from telechat_ptd.process import DocumentProcessor

        processor = DocumentProcessor(cfg)
        result.annotate = Counter()
        for text in docs:
            reason = processor.process(text).reason or "keep"
            result.annotate[reason] += 1
            examples = result.annotate_examples.setdefault(reason, [])
            if len(examples) < 2 and reason != "keep":
                examples.append(text)
    result.seconds = time.perf_counter() - started
    return result
