"""PII detection: precision and recall on generated identifiers in real Chinese text, and speed.

Real sentences come from the CLUE sample (../shared/data/zh/clue_corpus_small_sample.txt);
those in which the detector already finds something are set aside, so every hit counts. Into
each remaining sentence goes one generated item, at a random point between two Chinese
characters, sometimes after a label (电话：, 身份证号 ...):

  - valid identifiers: mobile and landline numbers in their written forms, 18- and 15-digit ID
    numbers, bank cards (plain and grouped), e-mail addresses, IPv4 and IPv6 addresses;
  - near misses: wrong check digits, valid numbers inside longer digit runs, dates, timestamps,
    order numbers, version numbers, prices, times, MAC addresses.

A valid item is found when a hit of its type covers exactly its characters. Precision counts
every other hit in the sentence as a false positive of its type. Speed: `redact` over the whole
real file, one document per call, one core.

    python bench/eval_pii.py [--data PATH] [--per-kind 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

from _common import DEFAULT_INPUT, load_lines, source_fingerprint

from telechat_ptd.pii import PII_TYPES, PiiConfig, find_pii, find_spans, redact
from telechat_ptd.pii_samples import (
    AREA_CODES, luhn_complete, make_id, random_card, random_id, random_id15, random_landline,
    random_mobile, wrong_last,
)

PROG = "eval_pii"
TARGETS = {"recall": {"cn_id": 0.99, "cn_mobile": 0.99, "bank_card": 0.99, "email": 0.99}, "precision": 0.98}

LABELS = {
    "cn_mobile": ["", "电话：", "手机", "联系方式：", "tel:", "微信同号"],
    "cn_landline": ["", "座机：", "电话", "咨询热线"],
    "cn_id": ["", "身份证号：", "身份证号码", "证件号"],
    "bank_card": ["", "卡号：", "银行卡号", "账号"],
    "email": ["", "邮箱：", "E-mail：", "发送至"],
    "ipv4": ["", "IP：", "服务器地址", "来自"],
    "ipv6": ["", "IPv6地址：", "IP："],
}


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def grouped(number: str, sep: str) -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


# ---- valid identifiers: (format name, value)

def mobile(rng):
    n = random_mobile(rng)
    form = rng.choice(["plain", "plain", "3-4-4", "3 4 4", "+86", "+86 3-4-4", "(+86)", "0086"])
    body = {"3-4-4": f"{n[:3]}-{n[3:7]}-{n[7:]}", "3 4 4": f"{n[:3]} {n[3:7]} {n[7:]}"}.get(form, n)
    return form, {"+86": "+86" + n, "+86 3-4-4": f"+86 {n[:3]}-{n[3:7]}-{n[7:]}", "(+86)": "(+86)" + n, "0086": "0086 " + n}.get(form, body)


def landline(rng):
    n = random_landline(rng)
    area = next(a for a in sorted(AREA_CODES, key=len, reverse=True) if n.startswith(a))
    local = n[len(area):]
    form = rng.choice(["area-local", "(area)local", "（area）local", "area local", "arealocal"])
    return form, form.replace("area", area).replace("local", local)


def resident_id(rng):
    if rng.random() < 0.7:
        return "18 digits", random_id(rng)
    return "15 digits", random_id15(rng)


def card(rng):
    n = random_card(rng)
    form = rng.choice(["plain", "plain", "groups of 4 (space)", "groups of 4 (-)"])
    return form, {"plain": n, "groups of 4 (space)": grouped(n, " "), "groups of 4 (-)": grouped(n, "-")}[form]


def email(rng):
    user = rng.choice([digits(rng, rng.randint(6, 11)), "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10))),
                       f"{rng.choice(['zhang', 'li', 'wang', 'chen'])}.{rng.choice(['wei', 'na', 'min', 'jie'])}{rng.randint(1, 99)}"])
    domain = rng.choice(["qq.com", "163.com", "126.com", "sina.com.cn", "gmail.com", "pku.edu.cn", "foxmail.com", "example.org"])
    return "user@domain", f"{user}@{domain}"


def ipv4(rng):
    return "dotted quad", ".".join(str(rng.randint(1 if i == 0 else 0, 255)) for i in range(4))


def ipv6(rng):
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    if rng.random() < 0.4:
        return "full", ":".join(groups)
    cut = rng.randint(2, 6)
    return "compressed", ":".join(["2001", "db8"] + groups[2:cut]) + "::" + ":".join(groups[cut + 1:])


VALID = {"cn_mobile": mobile, "cn_landline": landline, "cn_id": resident_id, "bank_card": card, "email": email,
         "ipv4": ipv4, "ipv6": ipv6}


# ---- near misses: (kind, value)

def near_misses(rng: random.Random) -> list[tuple[str, str]]:
    y, m, d = rng.randint(1990, 2024), rng.randint(1, 12), rng.randint(1, 28)
    bad_date_id15 = f"{random_id15(rng)[:8]}{rng.randint(13, 19)}{d:02d}{digits(rng, 3)}"
    return [
        ("ID, wrong check digit", wrong_last(random_id(rng), rng, "0123456789X")),
        ("ID, 30 February", make_id("110105", rng.randint(1950, 2000), 2, 30, rng.randint(0, 999))),
        ("15-digit ID, month 13-19", bad_date_id15),
        ("card, wrong Luhn digit", wrong_last(random_card(rng), rng)),
        ("ID in a 20-digit run", digits(rng, 1) + random_id(rng) + digits(rng, 1)),
        ("card in a 20+ digit run", random_card(rng, 19) + digits(rng, rng.randint(1, 3))),
        ("phone in a 12+ digit run", random_mobile(rng) + digits(rng, rng.randint(1, 4))),
        ("phone after digits", rng.choice(["1", "2", "9", "20", "138", "999"]) + random_mobile(rng)),  # 86 would be a country code
        ("date", rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}{m:02d}{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}.{m:02d}.{d:02d}"])),
        ("timestamp", rng.choice([str(rng.randint(1_300_000_000, 1_800_000_000)), str(rng.randint(1_300_000_000_000, 1_800_000_000_000)),
                                  f"{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                                  f"{y}{m:02d}{d:02d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"])),
        ("order number", rng.choice([f"{y}{m:02d}{d:02d}{digits(rng, rng.randint(6, 12))}", f"NO.{digits(rng, rng.randint(8, 14))}",
                                     f"DD{y}{m:02d}{d:02d}{digits(rng, 8)}", rng.choice("12789") + digits(rng, rng.randint(15, 18))])),
        ("version number", rng.choice(["v", "V", "版本"]) + ".".join(str(rng.randint(0, 20)) for _ in range(rng.randint(3, 4)))
         if rng.random() < 0.5 else ".".join(str(rng.randint(0, 20)) for _ in range(5))),
        ("price", rng.choice([f"¥{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}", f"{rng.randint(100, 9_999_999)}元", f"${rng.randint(1, 9999)}.99"])),
        ("time / MAC", rng.choice([f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                                   ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6))])),
        ("phone, 12x prefix", "12" + digits(rng, 9)),
        ("card, no issuer 1/2/7-9", luhn_complete(rng.choice("12789") + digits(rng, rng.randint(14, 17)))),
    ]


NEAR_MISS_KINDS = [k for k, _ in near_misses(random.Random(0))]


def sentences(path: Path) -> list[str]:
    lines = [b.decode("utf-8", "replace") for b in load_lines(path, PROG)]
    out = [s for line in lines for s in re.split(r"(?<=[。！？])", line) if 12 <= len(s) <= 300]
    return [s for s in out if spots(s) and not find_pii(s)]


def spots(sentence: str) -> list[int]:
    """Offsets between two Chinese characters (or full-width punctuation), or at such an end."""
    han = [c > "\u2e80" for c in sentence]
    return [i for i in range(len(sentence) + 1) if (i == 0 or han[i - 1]) and (i == len(sentence) or han[i])]


def insert(rng: random.Random, sentence: str, item: str) -> tuple[str, int]:
    """sentence with item at one of its spots; returns the item's offset."""
    at = rng.choice(spots(sentence))
    return sentence[:at] + item + sentence[at:], at


def main() -> None:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_INPUT, help="one document per line (default: the CLUE sample)")
    ap.add_argument("--per-kind", type=int, default=1000, help="generated items per type and per near-miss kind")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    pool = sentences(args.data)
    print(f"code {source_fingerprint()}; {len(pool):,} PII-free sentences from {args.data.name}; "
          f"{args.per_kind} items per type and per near-miss kind, seed {args.seed}\n")

    tp, fn, fp = Counter(), Counter(), Counter()
    by_form: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for kind, make in VALID.items():
        for _ in range(args.per_kind):
            form, value = make(rng)
            item = rng.choice(LABELS[kind]) + value
            text, at = insert(rng, rng.choice(pool), item)
            start = at + len(item) - len(value)
            hits = find_spans(text)
            found = any(h.kind == kind and (h.start, h.end) == (start, start + len(value)) for h in hits)
            tp[kind] += found
            fn[kind] += not found
            by_form[kind, form][0] += found
            by_form[kind, form][1] += 1
            if not found and len(misses[kind]) < 3:
                misses[kind].append(f"{value!r} in …{text[max(0, start - 8):start + len(value) + 8]}…")
            for h in hits:
                if not (h.kind == kind and (h.start, h.end) == (start, start + len(value))):
                    fp[h.kind] += 1
    false_alarms: dict[str, Counter] = defaultdict(Counter)
    for _ in range(args.per_kind):
        for name, value in near_misses(rng):
            text, _ = insert(rng, rng.choice(pool), value)
            for h in find_spans(text):
                fp[h.kind] += 1
                false_alarms[name][h.kind] += 1

    print(f"{'type':12}{'recall':>9}{'precision':>11}{'TP':>7}{'FN':>5}{'FP':>5}   target")
    ok = True
    for kind in PII_TYPES:
        recall = tp[kind] / max(1, tp[kind] + fn[kind])
        precision = tp[kind] / max(1, tp[kind] + fp[kind])
        want = TARGETS["recall"].get(kind)
        met = precision >= TARGETS["precision"] and (want is None or recall >= want)
        ok &= met
        target = (f"recall >= {want}, " if want else "") + f"precision >= {TARGETS['precision']}"
        print(f"{kind:12}{recall:9.4f}{precision:11.4f}{tp[kind]:7}{fn[kind]:5}{fp[kind]:5}   {target}{'' if met else '  MISSED'}")
    print("\nrecall per written form")
    for (kind, form), (found, n) in sorted(by_form.items()):
        print(f"  {kind:12} {form:22} {found / n:7.4f}  ({n})")
    for kind, examples in misses.items():
        print(f"  missed {kind}: " + "; ".join(examples))
    print(f"\nnear misses ({args.per_kind} each): documents with a hit")
    for name in NEAR_MISS_KINDS:
        alarms = false_alarms.get(name, Counter())
        print(f"  {name:28} {sum(alarms.values()):5}  {dict(alarms) if alarms else ''}")

    docs = [b.decode("utf-8", "replace") for b in load_lines(args.data, PROG)]
    size = sum(len(d.encode()) for d in docs)
    cfg = PiiConfig()
    best, found = float("inf"), Counter()
    for _ in range(3):
        started = time.perf_counter()
        found = Counter()
        for d in docs:
            found.update(redact(d, cfg)[1])
        best = min(best, time.perf_counter() - started)
    with_hits = sum(1 for d in docs if find_pii(d))
    print(f"\nredact on {len(docs):,} real documents ({size / 1e6:.2f} MB UTF-8): {size / 1e6 / best:.1f} MB/s "
          f"({len(docs) / best:,.0f} docs/s, best of 3, one core)")
    print(f"hits in the real text: {dict(found)}; {with_hits} documents with at least one")
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")


if __name__ == "__main__":
    main()
