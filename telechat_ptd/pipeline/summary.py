"""The short report ``ptd`` prints when a job ends."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_summary(stats: dict, mode: str, output: str, seconds: float, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    n_in = stats["input"] or 1
    mb = stats.get("input_bytes", 0) / 1e6
    table = Table(title=f"ptd {mode} → {output}", title_justify="left", show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("documents", justify="right")
    table.add_column("share", justify="right")
    table.add_row("input", f"{stats['input']:,}", "100.0%")
    table.add_row("[green]kept[/]", f"{stats['kept']:,}", f"{stats['kept'] / n_in:.1%}")
    table.add_row("[yellow]rejected[/]", f"{stats['rejected']:,}", f"{stats['rejected'] / n_in:.1%}")
    reasons = sorted(stats.get("rejected_by_reason", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    for reason, n in reasons:
        table.add_row(f"  {reason}", f"{n:,}", f"{n / n_in:.1%}")
    table.add_row("[red]errors[/]", f"{stats['errors']:,}", f"{stats['errors'] / n_in:.1%}")
    for stage, n in sorted(stats.get("errors_by_stage", {}).items()):
        table.add_row(f"  {stage}", f"{n:,}", f"{n / n_in:.1%}")
    console.print(table)
    scorer_ms = stats.get("scorer_ms") or {}
    if scorer_ms:
        console.print("scorer time in workers: " + ", ".join(f"{name} {ms / 1000:.1f} s" for name, ms in sorted(scorer_ms.items())))
    pii = dict(stats.get("pii") or {})
    if pii:
        redacted = pii.pop("documents_redacted", 0)
        console.print(f"PII redacted in {redacted:,} kept documents: " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(pii.items())))
    skipped = stats.get("warc_skipped") or {}
    if skipped:
        console.print(f"web archive records that are no documents (skipped): {sum(skipped.values()):,} ("
                      + ", ".join(f"{reason} {n:,}" for reason, n in sorted(skipped.items())) + ")")
    balance = "[green]balanced[/]" if stats["balanced"] else "[red]NOT balanced[/]"
    console.print(
        f"{seconds:.1f} s, {stats['input'] / seconds:,.0f} docs/s, {mb / seconds:.2f} MB/s of text "
        f"({mb:.1f} MB in, {stats.get('kept_bytes', 0) / 1e6:.1f} MB kept); accounting {balance}; "
        f"stats in {output}/stats.json"
    )
