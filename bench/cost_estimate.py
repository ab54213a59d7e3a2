#!/usr/bin/env python
"""What would cleaning 1 TB of text cost on Dataflow, and which stage pays for it?

Why
---
A TeleChat-PTD-sized job (~1 TB of raw UTF-8 text, ~270M documents) is bought in
worker-hours, so the question "is it affordable, and what should be optimized first" is a
question of per-core throughput of each stage times the bytes that reach it. Later stages
see fewer bytes (rules drop junk, dedup drops duplicates, the quality scorers drop low-quality
text), so a slow stage late in the flow may cost less than a fast one early: the table shows
both the speed and the bytes.

What is measured (this machine, one core, in process, no Beam)
--------------------------------------------------------------
The process pins itself to one core; torch, numba and BLAS get one thread. Documents are
real: the CLUE sample, the THUCNews-style tech news and the news sample from
../shared/data/zh plus the English Common Crawl documents in ../shared/data/en, shuffled
(seeded), ``--docs`` of them (default 3,000), as jsonl lines. Each stage runs a warm-up
(``--warmup`` docs, untimed) and is then timed on every document that reaches it:

1. read + normalize + rule filters + language ID: ``json.loads`` + ``DocumentProcessor.process``
   (bench_job's rule anchor); its kept share (in bytes of normalized text) is measured;
2. exact + near dedup signatures: ``exact_key`` + the MinHash signature as the job computes
   it (``telechat_ptd.dedup.near.signature``); the share dedup drops cannot be measured on
   de-duplicated real text, so it is ``--dedup-drop`` (default 0.16: the synthetic corpus's
   8% exact + 8% near duplicates, in line with the ~15.6% a ``ptd clean`` of it rejects as
   duplicates), or taken from a run's stats.json with ``--stats``;
3. quality scorers, Chinese documents only (their ``langs`` default): kenlm, fasttext, bert
   and gpt2 with the models in --models (bert/gpt2 through ``Scorer.load`` at batch size 16,
   512 tokens per segment, on ``--model-docs`` documents, default 200); each scorer is
   assumed to score every document reaching the stage; the kept share applies the default
   thresholds (fasttext/bert min_quality 0.5; kenlm/gpt2 annotate only);
4. safety: sensitive-word lexicon (Aho-Corasick) + its verdict, the toxicity model, PII
   redaction; kept share measured;
5. write: the ``{"data": ...}`` line and gzip level 6 of the kept text.

How the cost is computed
------------------------
vCPU-hours of a stage = bytes reaching it / its per-core MB/s / 3600. Beam itself (bundling,
coders, the dedup shuffles, connected components, sorting the shards) costs on top of the
pure stage work: bench_job measured the whole job without scorers at ~0.4x the speed of the
rule stage alone (``--job-factor``), so the job without scorers is costed at rule-stage
vCPU-hours / 0.4 and the difference from the measured non-scorer stages is shown as its own
"Beam / IO / shuffle overhead" row. Workers are n1-standard-4 (4 vCPU, 15 GB), billed at
Dataflow batch list prices (``--vcpu-hour``, ``--gb-hour``, ``--pd-gb-hour``, ``--shuffle-gb``;
us-central1 figures from cloud.google.com/dataflow/pricing, to be re-checked -- the stored
copy of that page did not render its table, so they are stated assumptions). Dataflow
Shuffle is charged per GB: ``--shuffle-passes`` (default 3: the exact-dedup grouping, the
near-dedup decision join, the sorted shard write) times the bytes reaching dedup. The GPU line
for bert/gpt2 is an assumption (no GPU here): ``--gpu-speedup`` times one core's speed on an
NVIDIA T4 at ``--gpu-hour`` plus its n1-standard-4 host.

    python bench/cost_estimate.py [--docs 3000] [--model-docs 200] [--tb 1] [--stats OUT/stats.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "1" if _var != "TOKENIZERS_PARALLELISM" else "false")

from _common import REPO, source_fingerprint  # noqa: E402

SHARED = REPO / ".." / "shared" / "data"
MB = 1e6
PROG = "cost_estimate"


def real_jsonl(n: int, seed: int) -> list[bytes]:
    texts: list[str] = []
    for name in ("zh/clue_corpus_small_sample.txt", "zh/news_zh_sample.txt", "zh/cnews_train.txt"):
        p = SHARED / name
        if p.is_file():
            texts += [ln.split(";;", 1)[-1] for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for p in sorted((SHARED / "en").glob("*.jsonl")) if (SHARED / "en").is_dir() else []:
        texts += [json.loads(ln).get("text") or "" for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    texts = [t for t in dict.fromkeys(texts) if t.strip()]
    if not texts:
        sys.exit(f"{PROG}: no documents under {SHARED}; the estimate needs the shared real data")
    random.Random(seed).shuffle(texts)
    return [json.dumps({"data": t}, ensure_ascii=False).encode("utf-8") for t in texts[:n]]


def timed(fn, items: list, warmup: int):
    """fn over items[:warmup] untimed, then over all items timed; (results, seconds)."""
    for it in items[:warmup]:
        fn(it)
    t0 = time.perf_counter()
    out = [fn(it) for it in items]
    return out, time.perf_counter() - t0


def nbytes(texts) -> int:
    return sum(len(t.encode("utf-8")) for t in texts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for what is measured and assumed.")
    ap.add_argument("--docs", type=int, default=3000, help="real documents measured (default 3000)")
    ap.add_argument("--model-docs", type=int, default=200, help="documents for the bert/gpt2 timings (default 200)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", type=Path, default=REPO / "models")
    ap.add_argument("--tb", type=float, default=1.0, help="corpus size in TB (10^12 bytes of UTF-8 text; default 1)")
    ap.add_argument("--bytes-per-doc", type=float, default=3700.0, help="for document counts (TeleChat-PTD: ~1 TB / 270M docs)")
    ap.add_argument("--dedup-drop", type=float, default=0.16, help="share of documents reaching dedup that it drops")
    ap.add_argument("--stats", type=Path, help="a ptd clean stats.json: take the dedup drop share from it")
    ap.add_argument("--job-factor", type=float, default=0.4, help="whole job (no scorers) speed / rule-stage speed (bench_job)")
    ap.add_argument("--vcpu-hour", type=float, default=0.056, help="$ per vCPU-hour, Dataflow batch (us-central1)")
    ap.add_argument("--gb-hour", type=float, default=0.003557, help="$ per GB-hour of memory, Dataflow batch")
    ap.add_argument("--pd-gb-hour", type=float, default=0.000054, help="$ per GB-hour of standard persistent disk")
    ap.add_argument("--shuffle-gb", type=float, default=0.011, help="$ per GB of Dataflow Shuffle data processed (batch)")
    ap.add_argument("--shuffle-passes", type=float, default=3.0)
    ap.add_argument("--machine", default="n1-standard-4:4:15:25", help="name:vCPUs:memory GB:disk GB")
    ap.add_argument("--gpu-speedup", type=float, default=50.0, help="ASSUMED T4 speed over one core for bert/gpt2")
    ap.add_argument("--gpu-hour", type=float, default=0.35, help="ASSUMED $ per T4 GPU-hour on Dataflow")
    ap.add_argument("--skip-models", action="store_true", help="no model scorers (no models/ folder)")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})

    from telechat_ptd.dedup.exact import exact_key
    from telechat_ptd.dedup.minhash import MinHasher
    from telechat_ptd.dedup.near import signature
    from telechat_ptd.pii import redact
    from telechat_ptd.pipeline.config import load_config
    from telechat_ptd.process import DocumentProcessor
    from telechat_ptd.safety import lexicon as lx
    from telechat_ptd.safety.verdict import lexicon_summary, lists_verdict

    cfg = load_config()
    fingerprint = source_fingerprint()
    lines = real_jsonl(args.docs, args.seed)
    in_bytes = sum(len(json.loads(ln)["data"].encode()) for ln in lines)
    print(f"{PROG}: telechat_ptd source sha1 {fingerprint}; {len(lines):,} real documents ({in_bytes / MB:.2f} MB text) "
          f"from {SHARED.resolve()}; one core (pinned), 1 thread; warm-up {args.warmup} docs per stage", flush=True)
    stages: list[dict] = []

    # 1. read + normalize + rules + lang ID
    proc = DocumentProcessor(cfg)
    outs, sec = timed(lambda ln: proc.process(json.loads(ln)["data"]), lines, args.warmup)
    kept = [(o.text, o.lang) for o in outs if o.kept]
    kept_bytes = nbytes(t for t, _ in kept)
    stages.append({"stage": "read + normalize + rules + lang ID", "docs": len(lines), "bytes": in_bytes, "sec": sec,
                   "keep": kept_bytes / in_bytes, "keep_docs": len(kept) / len(lines), "group": "base"})
    print(f"  rules: {in_bytes / MB / sec:.2f} MB/s, kept {len(kept) / len(lines):.1%} of docs, {kept_bytes / in_bytes:.1%} of bytes", flush=True)

    # 2. dedup signatures
    near = cfg.dedup.near
    hasher = MinHasher(near.num_perm, near.seed, near.scheme, near.hash)
    _, sec = timed(lambda tl: (exact_key(tl[0]), signature({"text": tl[0]}, hasher, near)), kept, args.warmup)
    drop = args.dedup_drop
    if args.stats:
        s = json.loads(args.stats.read_text())
        by_stage = s.get("rejected_by_stage", {})
        reaching = s["input"] - by_stage.get("normalize", 0) - by_stage.get("filter", 0)
        drop = by_stage.get("dedup", 0) / max(reaching, 1)
    stages.append({"stage": "exact key + MinHash signature", "docs": len(kept), "bytes": kept_bytes, "sec": sec,
                   "keep": 1 - drop, "keep_docs": 1 - drop, "group": "base",
                   "note": f"drop {drop:.1%} {'from ' + str(args.stats) if args.stats else '(--dedup-drop, assumed)'}"})
    print(f"  dedup signatures: {kept_bytes / MB / sec:.2f} MB/s; dedup drops {drop:.1%} (not measurable on real text)", flush=True)

    # 3. quality scorers (zh only)
    zh = [t for t, lang in kept if lang == "zh"]
    zh_share = nbytes(zh) / max(kept_bytes, 1)
    scorer_rows = []
    if not args.skip_models:
        import torch

        torch.set_num_threads(1)
        from telechat_ptd.scorers.registry import scorer_class
        from telechat_ptd.scorers.thresholds import verdict
        from telechat_ptd.scorers.transformer import Scorer

        loaders = {
            "kenlm": lambda: scorer_class("kenlm").load(str(args.models / "kenlm")),
            "fasttext": lambda: scorer_class("fasttext").load(str(args.models / "quality.bin")),
            "bert": lambda: Scorer.load(str(args.models / "bert-quality"), kind="classifier", signal="bert_quality", batch_size=16),
            "gpt2": lambda: Scorer.load(str(args.models / "gpt2-ref"), kind="perplexity", batch_size=16),
        }
        keep_all = [True] * len(zh)
        for name, load in loaders.items():
            try:
                scorer = load()
            except Exception as exc:  # noqa: BLE001
                print(f"  {name}: cannot load ({type(exc).__name__}: {exc}); left out", flush=True)
                continue
            docs = zh if name in ("kenlm", "fasttext") else zh[: args.model_docs]
            batch = 16 if name in ("bert", "gpt2") else 1
            scorer.score(zh[: min(args.warmup, 16)])
            t0 = time.perf_counter()
            rows = scorer.score(docs)
            sec = time.perf_counter() - t0
            for i, row in enumerate(rows):
                if verdict(name, cfg.scorers, row):
                    keep_all[i] = False
            kb = sum(nbytes([t]) for t, k in zip(docs, [verdict(name, cfg.scorers, r) is None for r in rows]) if k)
            b = nbytes(docs)
            scorer_rows.append({"stage": f"{name} (batch {batch})", "docs": len(docs), "bytes": b, "sec": sec,
                                "keep": kb / max(b, 1), "group": "scorer", "name": name})
            print(f"  {name}: {b / MB / sec:.3f} MB/s, {len(docs) / sec:,.1f} docs/s, keeps {kb / max(b, 1):.1%} of bytes", flush=True)
    q_keep = nbytes(t for t, k in zip(zh, keep_all) if k) / max(nbytes(zh), 1) if scorer_rows else 1.0
    stages += scorer_rows

    # 4. safety on what the scorers kept (Chinese kept by the scorers + all English)
    safe_in = [t for t, k in zip(zh, keep_all if scorer_rows else [True] * len(zh)) if k] + [t for t, lang in kept if lang != "zh"]
    lexicon = lx.Lexicon.from_config(cfg.safety.lexicon)

    def lists(t):
        return lists_verdict(lexicon_summary(lexicon.signals(t), cfg.safety.lexicon), cfg.safety.blocklist, cfg.safety.lexicon) is None

    res, sec = timed(lists, safe_in, args.warmup)
    sb = nbytes(safe_in)
    lex_keep = nbytes(t for t, k in zip(safe_in, res) if k) / max(sb, 1)
    stages.append({"stage": "safety: lexicon (Aho-Corasick)", "docs": len(safe_in), "bytes": sb, "sec": sec,
                   "keep": lex_keep, "group": "base"})
    after_lex = [t for t, k in zip(safe_in, res) if k]
    if not args.skip_models:
        try:
            tox = scorer_class("toxicity").load(str(args.models / "toxicity.bin"))
            tox.score(after_lex[:16])
            t0 = time.perf_counter()
            rows = tox.score(after_lex)
            sec = time.perf_counter() - t0
            tb_ = nbytes(after_lex)
            keep_t = [verdict("toxicity", cfg.scorers, r) is None for r in rows]
            stages.append({"stage": "safety: toxicity model", "docs": len(after_lex), "bytes": tb_, "sec": sec,
                           "keep": nbytes(t for t, k in zip(after_lex, keep_t) if k) / max(tb_, 1), "group": "scorer", "name": "toxicity"})
            after_lex = [t for t, k in zip(after_lex, keep_t) if k]
        except Exception as exc:  # noqa: BLE001
            print(f"  toxicity: cannot load ({type(exc).__name__}: {exc}); left out", flush=True)
    red, sec = timed(lambda t: redact(t, cfg.safety.pii)[0], after_lex, args.warmup)
    stages.append({"stage": "safety: PII redaction", "docs": len(after_lex), "bytes": nbytes(after_lex), "sec": sec,
                   "keep": 1.0, "group": "base"})

    # 5. write
    def write(t):
        return gzip.compress(json.dumps({"data": t}, ensure_ascii=False).encode() + b"\n", 6)

    _, sec = timed(write, red, args.warmup)
    stages.append({"stage": "write (json line + gzip 6)", "docs": len(red), "bytes": nbytes(red), "sec": sec, "keep": 1.0, "group": "base"})

    # ------------------------------------------------------------------ the 1 TB model
    total_bytes = args.tb * 1e12
    name, vcpus, mem_gb, disk_gb = args.machine.split(":")
    vcpus, mem_gb, disk_gb = int(vcpus), float(mem_gb), float(disk_gb)
    per_vcpu_hour = args.vcpu_hour + mem_gb / vcpus * args.gb_hour + disk_gb / vcpus * args.pd_gb_hour
    # bytes reaching each stage, from the kept shares measured above
    by = {s["stage"]: s for s in stages}
    quality = [s for s in stages if s["group"] == "scorer" and s.get("name") != "toxicity"]
    b_rules = total_bytes
    b_dedup = b_rules * stages[0]["keep"]
    b_quality = b_dedup * (1 - drop)  # the quality scorers see its Chinese share
    b_safety = b_quality * (zh_share * q_keep + (1 - zh_share))
    b_tox = b_safety * by["safety: lexicon (Aho-Corasick)"]["keep"]
    tox = by.get("safety: toxicity model")
    b_pii = b_tox * (tox["keep"] if tox else 1.0)
    reach = {"read + normalize + rules + lang ID": b_rules, "exact key + MinHash signature": b_dedup,
             "safety: lexicon (Aho-Corasick)": b_safety, "safety: toxicity model": b_tox,
             "safety: PII redaction": b_pii, "write (json line + gzip 6)": b_pii}
    for s in quality:
        reach[s["stage"]] = b_quality * zh_share
    dedup_reach = b_dedup
    rows = []
    for s in stages:
        mbs = s["bytes"] / MB / s["sec"] if s["sec"] > 0 else float("inf")
        b = reach[s["stage"]]
        rows.append({**s, "reach": b, "mbs": mbs, "dps": s["docs"] / s["sec"] if s["sec"] else 0.0,
                     "vh": b / MB / mbs / 3600 if mbs > 0 else 0.0})
    base_rows = [r for r in rows if r["group"] == "base"]
    rule_vh = rows[0]["vh"]
    base_job_vh = rule_vh / args.job_factor
    overhead = max(base_job_vh - sum(r["vh"] for r in base_rows), 0.0)
    rows.append({"stage": f"Beam / IO / shuffle overhead (job = rules / {args.job_factor:g})", "reach": None, "mbs": None,
                 "dps": None, "vh": overhead, "group": "base"})
    shuffle_gb = args.shuffle_passes * (dedup_reach or 0) / 1e9
    shuffle_cost = shuffle_gb * args.shuffle_gb
    total_vh = sum(r["vh"] for r in rows)
    total_cost = total_vh * per_vcpu_hour + shuffle_cost

    print()
    print(f"### Estimated cost to clean {args.tb:g} TB ({total_bytes / args.bytes_per_doc / 1e6:,.0f}M docs at "
          f"{args.bytes_per_doc:,.0f} B/doc) on Dataflow batch, {name} workers")
    print()
    print("| stage | per-core MB/s | docs/s/core | bytes reaching it | kept after | vCPU-hours | cost $ | share |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cost = r["vh"] * per_vcpu_hour
        mbs = f"{r['mbs']:.3f}" if r["mbs"] is not None else ""
        dps = f"{r['dps']:,.1f}" if r["dps"] is not None else ""
        reach_s = f"{r['reach'] / 1e9:,.0f} GB" if r["reach"] is not None else ""
        keep = f"{r['keep']:.1%}" if "keep" in r else ""
        if r.get("note"):
            keep += f" ({r['note']})"
        print(f"| {r['stage']} | {mbs} | {dps} | {reach_s} | {keep} | {r['vh']:,.0f} | {cost:,.0f} | {cost / total_cost:.1%} |")
    print(f"| Dataflow Shuffle ({args.shuffle_passes:g} passes x {(dedup_reach or 0) / 1e9:,.0f} GB) | | | | | | "
          f"{shuffle_cost:,.0f} | {shuffle_cost / total_cost:.1%} |")
    print(f"| **total** | | | {total_bytes / 1e9:,.0f} GB in | | **{total_vh:,.0f}** | **{total_cost:,.0f}** | 100% |")
    print()
    worker_h = total_vh / vcpus
    top = max(rows, key=lambda r: r["vh"])
    print(f"= {worker_h:,.0f} {name} worker-hours (e.g. {worker_h / 100:,.1f} h on 100 workers), "
          f"${per_vcpu_hour:.4f} per vCPU-hour all-in (vCPU ${args.vcpu_hour} + {mem_gb / vcpus:g} GB x ${args.gb_hour} "
          f"+ {disk_gb / vcpus:g} GB PD x ${args.pd_gb_hour}); dominant stage: {top['stage']} ({top['vh'] / total_vh:.0%} of vCPU-hours)")
    no_scorers = sum(r["vh"] for r in rows if r["group"] == "base")
    print(f"without the model scorers (the scale-run config): {no_scorers:,.0f} vCPU-hours, "
          f"${no_scorers * per_vcpu_hour + shuffle_cost:,.0f}")
    gpu_rows = [r for r in rows if r.get("name") in ("bert", "gpt2")]
    if gpu_rows:
        gh = sum(r["vh"] for r in gpu_rows) / args.gpu_speedup
        host = gh * vcpus * per_vcpu_hour
        print(f"GPU line (ASSUMPTION, no GPU measured here): bert+gpt2 on T4 at {args.gpu_speedup:g}x one core = {gh:,.0f} GPU-hours, "
              f"${gh * args.gpu_hour + host:,.0f} (T4 ${args.gpu_hour}/h + {name} host) instead of "
              f"${sum(r['vh'] for r in gpu_rows) * per_vcpu_hour:,.0f} on CPUs")
    print()
    print("Assumptions: prices are Dataflow batch list prices (us-central1) as stated in the flags, not re-fetched; one Python "
          "SDK process per vCPU, fully busy; the Beam overhead factor was measured on the local DirectRunner (bench_job), "
          "Dataflow's may differ; scorers see only Chinese text (their default langs) and each scores every document reaching "
          "the stage; the dedup drop share is an input, not a measurement; kept shares come from real documents of the "
          "shared data, whose junk share is lower than a raw crawl's (so later stages are, if anything, overestimated).")
    if source_fingerprint() != fingerprint:
        print(f"WARNING: telechat_ptd's source changed during this run ({fingerprint} -> {source_fingerprint()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
