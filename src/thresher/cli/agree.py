"""`thresher agree`: annotator agreement and consensus labels, printed as a short summary.

A thin wrapper: :func:`thresher.quality.agree.agree` does the work and this file only prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["command"]

MAX_MATRIX = 10  # annotators shown in the kappa matrix; the JSON report has them all

console = Console(highlight=False)


def command(
    path: str = typer.Argument(..., help="Annotations: a long table (CSV, TSV, JSONL, Parquet), a Label "
                               "Studio JSON export, or a doccano export (zip, folder or JSONL)."),
    out_dir: Optional[Path] = typer.Option(None, "-o", "--out", "--out-dir",
                                           help="Folder for agreement.json and consensus.csv."),
    format: Optional[str] = typer.Option(None, "--format", help="csv, tsv, jsonl, json, parquet, "
                                         "label_studio or doccano (detected when omitted)."),
    item: Optional[str] = typer.Option(None, "--item", help="Item id column (inferred when omitted)."),
    annotator: Optional[str] = typer.Option(None, "--annotator", help="Annotator column (inferred)."),
    label: Optional[str] = typer.Option(None, "--label", help="Label column, or Label Studio control."),
    text: Optional[str] = typer.Option(None, "--text", help="Text column carried into consensus.csv."),
    level: str = typer.Option("nominal", "--level", help="nominal, ordinal or interval."),
    order: Optional[str] = typer.Option(None, "--order", help="Label order, lowest first: a,b,c."),
    items: Optional[Path] = typer.Option(None, "--items", help="Known item ids: one per line, or a CSV "
                                         "with an id column."),
    unknown_items: str = typer.Option("error", "--unknown-items",
                                      help="Annotations on items not in --items: error or drop."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap draws for the intervals "
                                  "(0: none)."),
    seed: int = typer.Option(13, "--seed", help="Seed of the bootstrap draws."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Annotator agreement (Cohen, Fleiss, Krippendorff) and consensus labels (majority, Dawid-Skene)."""
    from thresher.quality.agree import agree

    report = agree(path, format=format, item=item, annotator=annotator, label=label, text=text,
                   level=level, order=[v.strip() for v in order.split(",")] if order else None,
                   items=items, unknown_items=unknown_items, bootstrap=bootstrap, seed=seed, out_dir=out_dir)
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False))
        return
    _print_summary(report.to_dict())
    _print_matrix(report.cohen)
    _print_annotators(report.per_annotator)
    for name, where in report.files.items():
        _say(f"{name}: {where}")


def _print_summary(report: dict[str, Any]) -> None:
    _say(f"{report['source']} ({report['format']}): {len(report['annotators'])} annotators, "
                  f"{report['n_items']:,} items, {report['n_annotations']:,} annotations; "
                  f"labels: {', '.join(report['labels'][:12])}{', ...' if len(report['labels']) > 12 else ''}")
    for note in report["notes"]:
        _say(f"note: {note}")
    fleiss = report["fleiss"]
    used = ""
    if fleiss["items_used"]:
        used = f" ({fleiss['items_used']} items with {fleiss['ratings_per_item']} ratings)"
    _say(f"Fleiss' kappa: {_value(fleiss)}{used}")
    _say(f"Krippendorff's alpha ({report['alpha']['level']}): {_value(report['alpha'])}")
    mean = report["cohen"]["mean"]
    _say(f"mean pairwise Cohen's kappa: {_value(mean)} over {mean['pairs_used']} pairs")
    ties = report["aggregation"]["majority"]["ties"]
    _say(f"majority-vote ties: {ties} ({report['aggregation']['majority']['tie_rule']}); "
                  f"majority = Dawid-Skene on {report['aggregation']['majority_equals_ds']:.1%} of items")


def _say(line: str) -> None:
    """One plain line: never wrapped (paths stay whole), never read as rich markup."""
    console.print(line, soft_wrap=True, markup=False)


def _value(stat: dict[str, Any]) -> str:
    if stat["value"] is None:
        return f"undefined ({stat['why']})"
    ci = stat.get("ci") or {}
    interval = f" [95% CI {ci['low']:.3f}, {ci['high']:.3f}]" if ci.get("low") is not None else ""
    return f"{stat['value']:.3f}{interval}"


def _print_matrix(cohen: dict[str, Any]) -> None:
    names = cohen["annotators"]
    if len(names) > MAX_MATRIX:
        _say(f"(Cohen's kappa matrix of {len(names)} annotators: see agreement.json or --json)")
        return
    table = Table(title="Cohen's kappa (items both labelled)", title_justify="left")
    table.add_column("")
    for name in names:
        table.add_column(escape(name), justify="right")
    for name, row in zip(names, cohen["matrix"]):
        table.add_row(escape(name), *["" if v is None and a == name else ("-" if v is None else f"{v:.3f}")
                              for a, v in zip(names, row)])
    console.print(table)


def _print_annotators(rows: list[dict[str, Any]]) -> None:
    table = Table(title="per annotator", title_justify="left")
    for column in ("annotator", "items", "= majority", "= Dawid-Skene", "DS accuracy"):
        table.add_column(column, justify="left" if column == "annotator" else "right")
    for row in rows[:50]:
        table.add_row(escape(row["annotator"]), f"{row['items']:,}", _share(row["agreement_majority"]),
                      _share(row["agreement_ds"]), _share(row["ds_accuracy"]))
    console.print(table)
    if len(rows) > 50:
        _say(f"({len(rows) - 50} more annotators in agreement.json)")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
