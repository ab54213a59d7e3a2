"""Sensitive-word lexicons matched by category with one Aho-Corasick automaton.

One automaton over every term of every category scans a document once, in Rust
(``ahocorasick-rs``), whatever the number of terms (87k for the public Chinese lexicons); the
Python work per hit only runs when something hits, which is rare on clean text.

Matching rules, and why:

* Chinese terms match anywhere: Chinese has no spaces, so a word boundary cannot be checked
  without a segmenter, and sensitive compounds are specific enough to match as substrings.
* A term that starts (ends) with an ASCII letter or digit only matches where the character
  before (after) the hit is not an ASCII letter or digit, so "ass" does not hit "class" and
  "AV女优" does not hit "WAV女优".
* Case-insensitive: lexicon and text are lower-cased alike (``str.lower``).
* Counting: every distinct matched span counts, overlaps included. With 赌博 and 网络赌博 in the
  lexicon, "网络赌博" is two hits (spans 0-4 and 2-4). Overlaps say "this is really on topic";
  a term listed in several files of one category is one term, so it counts once per span.

Categories come from file stems (a folder gives one category per file, ``category=path``
names a single file's category). Rename files (or use ``category=path``) to map the public
lexicons' Chinese file names to the categories your thresholds use.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import ahocorasick_rs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from telechat_ptd.scorers.modelpath import ModelPathError, fetch

# Byte values: the automaton scans UTF-8, where ASCII bytes only ever stand for themselves.
_ASCII_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Invisible characters seen at line starts of concatenated lexicon files (BOMs mid-file).
_STRIP = " \t\r\n\ufeff\u200b\u200c\u200d\u3000"
DEFAULT_SOURCE = "default"
# The automaton's layout. With ~50k distinct terms the contiguous NFA scans fastest (overlapping
# matches, bench/bench_lexicon.py --implementation): a DFA is ~1.5x slower (its tables do not
# fit in cache) and takes 3-5x longer to build, the noncontiguous NFA is ~8x slower.
MATCHER_IMPLEMENTATION = ahocorasick_rs.Implementation.ContiguousNFA


class LexiconError(ValueError):
    """A lexicon file that cannot be read; the message names the file (and line)."""


def fold_case(text: str) -> str:
    """Lower-case lexicon and text alike.

    Plain ``str.lower`` (~300 MB/s; an ASCII-only ``str.translate`` runs at ~20 MB/s). It can
    change the length (U+0130 becomes two characters), which does not matter: word boundaries
    are checked in the folded text itself, never at positions of the original.
    """
    return text.lower()


def _utf8(text: str) -> bytes:
    """What the automaton scans: UTF-8, lone surrogates kept (``surrogatepass``).

    The Rust automaton always scans UTF-8; handing it bytes skips the byte-to-character offset
    table its ``str`` API builds per call (the scan runs ~1.2x faster) and lets a text with a
    lone surrogate through (the ``str`` API raises on it). UTF-8 is self-synchronizing, so a
    term only matches at character boundaries, and boundary checks read the ASCII bytes directly.
    """
    return text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class LoadReport:
    """What loading left out, so users can see how much of a public list is noise."""

    kept: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def add(self, other: LoadReport) -> None:
        self.kept += other.kept
        self.skipped.update(other.skipped)

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())


def decode_lexicon(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) first, GB18030 (a superset of GBK) as the fallback."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_err:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as gb_err:
            line = data.count(b"\n", 0, gb_err.start) + 1
            utf8_line = data.count(b"\n", 0, utf8_err.start) + 1
            raise LexiconError(
                f"{name}:{line}: neither UTF-8 (first bad byte on line {utf8_line}) "
                f"nor GB18030 ({gb_err.reason})"
            ) from None


def clean_terms(lines: Iterable[str], min_term_chars: int = 2) -> tuple[list[str], LoadReport]:
    """Case-folded, deduplicated terms, and counts of what was skipped and why.

    Skipped: blank lines and ``#`` comments; terms shorter than ``min_term_chars`` (a single
    Chinese character such as 奶 or 枪 fires on almost any text); terms with no letter at all
    (phone numbers, "10086", "6.4": they hit ordinary numbers); duplicates.
    """
    report = LoadReport()
    seen: set[str] = set()
    terms: list[str] = []
    for raw in lines:
        term = raw.strip(_STRIP)
        if not term or term.startswith("#"):
            continue
        if "\t" in term:  # "term<TAB>weight": weights are not used
            term = term.split("\t", 1)[0].strip(_STRIP)
        term = fold_case(term)
        if len(term) < min_term_chars:
            report.skipped["short"] += 1
        elif not any(c.isalpha() for c in term) or any(unicodedata.category(c) == "Cc" for c in term):
            report.skipped["junk"] += 1
        elif term in seen:
            report.skipped["duplicate"] += 1
        else:
            seen.add(term)
            terms.append(term)
    report.kept = len(terms)
    return terms, report


def read_lexicon_file(path: str | Path, min_term_chars: int = 2) -> tuple[list[str], LoadReport]:
    """One term per line (LDNOOBW lists are this format too)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon file {path}: {exc.strerror}") from None
    return clean_terms(decode_lexicon(data, str(path)).splitlines(), min_term_chars)


def _default_dir():
    return resources.files("telechat_ptd.safety") / "lexicons"


def _lexicon_files(folder) -> list:
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def load_sources(sources: Iterable[str], min_term_chars: int = 2) -> tuple[dict[str, list[str]], LoadReport]:
    """Category -> terms from config entries: ``default``, ``FILE``, ``CATEGORY=FILE`` or ``FOLDER``.

    Categories from several entries merge (their terms are deduplicated at build time).
    """
    cats: dict[str, list[str]] = {}
    report = LoadReport()

    def add(category: str, path) -> None:
        if isinstance(path, Path):
            terms, rep = read_lexicon_file(path, min_term_chars)
        else:  # a package resource (the shipped default lexicon)
            terms, rep = clean_terms(decode_lexicon(path.read_bytes(), str(path)).splitlines(), min_term_chars)
        cats.setdefault(category, []).extend(terms)
        report.add(rep)

    for entry in sources:
        if entry == DEFAULT_SOURCE:
            for p in _lexicon_files(_default_dir()):
                if p.name.endswith(".txt"):
                    add(p.name[: -len(".txt")], p)
            continue
        category, sep, location = entry.partition("=")
        if not sep or "://" in category:
            category, location = "", entry
        try:
            path, name = fetch(location)
        except ModelPathError as exc:
            raise LexiconError(f"lexicon path: {exc} (from {entry!r})") from None
        if path.is_dir():
            if category:
                raise LexiconError(f"{entry!r}: CATEGORY=PATH takes a file; a folder gives one category per file")
            files = _lexicon_files(path)
            if not files:
                raise LexiconError(f"lexicon folder {path} holds no files")
            for p in files:
                add(p.stem, p)
        elif path.is_file():
            add(category.strip() or Path(name).stem, path)
        else:
            raise LexiconError(f"lexicon path not found: {path} (from {entry!r})")
    return cats, report


# ---------------------------------------------------------------------------------------------
# Config and decision


class LexiconThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_hits: int = Field(5, ge=1)
    min_density: float = Field(20.0, ge=0)  # hits per 1,000 characters


class LexiconConfig(BaseModel):
    """A document is rejected for category C when hits >= min_hits AND density >= min_density.

    Defaults (5 hits, 20 per 1,000 characters): both conditions are needed. A court ruling or a
    news report names a crime once or twice (被告人因开设赌场罪...), which the hit floor keeps
    however short the text. Measured with the shipped lexicon on 5,568 real documents (People's
    Daily and CLUE): the densest category of a document reaches 11.7 per 1,000 characters at the
    99.9th percentile and 27.8 at most, but only in short police reports with 4 hits; at 3 hits
    and 2 per 1,000, 23 of them (news on crackdowns, arms seizures) were dropped, at these
    defaults none. A gambling spam page runs 200+ per 1,000.
    """

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # "default" (the shipped lexicon), FILE (category = file stem), CATEGORY=FILE, or FOLDER
    # (one category per file). Empty: the shipped lexicon.
    paths: list[str] = Field(default_factory=list)
    min_term_chars: int = Field(2, ge=1)
    thresholds: dict[str, LexiconThreshold] = Field(default_factory=lambda: {"default": LexiconThreshold()})

    @field_validator("thresholds")
    @classmethod
    def _has_default(cls, v: dict[str, LexiconThreshold]) -> dict[str, LexiconThreshold]:
        return v if "default" in v else {"default": LexiconThreshold(), **v}

    def sources(self) -> list[str]:
        return self.paths or [DEFAULT_SOURCE]


def hits_key(category: str) -> str:
    return f"lex_{category}_hits"


def density_key(category: str) -> str:
    return f"lex_{category}_density"


def decide(signals: Mapping[str, float], cfg: LexiconConfig) -> tuple[str | None, str | None]:
    """(``lexicon_<category>``, detail) for the densest failing category, else (None, None)."""
    worst: tuple[float, str, str] | None = None
    for key, hits in signals.items():
        if not (key.startswith("lex_") and key.endswith("_hits")):
            continue
        category = key[len("lex_") : -len("_hits")]
        th = cfg.thresholds.get(category, cfg.thresholds["default"])
        density = signals.get(density_key(category), 0.0)
        if hits >= th.min_hits and density >= th.min_density and (worst is None or density > worst[0]):
            detail = f"{int(hits)} hits, {density:.2f}/1k chars (min {th.min_hits}, {th.min_density}/1k)"
            worst = (density, category, detail)
    if worst is None:
        return None, None
    return f"lexicon_{worst[1]}", worst[2]


# ---------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class _Automaton:
    matcher: ahocorasick_rs.BytesAhoCorasick
    hit_info: list[tuple[tuple[int, ...], bool, bool]]  # per term: category indices, boundary before / after


class Lexicon:
    """Terms by category and the automaton over them.

    Pickles as its terms and rebuilds the automaton on first use (Beam pickles DoFns; the
    worker then needs no lexicon files).
    """

    def __init__(self, terms: Mapping[str, Iterable[str]], report: LoadReport | None = None):
        self.terms: dict[str, list[str]] = {}
        for category, items in terms.items():
            if not category or any(c.isspace() for c in category):
                raise LexiconError(f"bad category name {category!r}")
            self.terms[category] = sorted({fold_case(t.strip(_STRIP)) for t in items} - {""})
        self.categories: tuple[str, ...] = tuple(sorted(self.terms))
        self.report = report or LoadReport(kept=sum(len(v) for v in self.terms.values()))
        self._automaton: _Automaton | None = None

    @classmethod
    def from_config(cls, cfg: LexiconConfig) -> Lexicon:
        terms, report = load_sources(cfg.sources(), cfg.min_term_chars)
        return cls(terms, report)

    @classmethod
    def from_files(cls, *sources: str, min_term_chars: int = 2) -> Lexicon:
        terms, report = load_sources(sources, min_term_chars)
        return cls(terms, report)

    @property
    def n_terms(self) -> int:
        return len(self._build().hit_info)

    def _build(self) -> _Automaton:
        if self._automaton is None:
            by_term: dict[str, list[str]] = {}
            for category in self.categories:
                for term in self.terms[category]:
                    by_term.setdefault(term, []).append(category)
            keys = [_utf8(term) for term in by_term]
            index = {c: i for i, c in enumerate(self.categories)}
            self._automaton = _Automaton(
                ahocorasick_rs.BytesAhoCorasick(keys, implementation=MATCHER_IMPLEMENTATION),
                # per pattern index: (categories, needs a boundary before, needs one after)
                [
                    (tuple(index[c] for c in cats), key[0] in _ASCII_ALNUM, key[-1] in _ASCII_ALNUM)
                    for key, cats in zip(keys, by_term.values())
                ],
            )
        return self._automaton

    def _hits(self, text: str) -> list[int]:
        """Hits per category, in ``self.categories`` order."""
        auto = self._build()
        hits = [0] * len(self.categories)
        if not text or not auto.hit_info:
            return hits
        scanned = _utf8(fold_case(text))
        n = len(scanned)
        hit_info = auto.hit_info
        # Standard match semantics, overlapping: every occurrence of every term (end exclusive).
        for index, start, end in auto.matcher.find_matches_as_indexes(scanned, overlapping=True):
            cats, left, right = hit_info[index]
            if left and start > 0 and scanned[start - 1] in _ASCII_ALNUM:
                continue
            if right and end < n and scanned[end] in _ASCII_ALNUM:
                continue
            for c in cats:
                hits[c] += 1
        return hits

    def counts(self, text: str) -> dict[str, int]:
        """Hits per category (every category present, zeros included)."""
        return dict(zip(self.categories, self._hits(text)))

    def signals(self, text: str) -> dict[str, float]:
        """``lex_<category>_hits`` and ``lex_<category>_density`` (hits per 1,000 characters)."""
        per_k = 1000.0 / len(text) if text else 0.0
        values = []
        for hits in self._hits(text):
            values += (hits, hits * per_k)
        return dict(zip(self._signal_keys, values))

    @cached_property
    def _signal_keys(self) -> tuple[str, ...]:
        return tuple(key for c in self.categories for key in (hits_key(c), density_key(c)))

    def __getstate__(self) -> dict:
        return {"terms": self.terms, "report": self.report}

    def __setstate__(self, state: dict) -> None:
        self.terms = state["terms"]
        self.categories = tuple(sorted(self.terms))
        self.report = state["report"]
        self._automaton = None


def default_lexicon(min_term_chars: int = 2) -> Lexicon:
    """The small lexicon this project ships (porn, gambling, violence, ads)."""
    return Lexicon.from_files(DEFAULT_SOURCE, min_term_chars=min_term_chars)
