"""PII detection and redaction: valid identifiers, near misses, overlaps, adversarial speed."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from telechat_ptd import pii
from telechat_ptd.pii import PII_TYPES, Hit, PiiConfig, find_pii, find_spans, pii_density, redact, too_dense
from telechat_ptd.pii_samples import (
    AREA_CODES, CARD_PREFIXES, MOBILE_PREFIXES, REGIONS, luhn_complete, make_id, make_id15, wrong_last,
)

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID_ID = make_id("110105", 1949, 12, 31, 2)  # 11010519491231002X
ID_DIGIT = make_id("440305", 1985, 6, 15, 123)
BAD_ID = wrong_last(ID_DIGIT, random.Random(0), "0123456789X")
CARD = luhn_complete("622202123456789012")  # 19 digits, UnionPay
CARD16 = luhn_complete("436742123456789")
BAD_CARD = wrong_last(CARD, random.Random(0))


def kinds(text: str, types=None) -> list[tuple[str, str]]:
    return [(h.kind, text[h.start:h.end]) for h in find_spans(text, types)]


# ---------------------------------------------------------------- each type: valid, invalid, boundaries

@pytest.mark.parametrize("text, value", [
    ("13812345678", "13812345678"),
    ("电话13812345678联系", "13812345678"),
    ("手机：138-1234-5678。", "138-1234-5678"),
    ("手机 138 1234 5678 王先生", "138 1234 5678"),
    ("+8613812345678", "+8613812345678"),
    ("致电+86 139-1234-5678", "+86 139-1234-5678"),
    ("（微信同号）(+86)18612345678", "(+86)18612345678"),
    ("0086 15912345678转", "0086 15912345678"),
    ("tel:19912345678\n", "19912345678"),
])
def test_mobile_found(text, value):
    assert kinds(text) == [("cn_mobile", value)]


@pytest.mark.parametrize("text", [
    "12812345678",          # no 12x prefix
    "138123456789",         # 12 digits
    "2013812345678",        # inside a longer run
    "1381234567",           # 10 digits
    "138-1234 5678",        # mixed separators: not a written phone number
    "时间戳1698765432123",   # 13-digit millisecond timestamp
])
def test_mobile_near_misses(text):
    assert "cn_mobile" not in find_pii(text)


@pytest.mark.parametrize("text, value", [
    ("010-12345678", "010-12345678"),
    ("(0755)1234567", "(0755)1234567"),
    ("0571-8888888", "0571-8888888"),
    ("电话（021）62345678转", "（021）62345678"),
    ("总机 0311 87654321", "0311 87654321"),
    ("热线02162345678", "02162345678"),
])
def test_landline_found(text, value):
    assert kinds(text) == [("cn_landline", value)]


@pytest.mark.parametrize("text", [
    "01012345678",      # run-together local number starting with 1: a serial, not a number
    "010-123456",       # 6-digit local number
    "010-123456789",    # 9-digit local number
    "1010-12345678",    # area code inside a longer run
    "2023-10-01",
    "(0755)01234567",   # local numbers never start with 0
])
def test_landline_near_misses(text):
    assert "cn_landline" not in find_pii(text)


def test_resident_ids():
    assert VALID_ID == "11010519491231002X"
    for text in (VALID_ID, f"身份证{VALID_ID}号", f"身份证{VALID_ID.lower()}。", f"{ID_DIGIT}", f"号码:{ID_DIGIT}\n"):
        assert [k for k, _ in kinds(text)] == ["cn_id"], text
    legacy = make_id15("310104", 1965, 3, 9, 42)
    assert kinds(f"旧证{legacy}作废") == [("cn_id", legacy)]
    assert pii.id_checksum_ok(VALID_ID) and not pii.id_checksum_ok(BAD_ID)


@pytest.mark.parametrize("text", [
    BAD_ID,                                   # wrong check character
    "1" + ID_DIGIT,                           # 19-digit run
    ID_DIGIT + "7",
    "订单号" + ID_DIGIT[:-1] + "X1",
    make_id("110105", 1985, 2, 30, 1),        # 30 February
    make_id("990105", 1985, 2, 3, 1),         # no province 99
    make_id("110105", 2090, 2, 3, 1),         # born in the future
    "310104651309042",                        # 15 digits, month 13
    "910104650309042",                        # 15 digits, region 9
    "202310011234567",                        # 15-digit order number
    "202310011234567890",                     # 18-digit order number
])
def test_resident_id_near_misses(text):
    assert "cn_id" not in find_pii(text)


def test_bank_cards():
    grouped = " ".join(CARD[i:i + 4] for i in range(0, 19, 4))  # 6222 0212 3456 7890 12x
    for text, value in [(CARD, CARD), (f"卡号{CARD16}，", CARD16), (f"卡号：{grouped}。", grouped),
                        ("-".join(CARD16[i:i + 4] for i in range(0, 16, 4)),) * 2]:
        assert kinds(text) == [("bank_card", value)], text


def test_an_id_with_a_wrong_check_digit_is_no_card_either():
    rng = random.Random(5)
    bad = next(b for b in (wrong_last(make_id("440305", 1985, 6, 15, n), rng, "0123456789") for n in range(1000))
               if pii.luhn_ok(b) and not pii.id_checksum_ok(b))
    assert find_pii(f"身份证{bad}") == {}
    assert find_pii(luhn_complete("62220212345678901")) == {"bank_card": 1}  # 18 digits, no birth date inside


@pytest.mark.parametrize("text", [
    BAD_CARD,
    "1" + CARD16,                                           # 17-digit run starting with 1
    CARD + "0",                                             # 20 digits
    luhn_complete("2023100112345678"),                      # order number: no issuer starts with 2
    luhn_complete("123456789012345"),
    " ".join(CARD16[i:i + 4] for i in range(0, 16, 4)) + " 1234",   # a fifth full group
    "7" + CARD16[1:],
    luhn_complete("6301061959082490") + "X",                # 17 Luhn-valid digits: the body of an ID ending in X
    luhn_complete("62220212345678901") + "X8",
])
def test_bank_card_near_misses(text):
    assert "bank_card" not in find_pii(text)


@pytest.mark.parametrize("text, value", [
    ("邮箱zhang.wei@example.com。", "zhang.wei@example.com"),
    ("发送至service@news-site.cn或致电", "service@news-site.cn"),
    ("E-mail：572437855@qq.com联系", "572437855@qq.com"),
    ("a.b+tag@mail.sub.example.com.cn", "a.b+tag@mail.sub.example.com.cn"),
])
def test_email_found(text, value):
    assert kinds(text) == [("email", value)]


@pytest.mark.parametrize("text", ["@张三 你好", "foo@bar", "foo@bar.c", "a" * 65 + "@example.com", "价格@5.5元"])
def test_email_near_misses(text):
    assert "email" not in find_pii(text)


@pytest.mark.parametrize("text, kind, value", [
    ("服务器192.168.1.10。", "ipv4", "192.168.1.10"),
    ("IP: 8.8.8.8.", "ipv4", "8.8.8.8"),
    ("255.255.255.255", "ipv4", "255.255.255.255"),
    ("地址2001:db8::1。", "ipv6", "2001:db8::1"),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:443", "ipv6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("映射::ffff:192.168.1.1访问", "ipv6", "::ffff:192.168.1.1"),
    ("fe80:0:0:0:0:0:0:1", "ipv6", "fe80:0:0:0:0:0:0:1"),
])
def test_ip_found(text, kind, value):
    assert kinds(text) == [(kind, value)]


@pytest.mark.parametrize("text", [
    "版本 1.2.3.4.5", "v1.2.3.4", "版本1.2.3.4", "版本号：10.0.190.1", "version 4.3.2.1", "Ver.1.2.3.4", "256.1.1.1", "192.168.01.1", "1.2.3", "2023.10.01", "价格12.50元",
    "12:30:45", "2023-10-01 12:30:45", "::", "::1", "std::vector", "00:1a:2b:3c:4d:5e", "1:2:3:4:5:6:7:8:9",
])
def test_ip_near_misses(text):
    assert not ({"ipv4", "ipv6"} & set(find_pii(text)))


@pytest.mark.parametrize("text", [
    "2023-10-01", "20231001", "2023年10月01日", "1698765432", "1698765432123", "20231001123045",
    "订单号202310011234567890", "订单号 20231128123456", "版本1.2.3.4.5", "价格¥1388.00", "13800元",
    "第12345678910期", "No.00012345678",
])
def test_everyday_numbers_are_not_pii(text):
    assert find_pii(text) == {}


def test_find_pii_keeps_its_meaning():
    assert find_pii(f"身份证{VALID_ID}，旧号{BAD_ID}") == {"cn_id": 1}
    assert find_pii("电话 138123456789 太长，订单 20231128123456") == {}
    assert find_pii("服务器 192.168.1.10，版本 1.2.3.4.5") == {"ipv4": 1}
    assert find_pii("电话13812345678，13912345678，邮箱a@b.cn") == {"cn_mobile": 2, "email": 1}


# ---------------------------------------------------------------- overlaps

def test_an_id_is_not_also_a_card_or_a_phone():
    rng = random.Random(3)
    both = next(i for i in (make_id(rng.choice(("310104", "440305", "510107", "610113")), 1980, 1, 1, n) for n in range(1000))
                if pii.luhn_ok(i))  # an ID that also passes Luhn with a card-like first digit
    assert find_pii(both) == {"cn_id": 1} == dict(redact(both)[1])
    assert redact(f"证{both}号") == ("证<ID>号", Counter(cn_id=1))


def test_longest_hit_wins_and_types_compete_only_when_enabled():
    text = "邮箱13812345678@qq.com"
    assert kinds(text) == [("email", "13812345678@qq.com")]
    assert redact(text)[0] == "邮箱<EMAIL>"
    assert redact(text, PiiConfig(types=["cn_mobile"])) == ("邮箱<PHONE>@qq.com", Counter(cn_mobile=1))
    assert kinds("::ffff:10.0.0.1") == [("ipv6", "::ffff:10.0.0.1")]


# ---------------------------------------------------------------- redaction, config, density

def test_redact_replaces_each_hit_and_counts_it():
    text = f"张三，电话13812345678，座机010-62345678，身份证{VALID_ID}，卡号{CARD}，邮箱zs@example.com，IP 10.1.2.3 / 2001:db8::8。"
    out, counts = redact(text, PiiConfig())
    assert out == "张三，电话<PHONE>，座机<LANDLINE>，身份证<ID>，卡号<BANK_CARD>，邮箱<EMAIL>，IP <IP> / <IP>。"
    assert counts == Counter(cn_mobile=1, cn_landline=1, cn_id=1, bank_card=1, email=1, ipv4=1, ipv6=1)
    assert find_pii(text) == dict(counts)


def test_redact_config():
    text = "电话13812345678，邮箱zs@example.com"
    assert redact(text, PiiConfig(enabled=False)) == (text, Counter())
    assert redact(text, PiiConfig(types=[])) == (text, Counter())
    assert redact(text, PiiConfig(types=["email"])) == ("电话13812345678，邮箱<EMAIL>", Counter(email=1))
    cfg = PiiConfig(placeholders={"cn_mobile": "[手机号]"})
    assert cfg.placeholders["email"] == "<EMAIL>"  # the others keep their defaults
    assert redact(text, cfg)[0] == "电话[手机号]，邮箱<EMAIL>"
    assert redact("没有个人信息。") == ("没有个人信息。", Counter())


def test_config_validation():
    assert PiiConfig().model_dump() == {"enabled": True, "types": list(PII_TYPES), "placeholders": pii.DEFAULT_PLACEHOLDERS,
                                        "max_density": None}
    for bad in ({"types": ["passport"]}, {"placeholders": {"phone": "x"}}, {"placeholders": {"email": "x@y.com"}},
                {"max_density": -1}, {"enable": True}):
        with pytest.raises(ValidationError):
            PiiConfig(**bad)
    assert PiiConfig.model_validate({"max_density": 2, "types": ["email"]}).max_density == 2.0


def test_density_and_drop_decision():
    text = "电话13812345678。" * 10  # 10 hits in 140 characters: 71.4 per 1,000
    _, counts = redact(text)
    assert pii_density(counts, len(text)) == pytest.approx(1000 * 10 / 140)
    assert pii_density(3, 0) == 0.0 and pii_density({}, 500) == 0.0
    assert not too_dense(counts, len(text), PiiConfig())  # max_density None: never dropped
    assert too_dense(counts, len(text), PiiConfig(max_density=50))
    assert not too_dense(counts, len(text), PiiConfig(max_density=100))
    assert not too_dense(counts, len(text), PiiConfig(max_density=50, enabled=False))


# ---------------------------------------------------------------- the fast patterns match the plain ones

_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
REFERENCE = {
    "email": r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
    "cn_mobile": r"(?:(?:\(\+?86\)|[+＋]86|(?<!\d)0086|(?<!\d)86)[- ]?|(?<!\d))1[3-9][0-9]([- ]?)[0-9]{4}\1[0-9]{4}(?!\d)",
    "cn_landline": rf"(?:[(（]0{_AREA}[)）][- ]?[1-9]|(?<!\d)0{_AREA}(?:[- ][1-9]|[2-9]))[0-9]{{6,7}}(?!\d)",
    "cn_id": rf"(?<!\d)[1-9][0-9]{{5}}(?:18|19|20)[0-9]{{2}}{_MMDD}[0-9]{{3}}[0-9Xx](?![0-9Xx])"
             rf"|(?<!\d)[1-8][0-9]{{5}}[0-9]{{2}}{_MMDD}[0-9]{{3}}(?![0-9Xx])",
    "bank_card": r"(?<!\d)[3-6][0-9]{15,18}(?![0-9Xx])"
                 r"|(?<!\d)(?<!\d[- ])[3-6][0-9]{3}([- ])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?(?!\d|\1\d)",
    "ipv4": rf"(?<![\dvV])(?<!\d\.)(?:{_OCTET}\.){{3}}{_OCTET}(?!\.?\d)",
    "ipv6": r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]{2,45}(?![0-9A-Za-z:.])",
}
REFERENCE = {k: re.compile(v) for k, v in REFERENCE.items()}

NOISE = "0123456789" * 3 + " -.:()（）+＋@aXxvfe中，\n"
TOKENS = [VALID_ID, ID_DIGIT, BAD_ID, CARD, CARD16, BAD_CARD, "13812345678", "138-1234-5678", "+86 ", "(+86)", "0086", "86",
          "010-", "(0755)", "（021）", "62345678", "1234567", "zs@example.com", "@qq.com", "192.168.1.1", "2001:db8::",
          "::ffff:", ".1", "6222 0212 ", "1985", "0101", make_id15("310104", 1965, 3, 9, 42), "v", "."]
mixed_text = st.lists(st.one_of(st.text(st.sampled_from(NOISE), max_size=8), st.sampled_from(TOKENS)), max_size=12).map("".join)


@PROPS
@given(mixed_text)
def test_fast_patterns_find_what_the_plain_ones_find(text):
    fast = pii.find_spans(text)
    saved = dict(pii.PATTERNS)
    try:
        pii.PATTERNS.update(REFERENCE)
        plain = pii.find_spans(text)
    finally:
        pii.PATTERNS.update(saved)
    assert fast == plain


# ---------------------------------------------------------------- properties

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经，。、；：？！“”《》"
han_text = st.text(st.sampled_from(HAN), max_size=40)
digits = lambda n: st.text(st.sampled_from("0123456789"), min_size=n, max_size=n)  # noqa: E731

ids18 = st.builds(lambda r, d, s: make_id(r, d.year, d.month, d.day, s), st.sampled_from(REGIONS),
                  st.dates(date(1930, 1, 1), date(2015, 12, 31)), st.integers(0, 999))
ids15 = st.builds(lambda r, d, s: make_id15(r, d.year, d.month, d.day, s), st.sampled_from(REGIONS),
                  st.dates(date(1930, 1, 1), date(1999, 12, 31)), st.integers(0, 999))


@st.composite
def cards(draw, grouped=True):
    prefix = draw(st.sampled_from(CARD_PREFIXES))
    n = draw(st.integers(16, 19))
    number = luhn_complete(prefix + draw(digits(n - 1 - len(prefix))))
    sep = draw(st.sampled_from(["", " ", "-"])) if grouped else ""
    return sep.join(number[i:i + 4] for i in range(0, n, 4)) if sep else number


@st.composite
def mobiles(draw):
    n = draw(st.sampled_from(MOBILE_PREFIXES)) + draw(digits(8))
    sep = draw(st.sampled_from(["", "-", " "]))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086-", "(+86)", "86"]))
    return prefix + sep.join((n[:3], n[3:7], n[7:]))


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(AREA_CODES))
    local = draw(st.sampled_from("2345678")) + draw(digits(draw(st.sampled_from([7] if len(area) == 3 else [6, 7]))))
    return draw(st.sampled_from(["{a}-{l}", "({a}){l}", "（{a}）{l}", "{a} {l}", "{a}{l}"])).format(a=area, l=local)


emails = st.builds(lambda u, d, t: f"{u}@{d}.{t}", st.from_regex(r"[a-z0-9][a-z0-9._]{0,15}", fullmatch=True),
                   st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True), st.sampled_from(["com", "cn", "net", "org", "com.cn", "edu.cn"]))
ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).flatmap(lambda a: st.sampled_from([str(a), a.exploded])).filter(
    lambda s: pii._valid_ipv6(s) == s)

VALUES = {"cn_id": st.one_of(ids18, ids15), "bank_card": cards(), "cn_mobile": mobiles(), "cn_landline": landlines(),
          "email": emails, "ipv4": ipv4s, "ipv6": ipv6s}


@PROPS
@given(st.sampled_from(PII_TYPES).flatmap(lambda k: st.tuples(st.just(k), VALUES[k])), han_text, han_text)
def test_a_valid_identifier_in_chinese_text_is_found_and_redacted(kind_value, before, after):
    kind, value = kind_value
    text = before + value + after
    assert find_spans(text) == [Hit(len(before), len(before) + len(value), kind)]
    out, counts = redact(text)
    assert out == before + pii.DEFAULT_PLACEHOLDERS[kind] + after
    assert counts == Counter({kind: 1})


@PROPS
@given(st.one_of(ids18, ids15), st.sampled_from(["", "0", "9", "12"]), st.sampled_from(["", "5", "X", "31"]), han_text)
def test_an_id_inside_a_longer_run_is_not_reported(value, head, tail, before):
    assume(head or tail)
    text = before + head + value + tail
    start = len(before + head)
    assert Hit(start, start + len(value), "cn_id") not in find_spans(text)


@PROPS
@given(ids18, st.randoms(use_true_random=False), han_text)
def test_a_wrong_check_character_is_never_an_id(value, rng, before):
    assert "cn_id" not in find_pii(before + wrong_last(value, rng, "0123456789X"))


@PROPS
@given(cards(grouped=False), st.randoms(use_true_random=False), st.sampled_from(["0", "1", "7", "8", "9", "00"]))
def test_a_wrong_luhn_digit_or_a_longer_run_is_never_a_card(value, rng, head):
    assert "bank_card" not in find_pii(wrong_last(value, rng))
    assert "bank_card" not in find_pii(head + value)  # no issuer starts with these: the run is no card
    if len(value) == 19:
        assert "bank_card" not in find_pii(value + "0")


@PROPS
@given(digits(18))
def test_random_18_digit_runs_are_ids_only_with_a_valid_check_digit(run):
    if "cn_id" in find_pii(run):
        assert pii.id_checksum_ok(run) and run[:2] in pii._PROVINCES
    if "bank_card" in find_pii(run):
        assert pii.luhn_ok(run) and run[0] in "3456"


@PROPS
@given(mobiles(), st.sampled_from(["0", "1", "86"]), st.sampled_from(["0", "9"]))
def test_a_phone_inside_a_longer_digit_run_is_no_phone(value, head, tail):
    assume(value[0].isdigit())
    assert "cn_mobile" not in find_pii(head + value + tail)


SEPARATORS = st.text(st.sampled_from(HAN + "\n"), min_size=1, max_size=6)


@PROPS
@given(st.lists(st.one_of(st.sampled_from(TOKENS), *VALUES.values()), max_size=8), SEPARATORS)
def test_redacting_separated_pieces_replaces_exactly_the_hits(pieces, sep):
    text = sep.join(pieces)
    out, counts = redact(text)
    spans = find_spans(text)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    rebuilt, pos = [], 0
    for h in spans:
        rebuilt += [text[pos:h.start], pii.DEFAULT_PLACEHOLDERS[h.kind]]
        pos = h.end
    assert out == "".join(rebuilt) + text[pos:]
    assert counts == Counter(h.kind for h in spans)


_PLACEHOLDER = re.compile("|".join(map(re.escape, set(pii.DEFAULT_PLACEHOLDERS.values()))))


@PROPS
@given(st.lists(st.one_of(han_text, mixed_text, *VALUES.values()), max_size=8).map("".join))
def test_redaction_is_idempotent_and_keeps_the_rest(text):
    out, counts = redact(text)
    assert redact(out) == (out, Counter())
    assert find_pii(out) == {}
    # Outside the placeholders the output is the input: the text between them, in order.
    pieces = _PLACEHOLDER.split(out)
    assert len(pieces) - 1 == sum(counts.values())
    assert re.fullmatch("(?s)" + ".+?".join(map(re.escape, pieces)), text)


def test_a_hit_glued_to_another_does_not_hide_it():
    assert redact("a@b.com13812345678") == ("<EMAIL><PHONE>", Counter(email=1, cn_mobile=1))
    assert find_pii("::ffff:7ae:7c0a110105200001010008") == {"cn_id": 1}
    assert redact("::ffff:7ae:7c0a110105200001010008") == ("<IP><ID>", Counter(ipv6=1, cn_id=1))


# ---------------------------------------------------------------- linear time on adversarial input

N = 200_000
ADVERSARIAL = {
    "digits": "1" * N, "zeros": "0" * N, "a@": "a@" * (N // 2), "1.": "1." * (N // 2), "colons": ":" * N,
    "1:": "1:" * (N // 2), "f:": "ffff:" * (N // 5), "::1.": "::1." * (N // 4), "letters": "a" * N,
    "dots then @": "a." * (N // 2) + "@", "@ then dots": "a@" + "a." * (N // 2), "long domain": "a@b" + ".c" * (N // 2),
    "1-": "1-" * (N // 2), "1 ": "1 " * (N // 2), "(0": "(0" * (N // 2), "card groups": "6222 " * (N // 5),
    "+86": "+86 " * (N // 4), "138-": "138-" * (N // 4), "1X": "1X" * (N // 2), "ids": VALID_ID * (N // 18),
    "phones": "13812345678 " * (N // 12), "phone@": "13812345678@qq.com " * (N // 19),
    "mixed": ("1.2:3-4 5@a.b(0" * N)[:N],
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_input_runs_in_linear_time(name):
    text = ADVERSARIAL[name]
    for kind, pattern in pii.PATTERNS.items():
        started = time.perf_counter()
        for _ in pattern.finditer(text):
            pass
        assert time.perf_counter() - started < 2.0, kind
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 2.0
