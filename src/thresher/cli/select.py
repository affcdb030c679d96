"""`thresher select`: print which pool rows to label next, and where the list was written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from thresher.quality.select import Selection

__all__ = ["command"]

_SHOWN = 10  # rows printed; the file has them all
_TEXT_WIDTH = 70


def command(
    labelled: str = typer.Option(..., "--labelled", "-l",
                                 help="Labelled rows: a file, or a thresher run folder "
                                 "(its data/train.parquet)."),
    pool: str = typer.Option(..., "--pool", "-p", help="Unlabelled rows to choose from "
                             "(a label column in it is ignored)."),
    batch_size: int = typer.Option(100, "--batch-size", "-n", help="Rows to choose (the whole "
                                   "pool when it is smaller)."),
    strategy: str = typer.Option("margin", "--strategy", help="margin, least_confidence, "
                                 "entropy, diverse, coreset or random."),
    embeddings: str = typer.Option("tfidf", "--embeddings", help="For diverse/coreset: tfidf "
                                   "(SVD of the TF-IDF features) or minilm (English only)."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="OUT.csv, .jsonl or .parquet "
                                      "(default ./to_label.csv); selection.json goes beside it."),
    seed: int = typer.Option(13, "--seed", help="Seed for ties, k-means and random."),
    text: Optional[str] = typer.Option(None, "--text", help="Text column (inferred when omitted)."),
    label: Optional[str] = typer.Option(None, "--label",
                                        help="Label column of the labelled set "
                                        "(inferred when omitted)."),
) -> None:
    """Choose the rows to label next (active learning on the TF-IDF baseline)."""
    from thresher.quality.select import select_rows

    _print(select_rows(labelled, pool, batch_size=batch_size, strategy=strategy,
                       embeddings=embeddings, text=text, label=label, seed=seed, out=out))


def _print(found: Selection) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    classes = ", ".join(f"{k}: {v:,}" for k, v in found.labelled["classes"].items())
    console.print(f"model: TF-IDF + logistic regression on {found.labelled['rows_used']:,} "
                  f"labelled rows ({classes})", markup=False, soft_wrap=True)
    rejected = found.pool["rejected"]
    extra = (" (not used: " + ", ".join(f"{k} {v:,}" for k, v in rejected.items()) + ")"
             if rejected else "")
    console.print(f"pool: {found.pool['rows_used']:,} of {found.pool['rows_read']:,} rows "
                  f"scored{extra}", markup=False, soft_wrap=True)
    table = Table("rank", "score", "predicted", "confidence", "text",
                  title=f"{found.strategy}: {found.batch_size} rows chosen "
                  f"(score = {found.score['meaning']})")
    for row in found.rows.head(_SHOWN).itertuples():
        shown = row.text if len(row.text) <= _TEXT_WIDTH else row.text[: _TEXT_WIDTH - 1] + "…"
        score = "" if row.score != row.score else f"{row.score:.4f}"  # NaN: no score
        table.add_row(str(row.rank), score, Text(str(row.predicted)), f"{row.confidence:.3f}",
                      Text(shown))
    console.print(table)
    for note in found.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    console.print(f"written: {found.out} and {found.summary}", markup=False, soft_wrap=True)
