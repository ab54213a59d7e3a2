"""KenLM's training programs, ``lmplz`` and ``build_binary``, compiled once from the kenlm sdist.

The kenlm Python module only scores; the programs that estimate and pack a model ship as C++
source in the same sdist, so the first ``ptd train-kenlm`` compiles them with cmake (a few
minutes) into a cache shared by every later run: ``$PTD_KENLM_BIN`` if set, else
``~/.cache/telechat-ptd/kenlm/bin``. A file lock makes concurrent first runs (parallel tests, two
terminals) build once. Programs already on ``PATH`` are used as they are. The sdist comes from
``$PTD_KENLM_SRC`` (offline machines) or else ``pip download``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SDIST = "kenlm==0.3.0"  # the kenlm module that scores: the same version reads the same binary format
PROGRAMS = ("lmplz", "build_binary")
APT_PACKAGES = ("cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev "
                "libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev")
_HINT = f"KenLM needs cmake, a C++ compiler and the Boost, zlib, bz2 and lzma headers (Debian/Ubuntu: apt-get install -y {APT_PACKAGES})"


class KenLMBuildError(RuntimeError):
    pass


def bin_dir() -> Path:
    """Where the compiled programs are cached."""
    if os.environ.get("PTD_KENLM_BIN"):
        return Path(os.environ["PTD_KENLM_BIN"])
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "telechat-ptd" / "kenlm" / "bin"


def find_programs() -> dict[str, Path] | None:
    """The cached programs, else both on ``PATH``; None when either is missing."""
    cached = {name: bin_dir() / name for name in PROGRAMS}
    if all(os.access(p, os.X_OK) for p in cached.values()):
        return cached
    on_path = {name: shutil.which(name) for name in PROGRAMS}
    if all(on_path.values()):
        return {name: Path(p) for name, p in on_path.items()}
    return None


def ensure_programs(log: Callable[[str], None] = print, source: str | None = None) -> dict[str, Path]:
    """Paths of ``lmplz`` and ``build_binary``, compiled first if need be. ``source``: the kenlm
    sdist (.tar.gz) or its unpacked folder (default ``$PTD_KENLM_SRC``, else ``pip download``)."""
    found = find_programs()
    if found:
        return found
    target = bin_dir()
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target / ".build.lock", log):
        found = find_programs()  # another process may have built them while we waited
        if found:
            return found
        log(f"building KenLM lmplz and build_binary (once; a few minutes) into {target}")
        with tempfile.TemporaryDirectory(prefix="ptd-kenlm-") as tmp:
            src = _source(Path(tmp), source or os.environ.get("PTD_KENLM_SRC"), log)
            built = _compile(src, Path(tmp) / "build", log)
            for name in PROGRAMS:
                staged = target / f".{name}.tmp"
                shutil.copy2(built / name, staged)
                os.replace(staged, target / name)
    log(f"KenLM programs ready in {target}")
    return {name: target / name for name in PROGRAMS}


@contextmanager
def _locked(path: Path, log: Callable[[str], None]) -> Iterator[None]:
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another process building KenLM (lock {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _source(tmp: Path, source: str | None, log: Callable[[str], None]) -> Path:
    """The unpacked KenLM source tree (the folder holding its top CMakeLists.txt)."""
    if source and Path(source).is_dir():
        tree = Path(source)
    else:
        archive = Path(source) if source else _download(tmp, log)
        if not archive.is_file():
            raise KenLMBuildError(f"KenLM source {archive} does not exist (PTD_KENLM_SRC: the kenlm sdist .tar.gz or its folder)")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp / "src", filter="data")
        tree = next((p.parent for p in sorted((tmp / "src").glob("*/CMakeLists.txt"))), tmp / "src")
    if not (tree / "CMakeLists.txt").is_file():
        raise KenLMBuildError(f"{source or tree}: no CMakeLists.txt; expected the kenlm sdist ({SDIST})")
    return tree


def _download(tmp: Path, log: Callable[[str], None]) -> Path:
    log(f"downloading the {SDIST} sdist with pip")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
               "--dest", str(tmp), SDIST]
    done = subprocess.run(command, capture_output=True, text=True)
    archives = sorted(tmp.glob("kenlm-*.tar.gz"))
    if done.returncode or not archives:
        raise KenLMBuildError(f"could not download the {SDIST} sdist with pip (or set PTD_KENLM_SRC to a copy):\n"
                              f"{done.stderr.strip()[-2000:]}")
    return archives[0]


def _compile(src: Path, build: Path, log: Callable[[str], None]) -> Path:
    """Configure and build the two programs; the folder holding them. Compiler progress lines
    go to ``log``; a failure raises with the tail of the output and the packages to install."""
    if not shutil.which("cmake"):
        raise KenLMBuildError(f"cmake not found on PATH. {_HINT}")
    jobs = str(os.cpu_count() or 1)
    _cmake(["cmake", "-S", str(src), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"], "configure", log)
    _cmake(["cmake", "--build", str(build), "--target", *PROGRAMS, "--parallel", jobs], "build", log)
    return build / "bin"


def run(command: list[str], log: Callable[[str], None], show: Callable[[str], bool]) -> tuple[int, str]:
    """Run ``command``, passing the output lines ``show`` picks (progress) to ``log``; its exit
    status and the tail of its output, for the error message."""
    tail: deque[str] = deque(maxlen=40)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            if show(line):
                log(f"  {line.strip()}")
    return proc.returncode, "\n".join(tail)


def _cmake(command: list[str], step: str, log: Callable[[str], None]) -> None:
    status, output = run(command, log, lambda line: line.startswith("[") and "%]" in line[:8])  # "[ 42%] Building ..."
    if status:
        raise KenLMBuildError(f"KenLM {step} failed ({' '.join(command[:2])} exited {status}). {_HINT}\n{output}")
