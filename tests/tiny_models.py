"""Tiny scorer models, trained in seconds from People's Daily, for the tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from telechat_ptd.scorers.degrade import degrade
from telechat_ptd.training.lm import LMConfig

GPT2_WINDOW = 64  # the tiny GPT-2's context: long documents span many windows


def kenlm_model(docs: list[str], out: Path) -> Path:
    from telechat_ptd.scorers.kenlm_lm import train_kenlm

    return train_kenlm(docs, out, order=4, memory="100M", log=lambda _: None).path


def fasttext_model(docs: list[str], out: Path) -> Path:
    from telechat_ptd.scorers.fasttext_quality import train_fasttext

    half = len(docs) // 2
    negative = [text for _, text in degrade(docs[half:], seed=1)]
    return train_fasttext(docs[:half], negative, out / "quality.bin", epoch=5, dim=16, bucket=20_000, log=lambda _: None).path


def gpt2_model(docs: list[str], out: Path, held_out_every: int = 30):
    """(folder, train result) of a one-layer GPT-2 with a 1,000-token BPE."""
    from telechat_ptd.scorers.gpt2_lm import train_reference_lm

    cfg = LMConfig(steps=300, batch_size=8, lr=1e-2, n_layer=1, n_embd=64, n_head=2, eval_every=150, eval_samples=4)
    result = train_reference_lm(docs, out, vocab_size=1000, max_seq_len=GPT2_WINDOW, cfg=cfg, held_out_every=held_out_every, log=None)
    return out, result


def bert_classifier(docs: list[str], out: Path) -> Path:
    """A randomly initialized two-label BERT with a character vocabulary, saved like ptd
    train-classifier's: enough to test windows, batching and the pipeline's wiring."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    chars = [c for c, _ in Counter("".join(docs)).most_common(600)]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars)}
    BertTokenizer(vocab=vocab).save_pretrained(out)
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                     intermediate_size=64, max_position_embeddings=64, num_labels=2))
    model.save_pretrained(out)
    return out
