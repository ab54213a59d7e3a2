"""Which torch device a model trains or scores on: scorers and trainers share ``auto`` so that
one flag means the same thing everywhere (a GPU worker uses its GPU without a config change)."""

from __future__ import annotations

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> str:
    """``auto``: the GPU when torch sees one, else the CPU. Asking for ``cuda`` where torch
    sees none is an error that says so before any model is built, not torch's assertion from
    deep inside the first ``.to()``."""
    if device not in DEVICES and not device.startswith("cuda:"):
        raise ValueError(f"device {device!r}: choose from {', '.join(DEVICES)} (or cuda:N)")
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda" if device == "auto" else device
    if device == "auto":
        return "cpu"
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    raise ValueError(f"device {device!r}: torch {torch.__version__} ({build}) sees no GPU; use --device auto or cpu")
