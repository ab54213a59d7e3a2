"""Transformer scorers for Beam's RunInference: perplexity under a causal LM (GPT-2) and the
probability of a sequence classifier (BERT quality, later toxicity).

Beam's own Hugging Face handlers import TensorFlow, so these are small ``ModelHandler``
subclasses of our own. Whole documents go in and one signal dict per document comes out:

- A document is never truncated: its tokens are cut into consecutive windows that fit the
  model, every window is scored, and the windows are aggregated (total NLL over total tokens
  for perplexity; token-weighted mean probability for a classifier, as ChineseWebText's
  BERTEval does), so a long page's tail counts as much as its head.
- Inside a Beam batch the windows of all documents are sorted by length and cut into
  sub-batches under a token budget, each padded only to its own longest window: one long
  document neither blows the memory up nor pads a hundred short ones.
- ``load_model`` returns an object whose ``score`` method does the work, so the same handler
  runs with a model per worker process (Beam's default sharing) or one model shared by the
  processes of a machine (``large_model`` / ``model_copies``, through Beam's proxy).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import ModelHandler

from telechat_ptd.device import resolve_device
from telechat_ptd.scorers.modelpath import ModelPathError, check_model, local_copy

Signals = dict[str, float | str | None]

# A model folder from save_pretrained: the config plus the tokenizer saved next to it.
REQUIRED = ("config.json", "tokenizer_config.json")


def windows(ids: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive pieces of at most ``size`` tokens covering all of ``ids``."""
    if size < 1:
        raise ValueError(f"window of {size} tokens: the model leaves no room for text")
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def length_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices grouped longest first, each group padded to its first (longest) length holding
    at most ``token_budget`` tokens (a window longer than the budget goes alone)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and (len(groups[-1]) + 1) * lengths[groups[-1][0]] <= token_budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def load_pretrained(path: str, auto_class: Any, device: str, threads: int | None, what: str):
    """(model in eval mode on ``device``, tokenizer) from a save_pretrained folder, local or
    remote. Weights come from safetensors when the folder has them; a pickled checkpoint is
    read with torch.load(weights_only=True), which runs no code from the file."""
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    hf_logging.disable_progress_bar()  # one bar per worker per model would flood the job's log
    if threads:
        torch.set_num_threads(threads)
    check_model(path, REQUIRED, what)
    local = local_copy(path)
    safetensors = any(name.endswith(".safetensors") for name in os.listdir(local))
    try:
        tokenizer = AutoTokenizer.from_pretrained(local)
        model = auto_class.from_pretrained(local, use_safetensors=safetensors, weights_only=True)
    except (OSError, ValueError) as exc:
        raise ModelPathError(f"{what}: cannot load {path} as {auto_class.__name__}: {exc}") from None
    return model.to(resolve_device(device)).eval(), tokenizer


class _Loaded:
    """A model and its tokenizer with the handler's scoring settings."""

    def __init__(self, model, tokenizer, max_tokens: int, batch_tokens: int, signal: str):
        limit = getattr(model.config, "max_position_embeddings", None)
        self.model = model
        self.tokenizer = tokenizer
        self.window = min(max_tokens, limit) if limit else max_tokens
        self.batch_tokens = batch_tokens
        self.signal = signal
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def _ids(self, texts: list[str]) -> list[list[int]]:
        # verbose=False: long documents are windowed below, the length warning does not apply.
        return self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"] if texts else []

    def _forward(self, rows: list[list[int]]):
        """Right-padded ``rows`` through the model: (float32 logits, input ids, attention mask)."""
        import torch

        width = max(len(r) for r in rows)
        device = self.model.device
        ids = torch.tensor([r + [self.pad_id] * (width - len(r)) for r in rows], device=device)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
        return self.model(input_ids=ids, attention_mask=mask).logits.float(), ids, mask


class PerplexityModel(_Loaded):
    """A causal LM scoring documents by per-token perplexity.

    Every window starts with the model's start token (``config.bos_token_id``; our reference
    GPT-2's is ``<_end>``, the separator it saw before every training document), so each
    token of the document is predicted. A model without one predicts from the second token of
    each window."""

    def __init__(self, model, tokenizer, max_tokens: int = 512, batch_tokens: int = 4096, signal: str = "gpt2_perplexity"):
        super().__init__(model, tokenizer, max_tokens, batch_tokens, signal)
        start = model.config.bos_token_id
        self.start = [start] if isinstance(start, int) else []

    def nll(self, texts: list[str]) -> list[tuple[float, int]]:
        """(summed negative log-likelihood in nats, predicted tokens) per text."""
        import torch

        rows: list[list[int]] = []
        owner: list[int] = []
        for k, ids in enumerate(self._ids(texts)):
            for piece in windows(ids, self.window - len(self.start)):
                rows.append(self.start + piece)
                owner.append(k)
        totals = [0.0] * len(texts)
        counts = [0] * len(texts)
        with torch.inference_mode():
            for group in length_batches([len(r) for r in rows], self.batch_tokens):
                logits, ids, mask = self._forward([rows[i] for i in group])
                # Position t predicts token t + 1; the last position and padding predict nothing.
                # Targets are shifted rather than logits sliced: the logits stay contiguous.
                keep = torch.zeros_like(mask)
                keep[:, :-1] = mask[:, 1:]
                targets = torch.zeros_like(ids)
                targets[:, :-1] = ids[:, 1:]
                loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
                sums = (loss.view_as(ids) * keep).sum(dim=1).tolist()
                for i, total, n in zip(group, sums, keep.sum(dim=1).tolist()):
                    totals[owner[i]] += total
                    counts[owner[i]] += int(n)
        return list(zip(totals, counts))

    def score(self, texts: Sequence[str]) -> list[Signals]:
        return [{self.signal: math.exp(total / n) if n else None} for total, n in self.nll(list(texts))]


def special_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a single text ([CLS] and [SEP]
    for BERT), read off an encoding, since ``transformers`` 5 has no public call that adds
    them to ids."""
    enc = tokenizer("x", add_special_tokens=True, return_special_tokens_mask=True)
    ids, special = enc["input_ids"], enc["special_tokens_mask"]
    text = [i for i, s in enumerate(special) if not s]
    return ids[: text[0]], ids[text[-1] + 1 :]


class ClassifierModel(_Loaded):
    """A sequence classifier scoring documents by the probability of one label.

    Each window gets the tokenizer's own special tokens ([CLS] ... [SEP] for BERT) and counts
    by the number of document tokens it holds."""

    def __init__(self, model, tokenizer, max_tokens: int = 512, batch_tokens: int = 8192, signal: str = "bert_quality",
                 label: int = 1):
        super().__init__(model, tokenizer, max_tokens, batch_tokens, signal)
        labels = model.config.num_labels
        if labels > 1 and not 0 <= label < labels:
            raise ValueError(f"label {label} out of range: the model has {labels} labels")
        self.label = label
        self.prefix, self.suffix = special_frame(tokenizer)
        self.room = self.window - len(self.prefix) - len(self.suffix)

    def score(self, texts: Sequence[str]) -> list[Signals]:
        import torch

        rows: list[list[int]] = []
        owner: list[int] = []
        weight: list[int] = []
        for k, ids in enumerate(self._ids(list(texts))):
            for piece in windows(ids, self.room):
                rows.append(self.prefix + piece + self.suffix)
                owner.append(k)
                weight.append(len(piece))
        sums = [0.0] * len(texts)
        counts = [0] * len(texts)
        with torch.inference_mode():
            for group in length_batches([len(r) for r in rows], self.batch_tokens):
                logits, _, _ = self._forward([rows[i] for i in group])
                if logits.size(-1) == 1:
                    probs = torch.sigmoid(logits[:, 0])
                else:
                    probs = torch.softmax(logits, dim=-1)[:, self.label]
                for i, p in zip(group, probs.tolist()):
                    sums[owner[i]] += weight[i] * p
                    counts[owner[i]] += weight[i]
        return [{self.signal: s / n if n else None} for s, n in zip(sums, counts)]


class _TransformerHandler(ModelHandler[str, Signals, _Loaded]):
    """Documents (str) in, one signal dict per document out."""

    REQUIRED = REQUIRED

    def __init__(self, model_path: str, *, signal: str, max_tokens: int, batch_tokens: int, batch_size: int = 16,
                 device: str = "auto", threads: int | None = 1, large_model: bool = False, model_copies: int | None = None):
        """``batch_size``: documents per model call (Beam's BatchElements min and max).
        ``max_tokens``: tokens per window, capped at the model's positions. ``batch_tokens``:
        padded tokens per forward pass. ``threads``: torch threads per process; 1 by default
        because Beam's worker processes are the parallelism on a CPU machine (None leaves
        torch's own choice). ``large_model`` / ``model_copies``: share models between the
        processes of a machine (a GPU) instead of loading one per process."""
        super().__init__(min_batch_size=batch_size, max_batch_size=batch_size, large_model=large_model, model_copies=model_copies)
        self.batch_size = batch_size
        self.model_path = model_path
        self.signal = signal
        self.max_tokens = max_tokens
        self.batch_tokens = batch_tokens
        self.device = device
        self.threads = threads

    def run_inference(self, batch: Sequence[str], model: _Loaded, inference_args: dict[str, Any] | None = None) -> Iterable[Signals]:
        return model.score(list(batch))

    def get_num_bytes(self, batch: Sequence[str]) -> int:
        return sum(len(text.encode("utf-8")) for text in batch)

    def get_metrics_namespace(self) -> str:
        return f"ptd_{self.signal}"

    def update_model_path(self, model_path: str | None = None):
        self.model_path = model_path or self.model_path


class CausalLMPerplexity(_TransformerHandler):
    """RunInference handler: {"gpt2_perplexity": float | None (no tokens)} per document, under any
    causal LM folder (``ptd train-lm --input``, or a downloaded GPT-2)."""

    def __init__(self, model_path: str, *, signal: str = "gpt2_perplexity", max_tokens: int = 512, batch_tokens: int = 4096,
                 **options):
        super().__init__(model_path, signal=signal, max_tokens=max_tokens, batch_tokens=batch_tokens, **options)

    def load_model(self) -> PerplexityModel:
        from transformers import AutoModelForCausalLM

        model, tokenizer = load_pretrained(self.model_path, AutoModelForCausalLM, self.device, self.threads,
                                           f"{self.signal} model")
        return PerplexityModel(model, tokenizer, self.max_tokens, self.batch_tokens, self.signal)


class SequenceClassifier(_TransformerHandler):
    """RunInference handler: {signal: P(label)} per document from a sequence-classification
    folder (``bert_quality`` and label 1 = high quality for ``ptd train-classifier``)."""

    def __init__(self, model_path: str, *, signal: str = "bert_quality", label: int = 1, max_tokens: int = 512,
                 batch_tokens: int = 8192, **options):
        super().__init__(model_path, signal=signal, max_tokens=max_tokens, batch_tokens=batch_tokens, **options)
        self.label = label

    def load_model(self) -> ClassifierModel:
        from transformers import AutoModelForSequenceClassification

        model, tokenizer = load_pretrained(self.model_path, AutoModelForSequenceClassification, self.device,
                                           self.threads, f"{self.signal} model")
        return ClassifierModel(model, tokenizer, self.max_tokens, self.batch_tokens, self.signal, self.label)


def score_texts(handler: _TransformerHandler, texts: list[str]) -> list[Signals]:
    """What RunInference with ``handler`` gives for ``texts``, without a pipeline."""
    return list(handler.run_inference(texts, handler.load_model()))


class Scorer:
    """The scorers' common interface over a handler, for evaluation scripts: the model is
    loaded once, at ``load``, and documents go to it ``batch_size`` at a time as in the job."""

    REQUIRED = REQUIRED
    KINDS: dict[str, type[_TransformerHandler]] = {"perplexity": CausalLMPerplexity, "classifier": SequenceClassifier}

    def __init__(self, handler: _TransformerHandler):
        self.handler = handler
        self.signals = (handler.signal,)
        self.model = handler.load_model()

    @classmethod
    def load(cls, path: str, kind: str = "perplexity", **options) -> "Scorer":
        """``kind``: perplexity (a causal LM) or classifier; ``options`` go to its handler."""
        if kind not in cls.KINDS:
            raise ValueError(f"unknown scorer kind {kind!r}; choose from {', '.join(cls.KINDS)}")
        return cls(cls.KINDS[kind](path, **options))

    def score(self, texts: list[str]) -> list[Signals]:
        size = self.handler.batch_size
        return [row for i in range(0, len(texts), size) for row in self.handler.run_inference(texts[i : i + size], self.model)]
