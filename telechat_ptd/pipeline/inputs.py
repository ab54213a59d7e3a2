"""INPUT arguments to a sorted list of (path, size): files, globs and directories.

Expanded on the driver so that a typo fails before any worker starts, naming the argument.
"""

from __future__ import annotations

import os

from apache_beam.io.filesystems import FileSystems

from telechat_ptd.pipeline.readers import UnsupportedInput, detect

_GLOB = set("*?[")
SUPPORTED = ".jsonl/.json/.txt (plain, .gz, .zst), .parquet or .warc/.wet (plain, .gz) files"


class InputError(ValueError):
    pass


def _supported(path: str) -> bool:
    try:
        detect(path)
    except UnsupportedInput:
        return False
    return True


def expand_inputs(inputs: list[str]) -> list[tuple[str, int]]:
    files: dict[str, int] = {}
    for arg in inputs:
        if "://" not in arg and os.path.isdir(arg):
            found = [
                os.path.join(root, name)
                for root, _, names in os.walk(arg)
                for name in names
                if _supported(name) and not name.startswith(".")
            ]
            if not found:
                raise InputError(f"directory '{arg}' holds no {SUPPORTED}")
            for path in found:
                files[os.path.abspath(path)] = os.path.getsize(path)
            continue
        pattern = arg + "**" if arg.endswith("/") else arg
        if "://" not in pattern:
            pattern = os.path.abspath(pattern)
        try:
            matches = [m for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception as exc:  # Beam raises BeamIOError with the cause inside
            raise InputError(f"cannot list '{arg}': {exc}") from None
        if not matches:
            raise InputError(f"no input files match '{arg}'")
        is_pattern = bool(_GLOB & set(arg)) or arg.endswith("/")
        for m in matches:
            if is_pattern and not _supported(m.path):
                continue
            try:
                detect(m.path)
            except UnsupportedInput as exc:
                raise InputError(str(exc)) from None
            files[m.path] = m.size_in_bytes
        if is_pattern and not any(_supported(m.path) for m in matches):
            raise InputError(f"'{arg}' matches no {SUPPORTED}")
    return sorted(files.items())
