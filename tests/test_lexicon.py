"""Sensitive-word lexicons: matching rules, loading, default thresholds, pickling."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telechat_ptd.safety.lexicon import (
    Lexicon,
    LexiconConfig,
    LexiconError,
    LexiconThreshold,
    decide,
    default_lexicon,
)

# A court-ruling-like paragraph naming one crime (开设赌场罪) in passing.
COURT = (
    "浙江省杭州市西湖区人民法院刑事判决书。公诉机关杭州市西湖区人民检察院。被告人王某，男，1985年出生，"
    "汉族，初中文化，无业，户籍所在地浙江省杭州市。被告人因开设赌场罪于2019年3月被判处有期徒刑一年，"
    "2020年1月刑满释放。杭州市西湖区人民检察院以杭西检刑诉〔2021〕第118号起诉书指控被告人王某犯盗窃罪，"
    "于2021年6月10日向本院提起公诉。本院依法适用简易程序，实行独任审判，公开开庭审理了本案。"
    "公诉机关指控，2021年2月至4月间，被告人王某在本市西湖区多个小区内，先后三次窃取他人停放的电动自行车，"
    "经鉴定价值共计人民币八千余元。案发后，被告人王某如实供述了自己的罪行，赃物已追回并发还被害人。"
    "本院认为，被告人王某以非法占有为目的，多次秘密窃取他人财物，数额较大，其行为已构成盗窃罪。"
    "被告人曾因故意犯罪被判处有期徒刑，在刑罚执行完毕以后五年以内再犯应当判处有期徒刑以上刑罚之罪，"
    "是累犯，依法应当从重处罚。被告人到案后如实供述罪行，自愿认罪认罚，依法可以从轻处罚。"
    "依照《中华人民共和国刑法》第二百六十四条、第六十五条第一款、第六十七条第三款之规定，判决如下："
    "被告人王某犯盗窃罪，判处有期徒刑十个月，并处罚金人民币三千元。"
)
SPAM = (
    "澳门新葡京线上娱乐城，真人百家乐、老虎机、六合彩、时时彩、足球投注一站式博彩平台！"
    "注册送彩金，首存送100%，日返水1.2%，提现秒到，稳赚不赔！网上赌场信誉第一，"
    "体育投注亚洲盘口全网最高，网络赌博就选我们，立即下注赢大奖！"
)


def lex(**cats: list[str]) -> Lexicon:
    return Lexicon(cats)


def test_overlapping_terms_each_count_once_per_span():
    lx = lex(gambling=["赌博", "网络赌博"])
    assert lx.counts("网络赌博")["gambling"] == 2
    assert lx.counts("赌博赌博")["gambling"] == 2
    # one term listed under two categories counts for each
    both = lex(a=["赌博"], b=["赌博", "博彩"])
    assert both.counts("赌博") == {"a": 1, "b": 1}


def test_chinese_terms_match_without_boundaries():
    lx = lex(gambling=["赌博"])
    assert lx.counts("他因赌博被抓")["gambling"] == 1
    assert lx.counts("abc赌博def")["gambling"] == 1


def test_latin_terms_need_word_boundaries_and_ignore_case():
    lx = lex(en=["ass", "av女优"])
    assert lx.counts("a class act, passing")["en"] == 0
    assert lx.counts("ASS! you ass. Ass")["en"] == 3
    assert lx.counts("看AV女优")["en"] == 1
    assert lx.counts("WAV女优")["en"] == 0  # left boundary checked: term starts with a letter
    assert lx.counts("ass1")["en"] == 0  # digits are word characters too
    assert lx.counts("中文ass中文")["en"] == 1  # Chinese around is a boundary


def test_signals_and_density():
    lx = lex(gambling=["赌博"])
    text = "赌博" + "好" * 498
    sig = lx.signals(text)
    assert sig == {"lex_gambling_hits": 1, "lex_gambling_density": pytest.approx(2.0)}
    assert lx.signals("") == {"lex_gambling_hits": 0, "lex_gambling_density": 0.0}


def test_file_loading_bom_gbk_junk_short(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeff赌博\n# comment\n\n 博彩 \n赌\n赌博\n10086\n".encode("utf-8"))
    (tmp_path / "gbk.txt").write_bytes("色情网站\n裸聊\n".encode("gbk"))
    lx = Lexicon.from_files(str(tmp_path))
    assert lx.categories == ("bom", "gbk")
    assert lx.terms["bom"] == ["博彩", "赌博"]
    assert lx.terms["gbk"] == ["色情网站", "裸聊"]
    assert lx.report.skipped == {"short": 1, "duplicate": 1, "junk": 1}
    assert lx.counts("赌") == {"bom": 0, "gbk": 0}  # the 1-char term was not loaded
    keep_short = Lexicon.from_files(str(tmp_path / "bom.txt"), min_term_chars=1)
    assert keep_short.counts("赌")["bom"] == 1


def test_category_from_stem_or_named(tmp_path):
    f = tmp_path / "色情词库.txt"
    f.write_text("黄片\n", encoding="utf-8")
    assert Lexicon.from_files(str(f)).categories == ("色情词库",)
    assert Lexicon.from_files(f"porn={f}").categories == ("porn",)
    cfg = LexiconConfig(paths=[f"porn={f}", "default"])
    lx = Lexicon.from_config(cfg)
    assert "黄片" in lx.terms["porn"] and "gambling" in lx.categories


def test_undecodable_file_names_file_and_line(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes("好词\n".encode() + b"ok\n\x81\x20bad\n")
    with pytest.raises(LexiconError, match=r"bad\.txt:3"):
        Lexicon.from_files(str(f))
    with pytest.raises(LexiconError, match="not found"):
        Lexicon.from_files(str(tmp_path / "missing.txt"))


def test_config_defaults_and_forbid():
    cfg = LexiconConfig()
    assert cfg.sources() == ["default"] and cfg.thresholds["default"].min_hits == 5
    cfg = LexiconConfig(thresholds={"porn": {"min_hits": 1, "min_density": 0}})
    assert set(cfg.thresholds) == {"default", "porn"}
    with pytest.raises(ValueError):
        LexiconConfig(bogus=1)


def test_default_thresholds_keep_court_ruling_drop_gambling_spam():
    lx, cfg = default_lexicon(), LexiconConfig()
    assert 300 <= len(COURT) <= 600
    court = lx.signals(COURT)
    assert 1 <= court["lex_gambling_hits"] < 3
    assert decide(court, cfg) == (None, None)
    reason, detail = decide(lx.signals(SPAM), cfg)
    assert reason == "lexicon_gambling" and "hits" in detail


def test_per_category_threshold_overrides_default():
    lx = default_lexicon()
    cfg = LexiconConfig(thresholds={"gambling": LexiconThreshold(min_hits=1, min_density=0.0)})
    assert decide(lx.signals(COURT), cfg)[0] == "lexicon_gambling"


def test_pickle_round_trip_rebuilds_automaton():
    lx = lex(gambling=["赌博", "网络赌博"], en=["ass"])
    before = lx.counts("网络赌博 ass")
    clone = pickle.loads(pickle.dumps(lx))
    assert clone._automaton is None
    assert clone.counts("网络赌博 ass") == before == {"en": 1, "gambling": 2}


_DEFAULT = default_lexicon()
_GAMBLING = [t for t in _DEFAULT.terms["gambling"] if all("\u4e00" <= c <= "\u9fff" for c in t)]
_TERM_CHARS = {c for terms in _DEFAULT.terms.values() for t in terms for c in t}
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_CLEAN_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(lambda c: c not in _TERM_CHARS)


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.text(_CJK, max_size=30), min_size=1, max_size=6),
    term=st.sampled_from(_GAMBLING),
    k=st.integers(1, 5),
)
def test_property_inserting_term_k_times_adds_k_hits(chunks, term, k):
    # Concatenation never destroys a chunk's hits (no boundaries for Chinese), so the joined
    # text holds every chunk's hits plus at least k for the inserted copies.
    parts = [chunks[i % len(chunks)] if i % 2 == 0 else term for i in range(2 * k + 1)]
    pieces = [p for i, p in enumerate(parts) if i % 2 == 0]
    base = sum(_DEFAULT.counts(p)["gambling"] for p in pieces)
    assert _DEFAULT.counts("".join(parts))["gambling"] >= base + k


@settings(max_examples=60, deadline=None)
@given(st.text(_CLEAN_CJK, max_size=200))
def test_property_text_without_term_characters_has_no_hits(text):
    assert not any(_DEFAULT.counts(text).values())


def test_lone_surrogates_empty_lexicon_and_n_terms():
    lx = lex(gambling=["赌博", "网络赌博"], other=["赌博"])
    assert lx.n_terms == 2  # distinct terms across categories
    assert lx.counts("\ud800网络赌博\udfff") == {"gambling": 2, "other": 1}
    empty = Lexicon({"x": []})
    assert empty.n_terms == 0 and empty.counts("赌博") == {"x": 0}


def test_boundaries_next_to_non_ascii_and_length_changing_case_fold():
    lx = lex(en=["ass", "x1"])
    assert lx.counts("éass äx1ü")["en"] == 2  # non-ASCII letters are boundaries
    # "İ".lower() is "i" + U+0307: boundaries are checked in the folded text, where it starts
    # with an ASCII letter
    assert lx.counts("assİ ASS")["en"] == 1


def _reference_counts(lx: Lexicon, text: str) -> dict[str, int]:
    """Every span of every term, checked by brute force."""
    text = text.lower()

    def word(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()

    counts = dict.fromkeys(lx.categories, 0)
    for category, terms in lx.terms.items():
        for term in terms:
            for start in range(len(text) - len(term) + 1):
                if not text.startswith(term, start):
                    continue
                end = start + len(term)
                if word(start) and word(start - 1) or word(end - 1) and word(end):
                    continue
                counts[category] += 1
    return counts


_MIXED = lex(a=["赌博", "网络赌博", "ab", "b赌"], b=["博彩", "赌博", "ab1", "bab"])


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from("网络赌博彩aAbB1 é"), max_size=40))
def test_property_counts_match_brute_force(text):
    assert _MIXED.counts(text) == _reference_counts(_MIXED, text)
