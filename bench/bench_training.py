#!/usr/bin/env python
"""From shards to training data: tokenizer quality and speed, packing speed and mix, and the
curriculum on a toy mixture.

1. Tokenizer: ours (byte-level BPE, ``tokenizers``) and the anchor, ``sentencepiece`` BPE
   (TeleChat-12B's tokenizer type), trained in the same run on the same text at the same
   vocabulary size; characters per token on held-out Chinese and English from ../shared/data.
2. Packing: tokens/s with 1 and 2 worker processes; token shares in the packed output against
   the shares the weights ask for; chat mode's padding fraction.
3. Curriculum: an easy (templated) and a hard (People's Daily) dataset; reference losses from
   ``fit_prior``, then static and curriculum mixing from the same start.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, source_fingerprint

SHARED = REPO / ".." / "shared" / "data"


def write_shard(path: Path, docs: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps({"data": d}, ensure_ascii=False) + "\n" for d in docs).encode()))


def real_text() -> tuple[list[str], dict[str, list[str]]]:
    """(training documents, held-out documents by language): CLUE, THUCNews, People's Daily and
    English web text; every 10th CLUE/cnews line, every 3rd English one and all of news_zh_sample
    held out."""
    from telechat_ptd.jobs.sample import peoples_daily_articles

    def lines(name: str) -> list[str]:
        path = SHARED / name
        if path.suffix == ".jsonl":
            return [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        return [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]

    train, held = [], {"zh": [], "en": []}
    for name, lang in (("zh/clue_corpus_small_sample.txt", "zh"), ("zh/cnews_train.txt", "zh"),
                       ("en/cc_en_head-0091.jsonl", "en"), ("en/redpajama_cc_2023_06_refined.jsonl", "en")):
        every = 10 if lang == "zh" else 3  # the English files are small
        for i, line in enumerate(lines(name)):
            (held[lang] if i % every == every - 1 else train).append(line)
    held["zh"] += lines("zh/news_zh_sample.txt")
    return train + peoples_daily_articles(), held


def bench_tokenizer(tmp: Path, vocab: int) -> Path:
    import sentencepiece as spm
    from transformers import AutoTokenizer

    from telechat_ptd.training.tokenizer import chars_per_token, train

    docs, held = real_text()
    mb = sum(len(d.encode()) for d in docs) / 1e6
    ours = train(docs, tmp / "tok", vocab)
    (tmp / "spm.txt").write_text("\n".join(d.replace("\n", " ") for d in docs), encoding="utf-8")
    started = time.perf_counter()
    spm.SentencePieceTrainer.train(input=str(tmp / "spm.txt"), model_prefix=str(tmp / "spm"), vocab_size=vocab, model_type="bpe",
                                   byte_fallback=True, character_coverage=0.9995, split_digits=True, num_threads=2,
                                   input_sentence_size=0, max_sentence_length=1 << 20, minloglevel=2)
    spm_seconds = time.perf_counter() - started
    sp = spm.SentencePieceProcessor(model_file=str(tmp / "spm.model"))
    tok = AutoTokenizer.from_pretrained(str(tmp / "tok"))
    print(f"1. tokenizer, vocabulary {vocab:,}, trained on {len(docs):,} real documents ({mb:.1f} MB)")
    print(f"   training time: ours {ours.seconds:.1f} s ({mb / ours.seconds:.2f} MB/s -> ~{100 / (mb / ours.seconds) / 60:.1f} min for 100 MB), "
          f"sentencepiece BPE {spm_seconds:.1f} s ({mb / spm_seconds:.2f} MB/s)")
    for lang, texts in held.items():
        a = chars_per_token(lambda t: tok.encode(t, add_special_tokens=False), texts)
        b = chars_per_token(sp.encode, texts)
        print(f"   held-out {lang} ({len(texts):,} docs): ours {a:.3f} chars/token, sentencepiece {b:.3f}, ours/anchor {a / b:.3f}")
    return tmp / "tok"


def bench_pack(tmp: Path, tok: Path) -> None:
    from telechat_ptd.jobs.sample import english_docs, peoples_daily_articles
    from telechat_ptd.training.chat import pack_chat
    from telechat_ptd.training.pack import pack

    docs, _ = real_text()
    zh = [d for d in docs if not d.isascii()]
    write_shard(tmp / "p" / "zh" / "0.jsonl.gz", zh)
    write_shard(tmp / "p" / "en" / "0.jsonl.gz", english_docs())
    spec = {str(tmp / "p" / "zh"): 0.5, str(tmp / "p" / "en"): 3.0}
    timings = {}
    for workers in (1, 2):
        result = pack(spec, tok, tmp / f"packed{workers}", max_seq_len=2048, seed=0, workers=workers)
        timings[workers] = result
    one, two = timings[1], timings[2]
    print(f"2. packing {one.tokens:,} tokens into {one.samples:,} samples of 2048")
    print(f"   1 worker : {one.tokens / one.seconds:,.0f} tokens/s;  2 workers: {two.tokens / two.seconds:,.0f} tokens/s "
          f"(speed-up {one.seconds / two.seconds:.2f}x); identical output: "
          f"{(tmp / 'packed1' / 'tokens.npy').read_bytes() == (tmp / 'packed2' / 'tokens.npy').read_bytes()}")
    asked = {n: s["tokens"] for n, s in one.per_dataset.items()}
    total = sum(asked.values())
    for name, s in one.per_dataset.items():
        print(f"   {Path(name).name}: weight {s['weight']:g}, documents used {s['used']:,} / {s['documents']:,} "
              f"(expected {s['weight'] * s['documents']:,.0f}); token share in samples {s['tokens_in_samples'] / one.tokens:.4f} "
              f"vs {asked[name] / total:.4f} from the weights")
    rng = random.Random(0)
    arts = peoples_daily_articles()
    dialogues = [{"input": rng.choice(arts)[: rng.randint(10, 200)], "output": rng.choice(arts)[: rng.randint(20, 600)]}
                 for _ in range(3000)]
    chat = pack_chat(dialogues, tok, tmp / "chat", max_seq_len=2048)
    print(f"   chat mode: {chat.dialogues:,} dialogues in {chat.samples:,} samples, padding fraction {chat.padding_fraction:.2%}")


def bench_curriculum(tmp: Path, steps: int) -> None:
    from telechat_ptd.jobs.sample import peoples_daily_articles
    from telechat_ptd.training.lm import LMConfig, fit_prior, plot, train
    from telechat_ptd.training.pack import pack
    from telechat_ptd.training.tokenizer import train as train_tokenizer

    rng = random.Random(0)
    easy = ["".join(f"今天是星期{rng.choice('一二三四五六日')}，天气{rng.choice(['晴', '多云', '小雨', '阴'])}，气温{rng.randint(10, 30)}度。"
                    for _ in range(20)) for _ in range(600)]
    hard = peoples_daily_articles()[:1500]
    write_shard(tmp / "c" / "easy" / "0.jsonl.gz", easy)
    write_shard(tmp / "c" / "hard" / "0.jsonl.gz", hard)
    train_tokenizer(easy + hard, tmp / "c" / "tok", 2000)
    pack({str(tmp / "c" / "easy"): 1.0, str(tmp / "c" / "hard"): 1.0}, tmp / "c" / "tok", tmp / "c" / "packed", max_seq_len=128)
    cfg = LMConfig(steps=steps)
    started = time.perf_counter()
    prior = fit_prior(tmp / "c" / "packed", cfg)
    static = train(tmp / "c" / "packed", None, cfg, weights={"easy": 1, "hard": 1})
    curriculum = train(tmp / "c" / "packed", None, cfg, curriculum=True, reference=prior, weights={"easy": 1, "hard": 1})
    seconds = time.perf_counter() - started
    out = REPO / "bench" / "curriculum_curves.png"
    plot(static, curriculum, out)
    print(f"3. curriculum, toy mixture easy (templated) + hard (People's Daily), {steps} steps per run, 5 runs in {seconds:.0f} s")
    print("   reference losses (fit_prior): " + ", ".join(f"{n} {v:.3f}" for n, v in prior.items()))
    for name in ("easy", "hard"):
        print(f"   {name}: final loss static {static[-1]['losses'][name]:.3f}, curriculum {curriculum[-1]['losses'][name]:.3f}; "
              f"curriculum weight {curriculum[0]['weights'][name]:.2f} -> {curriculum[-1]['weights'][name]:.2f}")
    print(f"   curves: {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab", type=int, default=32000, help="vocabulary size for both tokenizers (default 32000)")
    ap.add_argument("--steps", type=int, default=300, help="steps per language-model run (default 300)")
    ap.add_argument("--parts", default="tokenizer,pack,curriculum", help="comma-separated parts to run (default: all)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    print(f"bench_training  code {source_fingerprint()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if parts & {"tokenizer", "pack"}:
            tok = bench_tokenizer(tmp, args.vocab)
        if "pack" in parts:
            bench_pack(tmp, tok)
        if "curriculum" in parts:
            bench_curriculum(tmp, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
