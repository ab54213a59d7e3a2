"""Personal data in text: found, counted, and replaced by typed placeholders.

Recognised: Chinese mobile and landline numbers, resident ID numbers, bank card numbers,
e-mail addresses, IPv4 and IPv6 addresses. A pattern only proposes a candidate; what makes a
digit run personal data rather than an order number, a date or a timestamp is its structure:
ID numbers need a real birth date, a province code and (18 digits) the ISO 7064 check digit;
bank cards need the Luhn check digit and an issuer prefix; IPv6 candidates must parse.

Every pattern is fenced by digit lookarounds, so a run longer than the type never yields a
shorter match inside it (a 20-digit order number holds no 18-digit ID and no 16-digit card).
No pattern nests an unbounded quantifier, and the ones that could start anywhere in a long
run only start where the run starts (negative lookbehind), so scanning stays linear on
adversarial input such as a megabyte of digits or of ``a@``.

Digits are ASCII: the pipeline folds full-width digits before this stage runs.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Equal spans go to the earlier type here: an 18-digit run that is both a checksum-valid ID and
# Luhn-valid is far more likely an ID (date + province + check digit is the stricter test).
PII_TYPES: tuple[str, ...] = ("cn_id", "bank_card", "cn_mobile", "cn_landline", "email", "ipv6", "ipv4")

DEFAULT_PLACEHOLDERS: dict[str, str] = {
    "cn_mobile": "<PHONE>",
    "cn_landline": "<LANDLINE>",
    "cn_id": "<ID>",
    "bank_card": "<BANK_CARD>",
    "email": "<EMAIL>",
    "ipv4": "<IP>",
    "ipv6": "<IP>",
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 provinces, plus 81-83 (Hong Kong, Macau, Taiwan residence permits) and 91
# (foreigners' permanent residence cards, 2023 format, same checksum).
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)

# Each pattern opens with a character class that consumes the first character, and checks what
# precedes it by lookbehind only then: re scans for a leading class at C speed, while a leading
# lookbehind would run the matcher at every position (5-10x slower on Chinese text). So
# "(?<!\d)1..." is written "1(?<!\d.)...", and a branch that needs a given first character
# asserts it with "(?<=x)". An opening bracket or plus delimits a number by itself, so what
# precedes it does not matter. tests/test_pii.py checks each against a plainly written reference.
_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"  # after the 0: 010 and 02x have 3 digits, the rest 4

PATTERNS: dict[str, re.Pattern[str]] = {
    # Starts only where a run of local-part characters starts, so a long run is tried once.
    "email": re.compile(
        r"[A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-].)[A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
        r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
    ),
    # 3-4-4 digits, separators (none, '-' or ' ') used consistently; optional prefix (+86), +86,
    # 0086 or 86.
    "cn_mobile": re.compile(
        r"[(+＋081](?<!\d[081])"
        r"(?:(?<=\()\+?86\)[- ]?1|(?<=[+＋])86[- ]?1|(?<=0)086[- ]?1|(?<=8)6[- ]?1|(?<=1))"
        r"[3-9][0-9]([- ]?)[0-9]{4}\1[0-9]{4}(?!\d)"
    ),
    # Local numbers never start with 0; written without a separator they must start with 2-9,
    # which keeps 0-led serial numbers out.
    "cn_landline": re.compile(
        r"[(（0](?<!\d0)"
        rf"(?:(?<=[(（])0{_AREA}[)）][- ]?[1-9]|(?<=0){_AREA}(?:[- ][1-9]|[2-9]))"
        r"[0-9]{6,7}(?!\d)"
    ),
    # 18 digits (birth year 18xx-20xx, check digit may be X) or 15 (legacy, region 1-8, YYMMDD).
    "cn_id": re.compile(
        r"[1-9](?<!\d.)"
        rf"(?:[0-9]{{5}}(?:18|19|20)[0-9]{{2}}{_MMDD}[0-9]{{3}}[0-9Xx](?![0-9Xx])"
        rf"|(?<=[1-8])[0-9]{{7}}{_MMDD}[0-9]{{3}}(?![0-9Xx]))"
    ),
    # 16-19 digits in one run, or 4-4-4-4 groups with an optional 1-3 digit tail (19-digit
    # UnionPay cards are printed 4-4-4-4-3); a grouped card must not continue another group.
    # A run followed by X is the body of an ID number.
    "bank_card": re.compile(
        r"[3-6](?<!\d.)"
        r"(?:[0-9]{15,18}(?![0-9Xx])|(?<!\d[- ].)[0-9]{3}([- ])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?(?!\d|\1\d))"
    ),
    # Octet values and leading zeros are left to ipaddress. Version numbers (v1.2.3.4, 1.2.3.4.5)
    # are excluded by the lookarounds.
    "ipv4": re.compile(r"[0-9](?<![0-9vV].)(?<!\d\..)[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?!\.?\d)"),
    # A loose candidate with a ':' in its first five characters; ipaddress decides. 45 = the
    # longest form, with an embedded IPv4 tail.
    "ipv6": re.compile(
        r"[0-9A-Fa-f:](?<![0-9A-Za-z:.].)(?:(?<=:)|(?=[0-9A-Fa-f]{0,3}:))[0-9A-Fa-f:.]{1,44}(?![0-9A-Za-z:.])"
    ),
}


class Hit(NamedTuple):
    start: int
    end: int
    kind: str


def id_checksum_ok(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _id_shaped(s: str) -> bool:
    """Province and birth date of an ID number, check digit aside."""
    if s[:2] not in _PROVINCES:
        return False
    if len(s) == 18:
        return _birth_date_ok(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    # 15 digits: no check digit, and no 9x region (those came with the 18-digit format)
    return s[0] != "9" and _birth_date_ok(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _valid_id(m: re.Match[str]) -> bool:
    s = m.group()
    return _id_shaped(s) and (len(s) == 15 or id_checksum_ok(s))


# A dotted quad right after a version label is a version number.
_VERSION_LABEL = re.compile(r"(?:版本号?|[Vv]er(?:sion)?\.?|[Vv])\s?[:：]?\s?$")


def _valid_ipv4(m: re.Match[str]) -> bool:
    try:
        ipaddress.IPv4Address(m.group())  # octets <= 255, no leading zeros
    except ValueError:
        return False
    return not _VERSION_LABEL.search(m.string, max(0, m.start() - 10), m.start())


def _valid_card(m: re.Match[str]) -> bool:
    s = m.group()
    if len(s) == 18 and _id_shaped(s):
        # Province + birth date over 18 digits: an ID number (one with a wrong check digit, if
        # it got here), not one of the rare 18-digit cards; 1 in 10 would pass Luhn by chance.
        return False
    return luhn_ok(s.replace(" ", "").replace("-", ""))


def _valid_ipv6(s: str) -> str | None:
    """The address within the candidate, or None: a sentence may end the candidate in '.' or ':'."""
    for cand in (s, s.rstrip(".:")):
        # "::", "::1" and "a::b" are separators, loopback and C++ scopes far more often than
        # somebody's address; a routable address has a prefix of two groups at least.
        if sum(1 for g in re.split(r"[:.]", cand) if g) < 3:
            return None
        try:
            ipaddress.IPv6Address(cand)
        except ValueError:
            continue
        return cand
    return None


_VALIDATORS = {"cn_id": _valid_id, "bank_card": _valid_card, "ipv4": _valid_ipv4}


def _candidates(text: str, kinds: Iterable[str]) -> list[Hit]:
    hits: list[Hit] = []
    for kind in kinds:
        pattern = PATTERNS[kind]
        valid = _VALIDATORS.get(kind)
        for m in pattern.finditer(text):
            if kind == "ipv6":
                addr = _valid_ipv6(m.group())
                if addr is None:
                    continue
                hits.append(Hit(m.start(), m.start() + len(addr), kind))
                continue
            if valid is None or valid(m):
                hits.append(Hit(m.start(), m.end(), kind))
    return hits


def find_spans(text: str, types: Iterable[str] | None = None) -> list[Hit]:
    """Non-overlapping hits in text order.

    Where candidates of different types overlap, the longest wins, then the earliest, then the
    type listed first in PII_TYPES, so the same text always yields the same hits. Only the
    requested types compete: with phones alone enabled, the phone inside 13812345678@qq.com is
    still found rather than lost to an e-mail that will not be redacted.
    """
    kinds = PII_TYPES if types is None else [k for k in PII_TYPES if k in set(types)]
    rank = {k: i for i, k in enumerate(PII_TYPES)}
    hits = sorted(_candidates(text, kinds), key=lambda h: (h.start, h.end))
    chosen: list[Hit] = []
    i = 0
    while i < len(hits):  # resolve each cluster of mutually overlapping candidates on its own
        j, reach = i + 1, hits[i].end
        while j < len(hits) and hits[j].start < reach:
            reach = max(reach, hits[j].end)
            j += 1
        cluster = hits[i:j]
        if len(cluster) == 1:
            chosen.append(cluster[0])
        else:
            kept: list[Hit] = []
            for h in sorted(cluster, key=lambda h: (h.start - h.end, h.start, rank[h.kind])):
                if all(h.end <= k.start or k.end <= h.start for k in kept):
                    kept.append(h)
            chosen += sorted(kept)
        i = j
    return chosen


def find_pii(text: str) -> dict[str, int]:
    """Hits per type (types with none are left out)."""
    return dict(Counter(h.kind for h in find_spans(text)))


class PiiConfig(BaseModel):
    """What the pipeline redacts and when a document holds too much personal data to keep."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    types: list[str] = Field(default_factory=lambda: list(PII_TYPES))
    # Missing types keep their default, so a config can rename one placeholder alone.
    placeholders: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PLACEHOLDERS))
    # Hits per 1,000 characters above which the document is dropped (a leaked contact list or
    # a log dump is not worth keeping even redacted); None never drops.
    max_density: float | None = None

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(PII_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(PII_TYPES)}")
        return v

    @field_validator("placeholders")
    @classmethod
    def _fill_placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(PII_TYPES))
        if unknown:
            raise ValueError(f"placeholders for unknown PII types {unknown}; known: {list(PII_TYPES)}")
        found = {k: p for k, p in v.items() if find_pii(p)}
        if found:  # it would be found, and counted, again by every later scan
            raise ValueError(f"placeholders that are themselves PII: {found}")
        return {**DEFAULT_PLACEHOLDERS, **v}

    @field_validator("max_density")
    @classmethod
    def _non_negative(cls, v: float | None) -> float | None:
        if v is not None and v < 0:
            raise ValueError("max_density must be >= 0 or null")
        return v


_MAX_PASSES = 4


def redact(text: str, cfg: PiiConfig | None = None) -> tuple[str, Counter]:
    """The text with each hit of cfg.types replaced by its placeholder, and the hits per type.

    Text outside the hits is returned unchanged. The text is scanned again after each pass that
    found something: a hit glued to its neighbour can hide it (a@b.com13812345678 is no e-mail
    until the phone number is gone), and the output should hold nothing a later scan (inspect
    on the cleaned shards, or redacting twice) would still report. Documents without hits are
    scanned once.
    """
    cfg = cfg or PiiConfig()
    counts: Counter = Counter()
    if not cfg.enabled or not cfg.types:
        return text, counts
    for _ in range(_MAX_PASSES):
        spans = find_spans(text, cfg.types)
        if not spans:
            break
        parts: list[str] = []
        pos = 0
        for h in spans:
            parts += (text[pos:h.start], cfg.placeholders[h.kind])
            pos = h.end
        parts.append(text[pos:])
        text = "".join(parts)
        counts.update(h.kind for h in spans)
    return text, counts


def pii_density(hits: Mapping[str, int] | int, n_chars: int) -> float:
    """Hits per 1,000 characters: a count alone would punish long documents for their length."""
    total = hits if isinstance(hits, int) else sum(hits.values())
    return 1000.0 * total / n_chars if n_chars > 0 else 0.0


def too_dense(hits: Mapping[str, int] | int, n_chars: int, cfg: PiiConfig) -> bool:
    """Whether a document should be dropped under cfg.max_density (never when it is None)."""
    return cfg.enabled and cfg.max_density is not None and pii_density(hits, n_chars) > cfg.max_density


__all__ = [
    "DEFAULT_PLACEHOLDERS", "Hit", "PATTERNS", "PII_TYPES", "PiiConfig", "find_pii", "find_spans",
    "id_checksum_ok", "luhn_ok", "pii_density", "redact", "too_dense",
]
