"""`thresher audit`: likely label errors, outliers and near-duplicates, written for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

__all__ = ["command"]


def command(
    source: str = typer.Argument(..., help="A run folder (all splits) or a labelled data file."),
    out: Optional[Path] = typer.Option(None, "-o", "--out",
                                       help="Folder for audit.json and the suspects "
                                            "[default: RUN_DIR/audit, or ./audit for a file]."),
    text: Optional[str] = typer.Option(None, "--text", help="Text column (inferred when omitted)."),
    label: Optional[str] = typer.Option(None, "--label", help="Label column (inferred when omitted)."),
    features: str = typer.Option("tfidf", "--features",
                                 help="tfidf, minilm, tfidf+minilm, or an encoder folder."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds."),
    filter_by: str = typer.Option("prune_by_noise_rate", "--filter-by",
                                  help="cleanlab's rule for flagging label errors."),
    format: str = typer.Option("csv", "--format", help="Suspects file: csv or jsonl."),
    seed: int = typer.Option(13, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print audit.json instead of a summary."),
) -> None:
    """Rank likely label errors (cleanlab on k-fold probabilities), outliers and near-duplicates;
    write them for review. Apply the reviewed file with the recipe step `apply_review`."""
    from thresher.quality.audit import audit

    if out is None and not (Path(source) / "manifest.json").is_file():
        out = Path("audit")
    report = audit(source, text=text, label=label, features=features, folds=folds,
                   filter_by=filter_by, seed=seed, out_dir=out, suspects_format=f".{format}")
    if as_json:
        print(json.dumps(report.to_dict(), indent=1, ensure_ascii=False))
        return
    counts = report.counts
    print(f"audited {report.rows:,} rows ({report.settings['features']}, {report.settings['folds']} "
          f"folds): out-of-sample predictions agree with {report.oof_accuracy:.1%} of labels")
    print(f"  likely label errors {counts['label_error']:,}   outliers {counts['outlier']:,}   "
          f"near-duplicates {counts['near_duplicate']:,}")
    for reason, n in report.not_audited.items():
        print(f"  not audited: {n:,} rows ({reason}, rejected when read)")
    for row in report.suspects.head(5).to_dict("records"):
        print(f"  [{row['issues']}] {row['label']} -> {row['suggested_label']} "
              f"(score {row['label_score']:.3f}): {str(row['text'])[:70]}")
    print(f"wrote {report.files['suspects']} and {report.files['summary']}")
    print("next: fill in decision (keep / relabel / drop) and new_label, then add "
          "`- apply_review: {file: <that file>}` to the recipe's steps")
