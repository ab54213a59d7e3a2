#!/usr/bin/env python
"""Near-duplicate quality: precision, recall and F1 of removals on a labeled set built from
real documents, per edit type, Chinese and English, through the real ``ptd dedup`` job.

The labeled set
---------------
Originals: Chinese documents of at least 300 characters from ``../shared/data/zh``
(CLUECorpusSmall sample and THUCNews ``cnews_train.txt``, its ``label;;`` prefix removed) and
English ones from ``../shared/data/en`` plus Python's own documentation (``pydoc_data``, the
same source as the embedded sample). The pool is cleaned first: documents whose *exact*
5-gram Jaccard with another pool document is 0.3 or more are dropped (cnews repeats the same
article under several labels), so that every remaining pair is a true non-duplicate.

For each edit type a run holds ``--originals`` originals, one edited repost of each, and
hard negatives: ``--negatives`` other pool documents (same sources and topics: THUCNews
technology news, Python documentation), and for every fifth original a "shared lead"
document that copies the original's first 30% and continues with another document (a
different story under the same lead paragraph, exact Jaccard ~0.2). Edit types:
boilerplate (site navigation and footer lines added), sentence_deleted, typos (2-5% of the
characters, or of the words in English, replaced), truncated (to 80-90%),
punct_width_space (punctuation, full-width and spacing changes), traditional (s2t, Chinese
only), and ``all`` (every edit of every original in one run: clusters of 7 or 6).

Scoring (per cluster, independent of which member is kept): a cluster with k members and j
kept contributes k-j true removals if j >= 1, and k-1 true removals plus one false removal if
j == 0 (nothing of it survives); j-1 members are missed removals. A removed negative is a
false removal. Precision = true / (true + false), recall = true / (true + missed).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO

ZH_DIR = REPO / ".." / "shared" / "data" / "zh"
EN_DIR = REPO / ".." / "shared" / "data" / "en"
EDITS_ZH = ["boilerplate", "sentence_deleted", "typos", "truncated", "punct_width_space", "traditional"]
EDITS_EN = ["boilerplate", "sentence_deleted", "typos", "truncated", "punct_width_space"]
COMMON_ZH = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感"


def zh_pool() -> list[str]:
    docs = [line.strip() for line in (ZH_DIR / "clue_corpus_small_sample.txt").read_text(encoding="utf-8").splitlines()]
    for line in (ZH_DIR / "cnews_train.txt").read_text(encoding="utf-8").splitlines():
        docs.append(line.split(";;", 1)[1].strip() if ";;" in line[:20] else line.strip())
    return [d for d in docs if 300 <= len(d) <= 6000]


def en_pool() -> list[str]:
    from telechat_ptd.jobs.sample import english_docs

    docs = []
    for path in sorted(EN_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            docs.append(record.get("text") or record.get("data") or "")
    docs += english_docs(chunk_chars=1200)
    return [d for d in docs if 600 <= len(d) <= 8000]


def exact_shingles(text: str, zh: bool) -> set:
    from telechat_ptd.dedup.shingle import shingles

    return set(shingles(text, 5, 5, unit="char" if zh else "word"))


def clean_pool(docs: list[str], zh: bool, max_jaccard: float = 0.3) -> list[str]:
    """Drop documents too similar to an earlier kept one (exact Jaccard, not MinHash)."""
    kept, sets = [], []
    for doc in dict.fromkeys(docs):
        s = exact_shingles(doc, zh)
        if not s:
            continue
        if any(len(s & t) / len(s | t) >= max_jaccard for t in sets):
            continue
        kept.append(doc)
        sets.append(s)
    return kept


# --- edits ---------------------------------------------------------------------------------------


def split_sentences(text: str, zh: bool) -> list[str]:
    pattern = r"(?<=[。！？；])" if zh else r"(?<=[.!?])\s+"
    return [s for s in re.split(pattern, text) if s]


def edit(text: str, kind: str, zh: bool, rng: random.Random) -> str:
    if kind == "boilerplate":
        if zh:
            head = "首页 > 新闻中心 > 正文\n【字号：大 中 小】 打印本页 关闭窗口\n"
            tail = f"\n责任编辑：{rng.choice(['王伟', '李娜', '张敏'])}\n分享到：微信 微博 QQ空间\n版权所有 © 2019 某某网"
        else:
            head = "Home | News | Opinion | Sport | Contact\nSkip to main content\n"
            tail = "\nShare this article on Facebook Twitter\nRead more\nCopyright 2023 Example Media. All rights reserved."
        return head + text + tail
    if kind == "sentence_deleted":
        sents = split_sentences(text, zh)
        if len(sents) > 2:
            del sents[rng.randrange(1, len(sents) - 1)]
        return ("" if zh else " ").join(sents)
    if kind == "typos":
        rate = rng.uniform(0.02, 0.05)
        if zh:
            chars = list(text)
            han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
            for i in rng.sample(han, int(len(han) * rate)):
                chars[i] = rng.choice(COMMON_ZH)
            return "".join(chars)
        words = text.split(" ")
        for i in rng.sample(range(len(words)), int(len(words) * rate)):
            w = words[i]
            if len(w) > 2:
                j = rng.randrange(len(w))
                words[i] = w[:j] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[j + 1 :]
        return " ".join(words)
    if kind == "truncated":
        return text[: int(len(text) * rng.uniform(0.8, 0.9))]
    if kind == "punct_width_space":
        if zh:
            table = str.maketrans({"，": ",", "。": ".", "：": ":", "“": '"', "”": '"', "（": "(", "）": ")"})
            out = text.translate(table)
            out = "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or "a" <= c <= "z" else c for c in out)
            return re.sub(r"(?<=[.!?])", lambda m: rng.choice(["\n", "  ", " "]), out)
        out = text.replace(", ", " , ").replace(". ", ".\n").replace(";", ",")
        return re.sub(r" ", lambda m: rng.choice([" ", " ", "  "]), out)
    if kind == "traditional":
        from telechat_ptd.normalize.chinese import converter

        return converter("s2t").convert(text)
    raise ValueError(kind)


# --- one run -------------------------------------------------------------------------------------


def build_run(pool: list[str], kinds: list[str], zh: bool, n_orig: int, n_neg: int, seed: int):
    rng = random.Random(seed)
    n_lead = (n_orig + 4) // 5
    docs = rng.sample(pool, min(len(pool), n_orig + n_neg + n_lead))
    originals, negatives, continuations = docs[:n_orig], docs[n_orig : n_orig + n_neg], docs[n_orig + n_neg :]
    records, clusters = [], []
    for i, text in enumerate(originals):
        members = [f"c{i:04d}-orig"]
        records.append({"id": members[0], "text": text})
        for kind in kinds:
            members.append(f"c{i:04d}-{kind}")
            records.append({"id": members[-1], "text": edit(text, kind, zh, rng)})
        clusters.append(members)
    negs = [f"n{j:04d}" for j in range(len(negatives))]
    records += [{"id": nid, "text": t} for nid, t in zip(negs, negatives)]
    for k, i in enumerate(range(0, len(originals), 5)):
        if k >= len(continuations):
            break
        lead = originals[i][: len(originals[i]) * 3 // 10]
        other = continuations[k]  # a document not otherwise in the run
        negs.append(f"lead{i:04d}")
        records.append({"id": negs[-1], "text": lead + other[len(other) // 3 :]})
    return records, clusters, negs


def score(removed: set, clusters: list[list[str]], negatives: list[str]) -> dict:
    tp = fp = fn = 0
    for members in clusters:
        kept = sum(m not in removed for m in members)
        if kept == 0:
            tp += len(members) - 1
            fp += 1
        else:
            tp += len(members) - kept
            fn += kept - 1
    fp += sum(n in removed for n in negatives)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}


def run_ptd(records, overrides: list[str], workdir: Path) -> set:
    from telechat_ptd.pipeline.cli import run_job

    src = workdir / "docs.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = workdir / "out"
    run_job("dedup", [str(src)], str(out), None, overrides, [])
    import gzip

    removed = set()
    for path in (out / "rejected").glob("*.jsonl.gz"):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            record = json.loads(line)
            if record["reason"] in ("near_duplicate", "exact_duplicate"):
                removed.add(record["id"])
    return removed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--originals", type=int, default=150, help="originals per run (each gets one repost per edit)")
    ap.add_argument("--negatives", type=int, default=150, help="hard negatives per run")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="config override, as ptd --set")
    ap.add_argument("--quick", action="store_true", help="30 originals, 30 negatives")
    args = ap.parse_args(argv)
    if args.quick:
        args.originals = args.negatives = 30
    if not (ZH_DIR / "clue_corpus_small_sample.txt").is_file():
        sys.exit(f"dedup_quality: reference data not found in {ZH_DIR}")
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    started = time.perf_counter()
    pools = {"zh": clean_pool(zh_pool(), True), "en": clean_pool(en_pool(), False)}
    print(f"dedup_quality: pools after cleaning: zh {len(pools['zh'])}, en {len(pools['en'])} documents; "
          f"overrides {args.overrides or 'none (defaults)'}", flush=True)
    rows = []
    for lang, pool in pools.items():
        zh = lang == "zh"
        edits = EDITS_ZH if zh else EDITS_EN
        n_orig = min(args.originals, len(pool) // 3)
        n_neg = min(args.negatives, len(pool) - n_orig - (n_orig + 4) // 5)
        for kind in edits + ["all"]:
            kinds = edits if kind == "all" else [kind]
            records, clusters, negs = build_run(pool, kinds, zh, n_orig, n_neg, args.seed)
            with tempfile.TemporaryDirectory() as tmp:
                removed = run_ptd(records, args.overrides, Path(tmp))
            res = score(removed, clusters, negs)
            rows.append((lang, kind, len(clusters), len(negs), res))
            print(f"  {lang} {kind:<18} P {res['precision']:.3f} R {res['recall']:.3f} F1 {res['f1']:.3f}", flush=True)
    print()
    print("| lang | edit | clusters | negatives | true removals | false removals | missed | precision | recall | F1 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lang, kind, nc, nn, r in rows:
        print(f"| {lang} | {kind} | {nc} | {nn} | {r['tp']} | {r['fp']} | {r['fn']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    for lang in pools:
        per_edit = [r for lg, k, _, _, r in rows if lg == lang and k != "all"]
        macro = sum(r["f1"] for r in per_edit) / len(per_edit)
        print(f"{lang}: macro F1 over edit types {macro:.3f}; all-edits run F1 "
              f"{next(r['f1'] for lg, k, _, _, r in rows if lg == lang and k == 'all'):.3f}")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
