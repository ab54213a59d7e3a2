"""Boilerplate line removal: navigation, share buttons, copyright and editor lines.

A line is dropped when it matches a pattern *and* is short: "点击查看" in a navigation bar is
boilerplate, the same words inside a paragraph of reporting are not.
"""

from __future__ import annotations

import re


class BoilerplateRemover:
    def __init__(self, patterns: list[str], max_line_chars: int):
        self.max_line_chars = max_line_chars
        self._regex = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None

    def is_boilerplate(self, line: str) -> bool:
        return (
            self._regex is not None
            and 0 < len(line) <= self.max_line_chars
            and self._regex.search(line) is not None
        )

    def filter(self, lines: list[str]) -> tuple[list[str], int]:
        """Lines without boilerplate, and how many were removed."""
        kept = [line for line in lines if not self.is_boilerplate(line)]
        return kept, len(lines) - len(kept)
