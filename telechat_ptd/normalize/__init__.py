"""Normalization: pure, idempotent text-to-text steps, composed by ``Normalizer``.

One scan of the codepoints tells which steps a document needs; the expensive ones (ftfy,
OpenCC, control stripping, width folding) only run on documents that hold a character they
would change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telechat_ptd.charclass import codepoints, flag_table
from telechat_ptd.kernels import flags_present
from telechat_ptd.normalize import chinese, unicode_fix, whitespace, width
from telechat_ptd.normalize.boilerplate import BoilerplateRemover

if TYPE_CHECKING:
    from telechat_ptd.pipeline.config import NormalizeConfig

MOJIBAKE, STRIP, WIDTH, TRADITIONAL, SPACE = 1, 2, 4, 8, 16


class Normalizer:
    """Unicode repair → controls → width → simplified Chinese → lines, boilerplate, blanks."""

    def __init__(self, cfg: NormalizeConfig):
        self.cfg = cfg
        bp = cfg.boilerplate
        self.boilerplate = BoilerplateRemover(bp.patterns, bp.max_line_chars) if bp.enabled else None
        groups = [
            (MOJIBAKE, unicode_fix.MOJIBAKE_HINTS),
            (STRIP, unicode_fix.STRIPPED),
            (WIDTH, width.FOLDED),
            (SPACE, whitespace.SPECIAL),
        ]
        if cfg.opencc:
            groups.append((TRADITIONAL, chinese.changed_chars(cfg.opencc)))
        self._table = flag_table(*groups)

    def __call__(self, text: str) -> str:
        return self.normalize(text)[0]

    def normalize(self, text: str) -> tuple[str, int]:
        """Normalized text and the number of boilerplate lines removed.

        ftfy judges mojibake by its context, and the later steps change that context (an edge
        space stripped, a line dropped), so a document that went through ftfy is normalized
        again until it no longer changes: normalization stays idempotent.
        """
        text, removed, repaired = self._normalize_once(text)
        for _ in range(3):
            if not repaired:
                break
            again, more, repaired = self._normalize_once(text)
            if again == text:
                break
            text, removed = again, removed + more
        return text, removed

    def _normalize_once(self, text: str) -> tuple[str, int, bool]:
        cfg = self.cfg
        flags = flags_present(codepoints(text), self._table)
        repaired = cfg.fix_unicode == "always" or (cfg.fix_unicode == "auto" and bool(flags & MOJIBAKE))
        if repaired:
            text = unicode_fix.fix_unicode(text)
            flags = flags_present(codepoints(text), self._table)
        else:
            text = unicode_fix.nfc(text)
        if cfg.strip_controls and flags & STRIP:
            text = unicode_fix.strip_controls(text)
        if cfg.fold_width and flags & WIDTH:
            text = width.fold_width(text)
        if cfg.opencc and flags & TRADITIONAL:
            text = chinese.to_simplified(text, cfg.opencc)
        lines = whitespace.normalize_lines(text, special=bool(flags & SPACE))
        removed = 0
        if self.boilerplate is not None:
            lines, removed = self.boilerplate.filter(lines)
        return whitespace.join_lines(lines), removed, repaired
