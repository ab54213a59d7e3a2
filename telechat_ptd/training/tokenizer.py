"""TeleChat's tokenizer recipe: byte-level BPE (Hugging Face ``tokenizers``), digits split one by
one, TeleChat's special tokens plus reserved slots, saved so that
``transformers.AutoTokenizer.from_pretrained(DIR)`` loads it offline.

Byte-level means no unknown token is ever produced: any UTF-8 text round-trips. Digits are
split so numbers are read digit by digit (as TeleChat and LLaMA do) instead of as arbitrary
merged chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SPECIAL_TOKENS = ["<_unk>", "<_start>", "<_end>", "<_pad>", "<_user>", "<_bot>", "<_system>"]
RESERVED = 64  # <_reserved_0> ... for later chat roles and tools, without retraining


def special_tokens(reserved: int = RESERVED) -> list[str]:
    return SPECIAL_TOKENS + [f"<_reserved_{i}>" for i in range(reserved)]


def build(vocab_size: int):
    """An untrained tokenizer and its trainer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=special_tokens(),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    return tok, trainer


@dataclass
class TrainResult:
    path: Path
    vocab_size: int
    documents: int
    characters: int
    seconds: float


def train(texts: Iterable[str], out_dir: str | Path, vocab_size: int = 160_256) -> TrainResult:
    """Train on ``texts`` (streamed once) and save a ``transformers`` tokenizer into ``out_dir``."""
    from transformers import PreTrainedTokenizerFast

    counted = {"docs": 0, "chars": 0}

    def stream() -> Iterator[str]:
        for text in texts:
            counted["docs"] += 1
            counted["chars"] += len(text)
            yield text

    started = time.perf_counter()
    tok, trainer = build(vocab_size)
    tok.train_from_iterator(stream(), trainer)
    seconds = time.perf_counter() - started
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<_unk>", bos_token="<_start>", eos_token="<_end>", pad_token="<_pad>",
        additional_special_tokens=special_tokens()[4:], model_max_length=1_000_000_000, clean_up_tokenization_spaces=False,
    )
    out = Path(out_dir)
    fast.save_pretrained(out)
    return TrainResult(out, tok.get_vocab_size(), counted["docs"], counted["chars"], seconds)


def chars_per_token(encode, texts: list[str]) -> float:
    """Characters per token over ``texts`` with ``encode(text) -> list of ids``: higher packs more
    text into a context window."""
    chars = sum(len(t) for t in texts)
    tokens = sum(len(encode(t)) for t in texts)
    return chars / max(1, tokens)


def split_held_out(texts: Iterable[str], every: int = 50, cap: int = 2000) -> tuple[Iterator[str], list[str]]:
    """(training stream, held-out list): every ``every``-th document is held out (up to ``cap``)
    and never trained on, so characters per token are measured on unseen text."""
    held: list[str] = []

    def training() -> Iterator[str]:
        for i, text in enumerate(texts):
            if i % every == every - 1 and len(held) < cap:
                held.append(text)
            else:
                yield text

    return training(), held


def held_out_report(tokenizer_dir: str | Path, held: list[str]) -> dict[str, tuple[int, float]]:
    """Language -> (documents, characters per token) on the held-out documents."""
    from transformers import AutoTokenizer

    from telechat_ptd.filters import language
    from telechat_ptd.filters.view import TextView
    from telechat_ptd.pipeline.config import load_config

    lang_cfg = load_config().filters.lang
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    by_lang: dict[str, list[str]] = {}
    for text in held:
        by_lang.setdefault(language.detect(TextView(text), lang_cfg), []).append(text)
    encode = lambda t: tok.encode(t, add_special_tokens=False)  # noqa: E731
    return {lang: (len(docs), chars_per_token(encode, docs)) for lang, docs in sorted(by_lang.items())}
