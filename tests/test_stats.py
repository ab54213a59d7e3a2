from __future__ import annotations

import json

import apache_beam as beam
import pytest

from telechat_ptd.pipeline.stats import AccountingError, WriteStats, build_stats, check_balance


def test_build_stats_totals_per_source_and_reason():
    stats = build_stats({
        ("input", "web"): 10, ("input", "book"): 2,
        ("kept", "web"): 5, ("kept", "book"): 1,
        ("rejected", "web", "filter", "too_short"): 3, ("rejected", "book", "dedup", "exact_duplicate"): 1,
        ("error", "web", "read"): 2,
        ("normalize", "boilerplate_lines_removed"): 7,
        ("kept_bytes", "web"): 100,
    })
    assert stats["balanced"] and (stats["input"], stats["kept"], stats["rejected"], stats["errors"]) == (12, 6, 4, 2)
    assert stats["rejected_by_reason"] == {"exact_duplicate": 1, "too_short": 3}
    assert stats["rejected_by_stage"] == {"dedup": 1, "filter": 3}
    assert stats["sources"]["web"]["rejected_by_reason"] == {"too_short": 3}
    assert stats["sources"]["book"]["rejected_by_stage"] == {"dedup": 1}
    assert stats["sources"]["web"]["errors_by_stage"] == {"read": 2}
    assert stats["normalize"]["boilerplate_lines_removed"] == 7
    check_balance(stats)


def test_a_lost_document_is_caught_per_source():
    stats = build_stats({("input", "web"): 3, ("input", "book"): 1, ("kept", "web"): 3, ("kept", "book"): 0,
                         ("rejected", "web", "filter", "x"): 1})
    assert not stats["balanced"]  # totals balance (4 = 3 + 1), the sources do not
    with pytest.raises(AccountingError, match="book: input 1 != kept 0"):
        check_balance(stats)


def test_pipeline_fails_and_leaves_the_evidence(tmp_path):
    path = tmp_path / "stats.json"
    with pytest.raises(Exception, match="accounting failed"):
        with beam.Pipeline() as p:
            p | beam.Create([(("input", "web"), 2), (("kept", "web"), 1)]) | WriteStats(str(path))
    assert json.loads(path.read_text())["balanced"] is False


def test_summary_reports_pii_and_skipped_web_records():
    from rich.console import Console

    from telechat_ptd.pipeline.summary import print_summary

    stats = build_stats({("input", "web"): 10, ("kept", "web"): 9, ("rejected", "web", "safety", "toxic"): 1,
                         ("pii", "cn_mobile"): 3, ("pii", "email"): 1, ("pii", "documents_redacted"): 2,
                         ("warc_skipped", "request"): 10, ("warc_skipped", "status_404"): 1})
    console = Console(record=True, width=200)
    print_summary(stats, "clean", "out", 2.0, console)
    text = console.export_text()
    assert "toxic" in text and "PII redacted in 2 kept documents: cn_mobile 3, email 1" in text
    assert "no documents (skipped): 11 (request 10, status_404 1)" in text
