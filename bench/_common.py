"""Helpers shared by the bench scripts: the input corpus and a fingerprint of the code measured."""

from __future__ import annotations

import hashlib
import sys
from importlib.util import find_spec
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO / ".." / "shared" / "data" / "zh" / "clue_corpus_small_sample.txt"


def source_fingerprint() -> str:
    """sha1 of telechat_ptd's *.py and *.yaml files (found without importing the package).

    Others edit the package while benchmarks run; equal fingerprints mean comparable runs.
    """
    spec = find_spec("telechat_ptd")
    if spec is None or not spec.submodule_search_locations:
        return "telechat_ptd not found"
    root = Path(list(spec.submodule_search_locations)[0])
    h = hashlib.sha1()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:10]


def load_lines(path: Path, prog: str) -> list[bytes]:
    """Non-empty lines of the input corpus (one document per line), as UTF-8 bytes."""
    if not path.is_file():
        sys.exit(
            f"{prog}: input file not found: {path}\n"
            "  expected the CLUE sample at ../shared/data/zh/clue_corpus_small_sample.txt "
            "(relative to the repository root); pass --input PATH"
        )
    lines = [ln.rstrip(b"\r") for ln in path.read_bytes().split(b"\n")]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        sys.exit(f"{prog}: {path} holds no non-empty lines")
    return lines
