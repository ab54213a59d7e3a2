"""Matplotlib fonts that draw Chinese.

Matplotlib's default DejaVu Sans draws every Han character as an empty box. An installed CJK
family is used when there is one (Debian's fonts-noto-cjk, macOS, Windows), else the Noto Sans
CJK SC file that the ``mplfonts`` package ships, so a bare virtualenv renders Chinese too.
"""

from __future__ import annotations

from importlib import resources

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "PingFang SC", "Microsoft YaHei", "SimHei", "Noto Sans CJK JP",
)


class FontError(RuntimeError):
    pass


def setup_cjk_fonts() -> str:
    """Make matplotlib draw Chinese: an installed CJK family first, DejaVu Sans as fallback for
    the rest. Returns the CJK family used."""
    from matplotlib import font_manager, rcParams

    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = next((name for name in CJK_FAMILIES if name in installed), None)
    if family is None:
        try:
            path = resources.files("mplfonts").joinpath("fonts/NotoSansCJKsc-Regular.otf")
        except ModuleNotFoundError:
            raise FontError("no CJK font: pip install mplfonts, or apt-get install fonts-noto-cjk") from None
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [family, *(f for f in rcParams["font.sans-serif"] if f != family)]
    rcParams["axes.unicode_minus"] = False  # not every CJK font has U+2212
    return family
