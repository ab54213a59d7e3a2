from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telechat_ptd.normalize import Normalizer
from telechat_ptd.normalize.boilerplate import BoilerplateRemover
from telechat_ptd.normalize.chinese import to_simplified
from telechat_ptd.normalize.unicode_fix import fix_unicode, strip_controls
from telechat_ptd.normalize.whitespace import join_lines, normalize_lines
from telechat_ptd.normalize.width import fold_width

from .conftest import ZH_NEWS


@pytest.fixture(scope="module")
def norm(cfg):
    return Normalizer(cfg.normalize)


def test_mojibake_is_repaired(norm):
    broken = ZH_NEWS.encode("utf-8").decode("latin-1")
    assert "å" in broken or "ä" in broken
    assert norm(broken) == norm(ZH_NEWS)


def test_fix_unicode_replaces_lone_surrogates():
    assert fix_unicode("abc\ud800def") == "abc\ufffddef"


def test_controls_and_zero_width_are_stripped(norm):
    text = "新华社\u200b北京\ufeff电\x07，记者\u200d报道。\x00"
    assert strip_controls(text) == "新华社北京电，记者报道。"
    assert norm(text) == "新华社北京电，记者报道。"


def test_full_width_ascii_folds_but_chinese_punctuation_stays():
    assert fold_width("２０２３年ＧＤＰ增长５％，达到Ｈｅｌｌｏ！（注）：好；吗？") == "2023年GDP增长5%，达到Hello！（注）：好；吗？"


def test_traditional_becomes_simplified(norm):
    assert to_simplified("國務院新聞辦公室舉行發佈會") == "国务院新闻办公室举行发布会"
    assert norm("臺灣的經濟發展與兩岸關係") == "台湾的经济发展与两岸关系"


def test_whitespace_lines_and_paragraphs(norm):
    text = "　　第一段\t第一行  \r\n\r\n\r\n\n  第二段\u3000\u3000内容 \n\n\n"
    assert norm(text) == "第一段 第一行\n\n第二段 内容"
    assert join_lines(normalize_lines("a\n\n\n\nb\n")) == "a\n\nb"


def test_boilerplate_only_removes_short_matching_lines(cfg):
    remover = BoilerplateRemover(cfg.normalize.boilerplate.patterns, cfg.normalize.boilerplate.max_line_chars)
    lines = [
        "首页 > 新闻中心 > 正文",
        "（责任编辑：王小明）",
        "扫一扫，关注我们的微信公众号",
        "上一篇：国务院召开常务会议",
        "记者在现场看到，许多市民点击查看了新上线的政务服务平台，并对其便利程度表示认可，认为这是一项实实在在的民生工程。",
        "正文内容。",
    ]
    kept, removed = remover.filter(lines)
    assert removed == 4
    assert kept == lines[4:]


def test_normalizer_counts_removed_boilerplate(norm):
    page = "网站首页 | 新闻 | 财经 | 登录 | 注册\n" + ZH_NEWS + "\n责任编辑：李华\n分享到：微信 微博"
    text, removed = norm.normalize(page)
    assert removed == 3
    assert text == norm(ZH_NEWS)


def test_each_step_can_be_switched_off(cfg):
    off = cfg.normalize.model_copy(update={"fold_width": False, "opencc": None, "strip_controls": False})
    n = Normalizer(off)
    assert n("ＡＢ國\u200b") == "ＡＢ國\u200b"


_pieces = st.lists(
    st.text(max_size=20)
    | st.sampled_from(["的", "了", "是", "國語", "。", "，", "！", "ＡＢ１２", "\u3000", "\u200b", "\n", "\r\n", "\t", " ",
                       "é", "Ã©", "â€œ", "ä¸\xadå\x9b½", "责任编辑：某", "\n\n\n"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pieces)
def test_normalization_is_idempotent(cfg, text):
    n = Normalizer(cfg.normalize)
    once = n(text)
    assert n(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalization_never_raises_and_yields_encodable_text(cfg, text):
    out = Normalizer(cfg.normalize)(text)
    out.encode("utf-8")
    assert "\r" not in out and not out.startswith((" ", "\n")) and not out.endswith((" ", "\n"))
