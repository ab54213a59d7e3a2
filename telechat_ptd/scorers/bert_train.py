"""Training of the BERT quality classifier (``ptd train-classifier``).

A BERT classifier normally starts from a pretrained checkpoint, but the pipeline must be able
to train one offline, where no Chinese checkpoint can be downloaded. So without ``base`` the
project pretrains its own small BERT first: a WordPiece vocabulary with BERT's normalization
(lowercase, every Chinese character its own word, as bert-base-chinese does) and a masked-LM
over reference text (People's Daily by default). Both stages are seeded and small enough for
two CPU cores in a few minutes; the result is a standard ``transformers`` folder that
``AutoModelForSequenceClassification`` and ``AutoTokenizer`` load, saved as safetensors.

The same ``fine_tune`` trains any binary text classifier (the toxicity scorer trains on COLD
with it), so the CSV column names and the label names are parameters.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from telechat_ptd.scorers.labeled import split_held_out
from telechat_ptd.scorers.metrics import binary_metrics
from telechat_ptd.scorers.modelpath import ModelPathError, local_copy

Log = Callable[[str], None]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass
class PretrainResult:
    path: Path
    documents: int
    sequences: int  # blocks of max_len tokens the masked LM trained on
    vocab_size: int
    steps: int
    loss: float  # mean masked-LM loss over the last logging window
    seconds: float


@dataclass
class ClassifierTrainResult:
    path: Path
    base: str  # the checkpoint fine-tuned
    train_examples: int
    held_out_examples: int
    accuracy: float  # held out, at probability 0.5
    precision: float  # of label 1
    recall: float  # of label 1
    roc_auc: float
    seconds: float
    pretrained: PretrainResult | None  # set when the base was pretrained by this call


# ---- masked-LM pretraining ---------------------------------------------------------------


def wordpiece_vocab(texts: Sequence[str], vocab_size: int, min_frequency: int = 2) -> list[str]:
    """A WordPiece vocabulary the way bert-base-chinese's is made up: single characters (every
    Chinese character is a word of its own after BERT's normalization), the same characters as
    ``##`` word continuations, then the most frequent whole words (Latin words, numbers) while
    room is left. A word outside it is spelled in characters, as WordPiece falls back.

    Counted here rather than by the ``tokenizers`` WordPiece trainer, which breaks ties
    between equally frequent merges in hash order: the same text must give the same
    vocabulary, or the seeded pretraining is not reproducible."""
    from collections import Counter

    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    split = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for text in texts for w, _ in split.pre_tokenize_str(normalizer.normalize_str(text)))
    first: Counter[str] = Counter()
    inner: Counter[str] = Counter()
    for word, n in words.items():
        first[word[0]] += n
        for ch in word[1:]:
            inner[ch] += n

    def frequent(counts: Counter[str]) -> list[str]:
        return sorted((k for k, n in counts.items() if n >= min_frequency), key=lambda k: (-counts[k], k))

    pieces = frequent(first) + ["##" + ch for ch in frequent(inner)]
    pieces += [w for w in frequent(words) if len(w) > 1][: max(0, vocab_size - len(SPECIAL_TOKENS) - len(pieces))]
    return SPECIAL_TOKENS + sorted(pieces[: vocab_size - len(SPECIAL_TOKENS)])


def train_tokenizer(texts: Sequence[str], vocab_size: int, max_len: int):
    """A BERT tokenizer (bert-base-chinese's normalization: lowercase, Chinese characters
    split) over the ``wordpiece_vocab`` of ``texts``."""
    from transformers import BertTokenizer

    vocab = wordpiece_vocab(texts, vocab_size)
    return BertTokenizer(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True,
                         tokenize_chinese_chars=True, model_max_length=max_len)


def pack(tokenizer, texts: Sequence[str], max_len: int):
    """The texts' tokens run together ([SEP] between documents) and cut into [CLS] ... [SEP]
    blocks of ``max_len`` tokens, so no step is spent on padding; the ragged tail is dropped."""
    import torch

    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]:
        stream += ids + [tokenizer.sep_token_id]
    width = max_len - 2
    blocks = [[tokenizer.cls_token_id] + stream[i : i + width] + [tokenizer.sep_token_id]
              for i in range(0, len(stream) - width + 1, width)]
    if not blocks:
        raise ValueError(f"reference text too short: {len(stream)} tokens, a block needs {width}")
    return torch.tensor(blocks, dtype=torch.long)


def _schedule(optimizer, steps: int):
    """Linear warm-up over the first tenth of the steps, then linear decay to zero."""
    import torch

    warm = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
    )


def _update(model, optimizer, schedule, loss) -> float:
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def _to(device, batch: dict) -> dict:
    return {k: v.to(device) for k, v in batch.items()}


def _mlm_loss(model, batch: dict):
    """Masked-LM loss with the vocabulary projection applied to the masked positions only:
    BertForMaskedLM projects every position, which costs most of a small model's step."""
    import torch

    hidden = model.bert(input_ids=batch["input_ids"]).last_hidden_state
    where = batch["labels"] != -100
    return torch.nn.functional.cross_entropy(model.cls(hidden[where]), batch["labels"][where])


def pretrain_mlm(texts: Iterable[str], out_dir: str | Path, vocab_size: int = 16000, layers: int = 2, dim: int = 128,
                 heads: int = 4, max_len: int = 128, steps: int = 300, batch_size: int = 32, lr: float = 2e-3,
                 dropout: float = 0.0, seed: int = 0, log_every: int = 50, device: str = "auto", log: Log = print) -> PretrainResult:
    """Train a WordPiece vocabulary and a small BertForMaskedLM on ``texts`` and save both into
    ``out_dir``. The model has ``max_len`` positions, no more: a scorer that windows documents
    by the model's positions then never reads a position no training step reached. Without
    dropout by default: a few hundred steps underfit rather than overfit. On a GPU
    (``device`` auto finds one) a wider model and thousands of steps take minutes."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling

    from telechat_ptd.device import resolve_device

    device = resolve_device(device)
    started = time.perf_counter()
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("pretrain_mlm: no reference text")
    if steps < 1:
        raise ValueError(f"pretrain_mlm: steps must be at least 1, got {steps}")
    torch.manual_seed(seed)
    tokenizer = train_tokenizer(texts, vocab_size, max_len)
    blocks = pack(tokenizer, texts, max_len)
    log(f"pretrain: {len(texts)} documents, vocabulary {len(tokenizer)}, {len(blocks)} blocks of {max_len} tokens")
    model = BertForMaskedLM(BertConfig(
        vocab_size=len(tokenizer), hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=4 * dim, max_position_embeddings=max_len, pad_token_id=tokenizer.pad_token_id,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )).to(device)
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = _schedule(optimizer, steps)
    rng = torch.Generator().manual_seed(seed)
    queue: list[int] = []
    window: list[float] = []
    model.train()
    for step in range(1, steps + 1):
        if len(queue) < batch_size:
            queue += torch.randperm(len(blocks), generator=rng).tolist()
        rows, queue = queue[:batch_size], queue[batch_size:]
        batch = _to(model.device, collate([{"input_ids": blocks[i]} for i in rows]))
        window.append(_update(model, optimizer, schedule, _mlm_loss(model, batch)))
        if step % log_every == 0 or step == steps:
            log(f"pretrain step {step:5d}/{steps}  mlm loss {sum(window) / len(window):.3f}")
            loss, window = sum(window) / len(window), []
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return PretrainResult(out, len(texts), len(blocks), len(tokenizer), steps, loss, time.perf_counter() - started)


# ---- fine-tuning -------------------------------------------------------------------------


def _batches(rows: list[tuple[str, int]], batch_size: int, rng: random.Random) -> list[list[tuple[str, int]]]:
    """Batches in random order, each of texts of similar length, drawn from a random stretch
    of the data: short and long documents padded together would waste most of a step."""
    rng.shuffle(rows)
    stretch = 50 * batch_size
    batches = []
    for start in range(0, len(rows), stretch):
        part = sorted(rows[start : start + stretch], key=lambda row: len(row[0]))
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _encode(tokenizer, texts: Sequence[str], max_len: int) -> dict:
    return tokenizer(list(texts), truncation=True, max_length=max_len, padding=True, return_tensors="pt")


def predict(model, tokenizer, texts: Sequence[str], max_len: int, batch_size: int = 64) -> list[float]:
    """Probability of label 1 for each text, read from its first ``max_len`` tokens."""
    import torch

    model.eval()
    probs: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            logits = model(**_to(model.device, _encode(tokenizer, texts[start : start + batch_size], max_len))).logits
            probs += torch.softmax(logits.float(), dim=-1)[:, 1].tolist()
    return probs


def fine_tune(positive: Sequence[str], negative: Sequence[str], out_dir: str | Path, base: str | None = None,
              reference_texts: Iterable[str] | None = None, pretrained_dir: str | Path | None = None,
              label_names: tuple[str, str] = ("lq", "hq"), held_out: float = 0.1, epochs: int = 3, max_len: int = 128,
              batch_size: int = 32, lr: float | None = None, pretrain_steps: int = 300, pretrain: dict | None = None,
              seed: int = 0, log_every: int = 25, device: str = "auto", log: Log = print) -> ClassifierTrainResult:
    """Fine-tune a sequence classifier on ``positive`` (label 1, ``label_names[1]``) against
    ``negative`` texts, both normalized as the pipeline's scorers see them
    (``labeled.labeled_texts``, ``reference.normalized``), and save it with its tokenizer into
    ``out_dir``. Metrics are measured on a ``held_out`` share of each class, never trained on.

    ``base``: a local folder, a gs:// / hdfs:// folder or a hub id of a BERT-style checkpoint.
    Without it, a small BERT is pretrained on ``reference_texts`` (People's Daily when None,
    normalized here) into ``pretrained_dir`` (default ``out_dir/pretrained``), or reused from
    there if that folder already holds one; ``pretrain`` holds further keywords of
    ``pretrain_mlm`` (layers, dim, heads, batch_size, lr). ``lr`` None: 1e-3 for the small BERT, 3e-5 for a
    ``base`` (a large pretrained model forgets at high rates). Texts are cut at ``max_len``
    tokens (at most the model's positions)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from telechat_ptd.device import resolve_device
    from telechat_ptd.scorers.reference import normalized, peoples_daily

    if not 0 < held_out < 1:
        raise ValueError(f"held_out must be between 0 and 1, got {held_out}")
    device = resolve_device(device)
    started = time.perf_counter()
    rng = random.Random(seed)
    pos_train, pos_held = split_held_out(positive, held_out, rng, "positive")
    neg_train, neg_held = split_held_out(negative, held_out, rng, "negative")
    train = [(t, 1) for t in pos_train] + [(t, 0) for t in neg_train]
    log(f"training on {len(pos_train):,} positive + {len(neg_train):,} negative; "
        f"holding out {len(pos_held):,} + {len(neg_held):,}")
    out = Path(out_dir)
    pretrained = None
    if base is None:
        cache = Path(pretrained_dir) if pretrained_dir else out / "pretrained"
        if (cache / "config.json").is_file() and (cache / "model.safetensors").is_file():
            log(f"pretrain: reusing the model in {cache} (delete it to pretrain again)")
        else:
            reference = normalized(reference_texts if reference_texts is not None else peoples_daily())
            pretrained = pretrain_mlm(reference, cache, steps=pretrain_steps, seed=seed, device=device, log=log, **(pretrain or {}))
        base, lr = str(cache), lr or 1e-3
    lr = lr or 3e-5
    torch.manual_seed(seed)
    try:
        local = local_copy(base)
        tokenizer = AutoTokenizer.from_pretrained(local)
        model = AutoModelForSequenceClassification.from_pretrained(
            local, num_labels=2, id2label=dict(enumerate(label_names)), label2id={n: i for i, n in enumerate(label_names)},
        )
    except (OSError, ValueError) as exc:
        raise ModelPathError(f"base model {base}: cannot load it as a sequence classifier: {exc}") from None
    model.to(device)
    positions = getattr(model.config, "max_position_embeddings", max_len)
    if max_len > positions:
        log(f"max_len {max_len} cut to {positions}, the model's positions")
        max_len = positions
    steps = epochs * math.ceil(len(train) / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = _schedule(optimizer, steps)
    window: list[float] = []
    step = 0
    model.train()
    for epoch in range(1, epochs + 1):
        for part in _batches(train, batch_size, rng):
            batch = _encode(tokenizer, [text for text, _ in part], max_len)
            batch["labels"] = torch.tensor([label for _, label in part])
            batch = _to(model.device, batch)
            window.append(_update(model, optimizer, schedule, model(**batch).loss))
            step += 1
            if step % log_every == 0 or step == steps:
                log(f"fine-tune epoch {epoch} step {step:5d}/{steps}  loss {sum(window) / len(window):.4f}")
                window = []
    probs = predict(model, tokenizer, pos_held + neg_held, max_len)
    metrics = binary_metrics([1] * len(pos_held) + [0] * len(neg_held), probs)
    tokenizer.model_max_length = max_len  # what the classifier was trained to read
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps(
        {"base": base, "train": len(train), "held_out": len(probs), "max_len": max_len, **metrics}, indent=1))
    return ClassifierTrainResult(out, base, len(train), len(probs), seconds=time.perf_counter() - started,
                                 pretrained=pretrained, **metrics)
