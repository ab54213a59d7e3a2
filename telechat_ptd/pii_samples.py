"""Identifiers with correct check digits, for the PII tests and bench/eval_pii.py.

Real identifiers cannot go into tests or benchmarks; these are made from their published
structure, so they pass exactly the checks a real one passes, and a corrupted one fails them.
"""

from __future__ import annotations

import random

from telechat_ptd.pii import _ID_CHECK, _ID_WEIGHTS

REGIONS = ("110105", "310104", "440305", "510107", "330106", "420102", "610113", "650102", "820000")
MOBILE_PREFIXES = ("130", "135", "138", "139", "150", "151", "158", "166", "177", "186", "188", "199")
AREA_CODES = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029", "0311", "0371", "0411", "0571", "0755", "0931")
CARD_PREFIXES = ("62", "6222", "6228", "4", "5187", "5", "3528", "6011", "6212")


def id_check_char(body17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS)) % 11]


def make_id(region: str, year: int, month: int, day: int, seq: int) -> str:
    """18-digit resident ID number with its ISO 7064 MOD 11-2 check character."""
    body = f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}"
    return body + id_check_char(body)


def make_id15(region: str, year: int, month: int, day: int, seq: int) -> str:
    """15-digit (pre-1999) ID number: two-digit year, no check character."""
    return f"{region}{year % 100:02d}{month:02d}{day:02d}{seq:03d}"


def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def luhn_complete(partial: str) -> str:
    """partial + the Luhn check digit that makes the whole number valid."""
    return partial + luhn_check_digit(partial)


def wrong_last(number: str, rng: random.Random, alphabet: str = "0123456789") -> str:
    """number with its check character replaced by another from alphabet ("0123456789X" for IDs)."""
    return number[:-1] + rng.choice([c for c in alphabet if c != number[-1].upper()])


def random_id(rng: random.Random) -> str:
    return make_id(rng.choice(REGIONS), rng.randint(1930, 2015), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 999))


def random_id15(rng: random.Random) -> str:
    return make_id15(rng.choice(REGIONS), rng.randint(1930, 1998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 999))


def random_card(rng: random.Random, length: int | None = None) -> str:
    length = length or rng.choice((16, 16, 16, 19, 19, 17, 18))
    prefix = rng.choice(CARD_PREFIXES)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - 1 - len(prefix)))
    return luhn_complete(body)


def random_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def random_landline(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    local = rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(7 if len(area) == 3 else rng.choice((6, 7))))
    return f"{area}{local}"
