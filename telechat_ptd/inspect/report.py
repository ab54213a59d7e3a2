"""What ``ptd inspect`` shows: rich tables in the terminal and one self-contained HTML file
(styles inline, figures as embedded PNG), which opens from disk without a server."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from rich.console import Console
from rich.table import Table

from telechat_ptd.inspect.analyze import Inspection
from telechat_ptd.inspect.scan import HAN_BINS


def overview_rows(r: Inspection) -> list[tuple[str, str]]:
    s = r.scan
    docs = max(1, s.docs)
    rate = s.compressed_bytes / 1e6 / max(r.seconds, 1e-9)
    rows = [
        ("files", f"{len(s.files):,}"),
        ("documents", f"{s.docs:,}"),
        ("characters", f"{s.chars:,}"),
        ("bytes (uncompressed)", f"{s.raw_bytes:,}"),
        ("bytes (on disk)", f"{s.compressed_bytes:,}"),
        ("characters per document: mean / median / p90", f"{s.chars / docs:,.0f} / {r.median_chars:,.0f} / {r.p90_chars:,.0f}"),
        ("Chinese characters (U+4E00-9FFF) / all", f"{s.han / max(1, s.chars):.1%}"),
        ("exact duplicates (all documents)", f"{r.exact_dup_docs:,} ({r.exact_dup_docs / docs:.2%})"),
        (f"near duplicates (MinHash, {r.analysed:,} sampled)", f"{r.near_dup_share:.2%}"),
        ("schema violations (lines not {\"data\": str})", f"{s.violations:,}"),
        ("unreadable files", f"{len(s.file_errors):,}"),
        ("time", f"{r.seconds:.1f} s, {rate:,.1f} MB/s of files on disk, {r.workers} process(es)"),
    ]
    return rows


def print_report(r: Inspection, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    table = Table(title="ptd inspect", title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    for k, v in overview_rows(r):
        table.add_row(k, v)
    console.print(table)

    side = Table(title=f"estimated from {r.analysed:,} sampled documents", title_justify="left")
    side.add_column("language")
    side.add_column("share", justify="right")
    for lang, n in r.languages.most_common():
        side.add_row(lang, f"{n / max(1, r.analysed):.1%}")
    for kind in sorted(r.pii_docs):
        side.add_row(f"PII: {kind}", f"{r.pii_docs[kind] / max(1, r.analysed):.2%} of docs, {r.pii_hits[kind]:,} hits")
    console.print(side)
    console.print("top characters: " + " ".join(f"{c}({n:,})" for c, n in r.top_chars[:20]))
    for n, grams in r.top_ngrams.items():
        console.print(f"top {n}-grams: " + "  ".join(f"{g}({c:,})" for g, c in grams[:10]))
    if r.scan.violation_examples:
        v = Table(title=f"schema violations ({r.scan.violations:,}; first {len(r.scan.violation_examples)})", title_justify="left")
        for col in ("file:line", "error", "line"):
            v.add_column(col, overflow="fold")
        for ex in r.scan.violation_examples[:20]:
            v.add_row(f"{ex.file}:{ex.line}", ex.error, ex.raw[:80])
        console.print(v)
    for path, error in r.scan.file_errors.items():
        console.print(f"[red]unreadable[/] {path}: {error}")
    if r.annotate is not None:
        a = Table(title=f"our filters on {r.analysed:,} sampled documents", title_justify="left")
        a.add_column("decision")
        a.add_column("documents", justify="right")
        a.add_column("share", justify="right")
        for reason, n in r.annotate.most_common():
            a.add_row(reason, f"{n:,}", f"{n / max(1, r.analysed):.1%}")
        console.print(a)
    for i, text in enumerate(r.sample, 1):
        console.print(f"[bold]random document {i}[/] ({len(text):,} chars): {text[:200]}{'…' if len(text) > 200 else ''}")


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figures(r: Inspection) -> dict[str, str]:
    """Title -> base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from telechat_ptd.fonts import setup_cjk_fonts

    setup_cjk_fonts()
    out = {}
    hist = r.scan.length_hist
    last = max(int(np.flatnonzero(hist).max()) + 1 if hist.any() else 1, 1)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar([f"<{2 ** (i + 1) - 1:,}" for i in range(last)], hist[:last], color="#4472c4")
    ax.set_title("文档长度 document length (characters)")
    ax.set_ylabel("documents")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    out["Document length"] = _png(fig)

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(np.arange(HAN_BINS + 1) / HAN_BINS, r.scan.han_hist, width=0.8 / HAN_BINS, color="#c0504d", align="edge")
    ax.set_title("汉字比例 share of Chinese characters per document")
    ax.set_xlabel("Chinese characters / characters")
    ax.set_ylabel("documents")
    out["Chinese character share"] = _png(fig)

    if r.top_chars:
        fig, ax = plt.subplots(figsize=(7, 3))
        chars, counts = zip(*r.top_chars)
        ax.bar(range(len(chars)), counts, color="#9bbb59")
        ax.set_xticks(range(len(chars)), [repr(c)[1:-1] if not c.isprintable() else c for c in chars])
        ax.set_title(f"最常见字符 top characters ({r.analysed:,} sampled documents)")
        out["Top characters"] = _png(fig)

    if r.annotate:
        fig, ax = plt.subplots(figsize=(6, 0.5 + 0.3 * len(r.annotate)))
        items = r.annotate.most_common()[::-1]
        ax.barh([k for k, _ in items], [v for _, v in items], color=["#4472c4" if k == "keep" else "#c0504d" for k, _ in items])
        ax.set_title("我们的过滤器 what our filters would do (sampled documents)")
        out["Our filters"] = _png(fig)
    return out


def _table(rows, header=None) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


CSS = """body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
td:last-child{text-align:right}.doc{white-space:pre-wrap;border:1px solid #ddd;padding:8px;margin:6px 0;background:#fafafa}
img{max-width:100%;margin:4px 12px 12px 0}h2{border-bottom:1px solid #ccc;padding-bottom:3px}.grid{display:flex;flex-wrap:wrap}"""


def html_report(r: Inspection, title: str = "TeleChat-PTD shards") -> str:
    s = r.scan
    parts = [f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             "<h2>Overview</h2>", _table(overview_rows(r)),
             "<h2>Figures</h2><div class='grid'>"]
    parts += [f"<figure><img alt='{html.escape(k)}' src='data:image/png;base64,{v}'><figcaption>{html.escape(k)}</figcaption></figure>"
              for k, v in figures(r).items()]
    parts.append("</div>")
    parts.append(f"<h2>Estimated from {r.analysed:,} sampled documents</h2>")
    parts.append(_table([(lang, f"{n / max(1, r.analysed):.1%}") for lang, n in r.languages.most_common()], ["language", "share"]))
    parts.append(_table([(k, r.pii_docs[k], r.pii_hits[k]) for k in sorted(r.pii_docs)] or [("none found", 0, 0)],
                        ["PII type", "documents", "hits"]))
    parts.append(_table([(c, n) for c, n in r.top_chars], ["character", "count"]))
    for n, grams in r.top_ngrams.items():
        parts.append(_table(grams, [f"{n}-gram", "count"]))
    if r.annotate is not None:
        parts.append("<h2>What our filters would drop</h2>")
        parts.append(_table([(k, v, f"{v / max(1, r.analysed):.1%}") for k, v in r.annotate.most_common()], ["decision", "documents", "share"]))
        for reason, texts in r.annotate_examples.items():
            parts += [f"<div class='doc'><b>{html.escape(reason)}</b>\n{html.escape(t[:600])}</div>" for t in texts]
    parts.append(f"<h2>Schema violations ({s.violations:,})</h2>")
    parts.append(_table([(f"{v.file}:{v.line}", v.error, v.raw[:120]) for v in s.violation_examples] or [("none", "", "")],
                        ["file:line", "error", "line"]))
    if s.file_errors:
        parts.append(_table(list(s.file_errors.items()), ["unreadable file", "error"]))
    parts.append(f"<h2>Random documents ({len(r.sample)})</h2>")
    parts += [f"<div class='doc'>{html.escape(t[:2000])}{'…' if len(t) > 2000 else ''}</div>" for t in r.sample]
    parts.append("<h2>Files</h2>" + _table([(f,) for f in s.files], ["file"]) + "</body></html>")
    return "\n".join(parts)
