"""Fetching TeleChat-PTD shards from the Hugging Face hub with the real ``huggingface_hub`` client.

The client brings what a multi-GB transfer needs: progress bars, ``HF_ENDPOINT`` mirrors, tokens
from the usual places, and resumption (an interrupted download continues from its
``.incomplete`` file; a connection cut mid-transfer is resumed with a Range request). What it
does not do is decide which names are safe to write or check that a finished shard is whole:
every name the server lists must stay inside the output folder, and every shard is checked
against the hub's size and LFS sha256 and read through gzip to its last CRC before it counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from telechat_ptd.gunzip import error as gzip_error
from telechat_ptd.gunzip import gunzip_pieces

REPO_ID = "Tele-AI/TeleChat-PTD"
SHARD_RE = re.compile(r"data/(\d+)\.jsonl\.gz")
VERIFIED = ".ptd-verified.json"


class DownloadError(RuntimeError):
    pass


def parse_shards(spec: str) -> list[int]:
    """'0-3,17' -> [0, 1, 2, 3, 17]."""
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise DownloadError(f"--shards: cannot read {part!r}; expected numbers and ranges like 0-3,17")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise DownloadError(f"--shards: range {part} runs backwards")
        out.update(range(lo, hi + 1))
    return sorted(out)


def safe_target(out_dir: Path, name: str) -> Path:
    """Where repository file ``name`` goes under ``out_dir``; refuses any name that could land
    outside it (absolute, '..', backslashes, drive letters, NUL)."""
    pure = PurePosixPath(name)
    if (not name or "\\" in name or "\x00" in name or pure.is_absolute() or ".." in pure.parts
            or re.match(r"^[A-Za-z]:", name)):
        raise DownloadError(f"refused file name from the server: {name!r} (it would be written outside {out_dir})")
    target = (out_dir / pure).resolve()
    if not target.is_relative_to(out_dir.resolve()):
        raise DownloadError(f"refused file name from the server: {name!r} (resolves outside {out_dir})")
    return target


@dataclass
class Shard:
    number: int
    path: str  # in the repository
    size: int
    sha256: str | None  # LFS object id, when the file is in LFS


@dataclass
class Report:
    downloaded: list[Path] = field(default_factory=list)
    already_there: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # repo path -> why
    refused: list[str] = field(default_factory=list)  # hostile names in the listing


def verify(path: Path, size: int | None, sha256: str | None) -> None:
    """Raise DownloadError unless ``path`` has the hub's size and sha256 and gunzips to its
    final CRC (every gzip member)."""
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise DownloadError(f"{path}: {actual:,} bytes, the hub says {size:,}")
    if actual == 0:
        raise DownloadError(f"{path}: empty file")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for _ in gunzip_pieces(f, on_chunk=digest.update):
                pass
    except gzip_error as exc:
        raise DownloadError(f"{path}: corrupt gzip: {exc}") from None
    except EOFError:
        raise DownloadError(f"{path}: gzip stream is truncated (no end of its last member)") from None
    if sha256 is not None and digest.hexdigest() != sha256:
        raise DownloadError(f"{path}: sha256 {digest.hexdigest()[:16]}... differs from the hub's {sha256[:16]}...")


def list_shards(api, repo_id: str, revision: str, out_dir: Path) -> tuple[dict[int, Shard], list[str]]:
    """Shards in the repository's data/ folder, and the names refused as unsafe."""
    from huggingface_hub.hf_api import RepoFile

    shards: dict[int, Shard] = {}
    refused: list[str] = []
    for entry in api.list_repo_tree(repo_id, path_in_repo="data", repo_type="dataset", revision=revision, recursive=True):
        if not isinstance(entry, RepoFile):
            continue
        try:
            safe_target(out_dir, entry.path)
        except DownloadError:
            refused.append(entry.path)
            continue
        m = SHARD_RE.fullmatch(entry.path)
        if m:
            lfs = entry.lfs
            shards[int(m.group(1))] = Shard(int(m.group(1)), entry.path, entry.size, lfs.sha256 if lfs else None)
    return shards, refused


def _ranges(numbers: list[int]) -> str:
    if not numbers:
        return "none"
    spans, start = [], numbers[0]
    for prev, cur in zip(numbers, numbers[1:] + [None]):
        if cur != prev + 1:
            spans.append(f"{start}-{prev}" if prev != start else str(start))
            start = cur
    return ",".join(spans)


def _hub_error(exc: Exception, repo_id: str, revision: str, endpoint: str) -> DownloadError:
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    if isinstance(exc, RevisionNotFoundError):
        return DownloadError(f"revision {revision!r} not found in {repo_id} at {endpoint}")
    if isinstance(exc, RepositoryNotFoundError):
        return DownloadError(f"dataset {repo_id} not found at {endpoint} (or it needs a token: HF_TOKEN or `hf auth login`)")
    return DownloadError(f"cannot reach the hub at {endpoint}: {type(exc).__name__}: {exc}")


def download(out_dir: str | Path, shards: list[int] | None = None, revision: str = "main", endpoint: str | None = None,
             token: str | None = None, repo_id: str = REPO_ID, log=print) -> Report:
    """Download ``shards`` (None: all) into ``out_dir``/data/, verifying each; a shard already
    verified at the same size is not fetched again."""
    from huggingface_hub import HfApi, hf_hub_download

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        available, refused = list_shards(api, repo_id, revision, out_dir)
    except Exception as exc:  # connection, DNS, TLS, 404 on the repo or revision
        raise _hub_error(exc, repo_id, revision, endpoint) from None
    report = Report(refused=refused)
    for name in refused:
        log(f"refused: the server listed {name!r}, which would be written outside {out_dir}")
    wanted = sorted(available) if shards is None else shards
    missing = [n for n in wanted if n not in available]
    if missing:
        raise DownloadError(f"shard(s) {_ranges(missing)} not in {repo_id}@{revision}; it has shards {_ranges(sorted(available))}")
    verified_path = out_dir / VERIFIED
    verified = json.loads(verified_path.read_text()) if verified_path.exists() else {}
    for i, number in enumerate(wanted, 1):
        shard = available[number]
        target = safe_target(out_dir, shard.path)
        if target.exists() and verified.get(shard.path) == {"size": shard.size, "sha256": shard.sha256} \
                and target.stat().st_size == shard.size:
            log(f"[{i}/{len(wanted)}] {shard.path}: already downloaded and verified")
            report.already_there.append(target)
            continue
        log(f"[{i}/{len(wanted)}] {shard.path}: {shard.size / 1e9:.2f} GB")
        try:
            got = Path(hf_hub_download(repo_id, shard.path, repo_type="dataset", revision=revision, local_dir=out_dir,
                                       endpoint=endpoint, token=token, force_download=target.exists()))
            verify(got, shard.size, shard.sha256)
        except DownloadError as exc:
            bad = target.with_name(target.name + ".corrupt")
            if target.exists():
                target.replace(bad)
            report.failed[shard.path] = f"{exc} (moved to {bad.name}; run again to fetch it anew)"
            log(f"  FAILED: {report.failed[shard.path]}")
            continue
        except Exception as exc:
            report.failed[shard.path] = str(_hub_error(exc, repo_id, revision, endpoint))
            log(f"  FAILED: {report.failed[shard.path]}")
            continue
        verified[shard.path] = {"size": shard.size, "sha256": shard.sha256}
        verified_path.write_text(json.dumps(verified, indent=1, sort_keys=True))
        report.downloaded.append(got)
    return report
