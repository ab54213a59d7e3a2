"""URL and domain blocklists in the UT1 layout (a folder per category holding ``domains`` and
``urls`` files, one entry per line), from folders, tarballs, or datatrove's shipped copy.

Matching, and why:

* A blocked domain blocks its subdomains (``example.com`` blocks ``a.b.example.com`` but not
  ``notexample.com``): spam networks rotate subdomains far faster than lists are updated.
  Lookup walks the host's suffixes in a dict, O(labels), whatever the list size.
* A leading ``www.`` is dropped on both sides, so either spelling of an entry matches.
* ``urls`` entries block a page or a section on a host that is not blocked as a whole (a
  hosting site, a forum): they match by prefix of ``host/path`` (scheme dropped, host
  lower-cased, path kept as written, since paths are case-sensitive).
* Documents without a URL get no signal: absence of a URL says nothing about the page.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator, Mapping
from importlib.util import find_spec
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from telechat_ptd.scorers.modelpath import ModelPathError, check_model, fetch

DATATROVE_SOURCE = "ut1:datatrove"
DATATROVE_ASSET = ("assets", "url_filterblacklistsv0_3_0.tar.gz")
_LIST_FILES = ("domains", "urls")


class BlocklistError(ValueError):
    """A blocklist source that cannot be found or read."""


class BlocklistConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # FOLDER or TARBALL (UT1 layout: CATEGORY/domains, CATEGORY/urls; or flat domains/urls,
    # whose category is the source's name), CATEGORY=SOURCE to name a flat source's category,
    # or "ut1:datatrove" (datatrove's shipped list, flat: category "datatrove"; needs the
    # bench extra installed).
    paths: list[str] = Field(default_factory=list)
    categories: list[str] | None = None  # keep only these categories; None: all


# ---------------------------------------------------------------------------------------------
# Normalization


def _strip_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def split_url(url: str) -> tuple[str, str]:
    """(host, rest) of a URL or of a scheme-less ``host/path`` entry: host lower-cased without
    ``www.``, user info or port; rest is the path and query (from its ``/``), fragment dropped."""
    url = url.strip()
    scheme_end = url.find("://")
    if scheme_end != -1:
        url = url[scheme_end + 3 :]
    cut = len(url)
    for sep in "/?#":
        i = url.find(sep)
        if i != -1 and i < cut:
            cut = i
    host, rest = url[:cut], url[cut:]
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    if host.startswith("["):  # IPv6 literal
        host = host[: host.find("]") + 1]
    elif ":" in host:
        host = host.split(":", 1)[0]
    hash_at = rest.find("#")
    if hash_at != -1:
        rest = rest[:hash_at]
    return _strip_host(host), rest


# ---------------------------------------------------------------------------------------------
# Loading


def _datatrove_tarball() -> Path:
    spec = find_spec("datatrove")
    if spec is None or not spec.submodule_search_locations:
        raise BlocklistError(
            f"{DATATROVE_SOURCE!r} needs the datatrove package (pip install 'telechat-ptd[bench]'); "
            "or give a UT1 folder or tarball path instead"
        )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*DATATROVE_ASSET)
    if not path.is_file():
        raise BlocklistError(f"datatrove is installed but its blocklist asset is missing: {path}")
    return path


def check_sources(cfg: BlocklistConfig) -> None:
    """Every configured list exists: called when the job is built, so a typo fails then."""
    for entry in cfg.paths:
        if entry == DATATROVE_SOURCE:
            _datatrove_tarball()
            continue
        category, sep, location = entry.partition("=")
        location = location if sep and "://" not in category else entry
        if "://" in location:
            try:
                check_model(location, what="safety.blocklist.paths")
            except ModelPathError as exc:
                raise BlocklistError(f"{exc} (from {entry!r})") from None
            continue
        path = Path(location).expanduser()
        if not path.exists():
            raise BlocklistError(f"safety.blocklist.paths: {path} not found (from {entry!r})")


def _source_name(path: Path) -> str:
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _category_of(parts: tuple[str, ...], flat: str) -> str:
    """The folder holding the list file, or the source's category for a flat layout."""
    return parts[-2] if len(parts) >= 2 else flat


def _iter_lists(entry: str) -> Iterator[tuple[str, str, bytes]]:
    """(category, "domains"|"urls", file content) for every list file of a config entry."""
    category, sep, location = entry.partition("=")
    if entry == DATATROVE_SOURCE:
        category, path = "datatrove", _datatrove_tarball()
        name = path.name
    else:
        if not sep or "://" in category:
            category, location = "", entry
        try:
            path, name = fetch(location)
        except ModelPathError as exc:
            raise BlocklistError(f"blocklist path: {exc} (from {entry!r})") from None
    if not path.exists():
        raise BlocklistError(f"blocklist path not found: {path} (from {entry!r})")
    flat = category.strip() or _source_name(Path(name))
    found = False
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.name in _LIST_FILES and p.is_file()):
            found = True
            yield _category_of(file.relative_to(path).parts, flat), file.name, file.read_bytes()
    else:
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:
                    parts = tuple(p for p in member.name.split("/") if p not in ("", "."))
                    if member.isfile() and parts and parts[-1] in _LIST_FILES:
                        found = True
                        fh = tar.extractfile(member)
                        yield _category_of(parts, flat), parts[-1], fh.read() if fh else b""
        except tarfile.TarError as exc:
            raise BlocklistError(f"{path}: not a readable tarball ({exc})") from None
    if not found:
        raise BlocklistError(f"{path}: no 'domains' or 'urls' files (expected the UT1 layout CATEGORY/domains)")


def _lines(data: bytes) -> Iterator[str]:
    for line in data.decode("utf-8", "replace").split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


# ---------------------------------------------------------------------------------------------
# Lookup


class Blocklist:
    """Domains and URL prefixes by category.

    Built from config it pickles as its config and loads on first use (datatrove's list holds
    4.5M domains: shipping it inside every pickled DoFn would be slow; workers read the same
    paths). Built from tables, it pickles its tables.
    """

    def __init__(
        self,
        domains: Mapping[str, Iterable[str]] | None = None,
        urls: Mapping[str, Iterable[str]] | None = None,
    ):
        self._cfg: BlocklistConfig | None = None
        self._domains: dict[str, str] = {}
        self._urls: dict[str, list[tuple[str, str]]] = {}
        for category, items in (domains or {}).items():
            self.add_domains(category, items)
        for category, items in (urls or {}).items():
            self.add_urls(category, items)
        self._loaded = True

    @classmethod
    def from_config(cls, cfg: BlocklistConfig) -> Blocklist:
        bl = cls()
        bl._cfg = cfg
        bl._loaded = False
        return bl

    def add_domains(self, category: str, items: Iterable[str]) -> None:
        """First category wins for a domain listed in several."""
        table = self._domains
        for item in items:
            host = _strip_host(item)
            if host and "/" not in host:
                table.setdefault(host, category)

    def add_urls(self, category: str, items: Iterable[str]) -> None:
        for item in items:
            host, rest = split_url(item)
            if host:
                self._urls.setdefault(host, []).append((rest, category))

    def _load(self) -> None:
        if self._loaded:
            return
        cfg = self._cfg
        keep = set(cfg.categories) if cfg.categories is not None else None
        for entry in cfg.paths:
            for category, kind, data in _iter_lists(entry):
                if keep is not None and category not in keep:
                    continue
                if kind == "domains":
                    self.add_domains(category, _lines(data))
                else:
                    self.add_urls(category, _lines(data))
        self._loaded = True

    @property
    def n_domains(self) -> int:
        self._load()
        return len(self._domains)

    @property
    def n_urls(self) -> int:
        self._load()
        return sum(len(v) for v in self._urls.values())

    def category(self, url: str) -> str | None:
        """The category that blocks this URL, or None."""
        self._load()
        host, rest = split_url(url)
        if not host:
            return None
        domains = self._domains
        pos = 0
        while True:  # a.b.example.com, b.example.com, example.com, com
            hit = domains.get(host[pos:] if pos else host)
            if hit is not None:
                return hit
            pos = host.find(".", pos) + 1
            if not pos:
                break
        for prefix, cat in self._urls.get(host, ()):
            if rest.startswith(prefix):
                return cat
        return None

    def signals(self, url: str | None) -> dict[str, float | str]:
        """``url_blocked`` (0/1) and ``url_blocklist_category`` ("" when not blocked); nothing
        for a document without a URL."""
        if not url:
            return {}
        cat = self.category(url)
        return {"url_blocked": 0 if cat is None else 1, "url_blocklist_category": cat or ""}

    def __getstate__(self) -> dict:
        if self._cfg is not None:
            return {"cfg": self._cfg}
        return {"domains": self._domains, "urls": self._urls}

    def __setstate__(self, state: dict) -> None:
        self._cfg = state.get("cfg")
        self._domains = state.get("domains", {})
        self._urls = state.get("urls", {})
        self._loaded = self._cfg is None


def decide(signals: Mapping[str, float | str]) -> tuple[str | None, str | None]:
    """(``url_blocklist_<category>``, detail) for a blocked URL, else (None, None)."""
    if not signals.get("url_blocked"):
        return None, None
    cat = signals.get("url_blocklist_category") or "unknown"
    return f"url_blocklist_{cat}", f"URL listed under {cat!r}"
