"""Full-width ASCII letters, digits and symbols to half-width.

NFKC would also fold the full-width Chinese punctuation (，！？：；（）) that is correct in
Chinese prose, so the mapping is explicit: U+FF01-U+FF5E minus that punctuation, shifted by
0xFEE0 onto ASCII.
"""

from __future__ import annotations

import numpy as np

from telechat_ptd.charclass import codepoints, from_codepoints

KEEP = "，！？：；（）"
FOLDED = [cp for cp in range(0xFF01, 0xFF5F) if chr(cp) not in KEEP]
_FOLD_TABLE = np.zeros(0x10000, dtype=bool)
_FOLD_TABLE[FOLDED] = True


def fold_width(text: str) -> str:
    cps = codepoints(text).copy()
    mask = _FOLD_TABLE[np.minimum(cps, 0xFFFF)]
    cps[mask] -= 0xFEE0
    return from_codepoints(cps)
