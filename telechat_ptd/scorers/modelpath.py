"""Model locations: local paths or any Beam filesystem (gs://, hdfs://, s3://).

Dataflow and Flink workers cannot see the launching machine's disk, so a model is named by a
path every worker can read, checked when the pipeline is built (a missing or unreadable model
fails then, naming the path, not an hour into the job) and copied once per worker process to
a local cache that KenLM, fastText and transformers can open.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()


class ModelPathError(ValueError):
    pass


def is_remote(path: str) -> bool:
    """On a Beam filesystem other than the local disk (``file://`` is local)."""
    return "://" in path and not path.startswith("file://")


def _local(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


def check_model(path: str | None, required: tuple[str, ...] = (), what: str = "model") -> str:
    """``path`` itself if it exists and holds the ``required`` files (names inside a model
    folder; empty for a single-file model); otherwise ModelPathError naming what is missing."""
    if not path:
        raise ModelPathError(f"{what}: no model path set")
    if is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        try:
            targets = [FileSystems.join(path, name) for name in required] or [path]
            missing = [t for t in targets if not FileSystems.exists(t)]
        except Exception as exc:  # an unknown scheme or missing credentials
            raise ModelPathError(f"{what}: cannot read {path}: {exc}") from None
        if missing:
            raise ModelPathError(f"{what}: {missing[0]} does not exist")
        return path
    local = Path(_local(path))
    if not local.exists():
        raise ModelPathError(f"{what}: {path} does not exist")
    if required:
        if not local.is_dir():
            raise ModelPathError(f"{what}: {path} is a file; expected a model folder holding {', '.join(required)}")
        missing = [name for name in required if not (local / name).exists()]
        if missing:
            raise ModelPathError(f"{what}: {path} has no {missing[0]} (is it a model folder from the matching ptd train-* command?)")
    elif not local.is_file():
        raise ModelPathError(f"{what}: {path} is a folder; expected a model file")
    if not os.access(local, os.R_OK):
        raise ModelPathError(f"{what}: {path} is not readable")
    return path


def local_copy(path: str, cache_dir: str | None = None) -> str:
    """A local path holding the model at ``path``: ``path`` itself when local, else a copy in
    ``cache_dir`` (default: the system temp folder) made once per process and reused."""
    if not is_remote(path):
        return _local(path)
    from apache_beam.io.filesystems import FileSystems

    root = Path(cache_dir or tempfile.gettempdir()) / "ptd-models" / hashlib.sha1(path.encode()).hexdigest()[:16]
    done = root / ".complete"
    with _lock:
        if done.exists():
            return str(root / "model")
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=root.parent))
        base = path.rstrip("/")
        # A folder model is everything under it; otherwise the path is a single-file model.
        inside = [m.path for m in FileSystems.match([base + "/**"])[0].metadata_list]
        for remote in inside or [base]:
            target = staging / "model" / remote[len(base):].lstrip("/") if inside else staging / "model"
            target.parent.mkdir(parents=True, exist_ok=True)
            with FileSystems.open(remote) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
        done.touch()
    return str(root / "model")


def fetch(location: str) -> tuple[Path, str]:
    """(local path, file name as given) of a data file or folder (lexicon, blocklist) on any
    filesystem: remote ones are copied once per process like models, and keep their name,
    which names a category."""
    name = location.rstrip("/").rsplit("/", 1)[-1]
    if is_remote(location):
        check_model(location, what=location)
        return Path(local_copy(location)), name
    return Path(_local(location)).expanduser(), name
