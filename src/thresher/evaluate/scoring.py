"""Score one split with one classifier: predictions per row, metrics over the rows it can judge.

Rows whose label the classifier never saw in training cannot be right or wrong in its label
space; they are predicted like any row but left out of the metrics and counted apart.

The table (written as ``predictions.parquet``) has one row per split row: ``id``, ``text``,
``label``, ``predicted``, ``confidence`` (the highest probability), ``proba`` (a list with one
probability per label, in the order of the model's labels: metrics.json ``labels``) and
``label_seen``. Besides compute_metrics' numbers, each split's metrics hold ``calibration``
(ECE, MCE, reliability bins) and ``confidence_intervals`` (bootstrap, accuracy and macro F1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from thresher.errors import ModelError
from thresher.evaluate.bootstrap import bootstrap_intervals
from thresher.evaluate.calibration import calibration
from thresher.evaluate.metrics import compute_metrics, predicted_labels

if TYPE_CHECKING:  # importing thresher.train at run time could pull in torch
    from thresher.train.classifier import Classifier

__all__ = [
    "PREDICTION_COLUMNS",
    "SplitScores",
    "default_loader",
    "predict_proba",
    "score_split",
    "unseen_note",
    "worst_examples",
]

PREDICTION_COLUMNS = ["id", "text", "label", "predicted", "confidence", "proba", "label_seen"]
PROGRESS_CHUNK_BATCHES = 8  # predict this many batches between progress-bar updates


@dataclass
class SplitScores:
    """One classifier's predictions on one split, and its metrics (None when no label is known)."""

    labels: list[str]
    table: pd.DataFrame  # PREDICTION_COLUMNS, in the split's row order
    proba: np.ndarray
    metrics: dict[str, Any] | None
    unseen_labels: dict[str, int] = field(default_factory=dict)

    @property
    def seen(self) -> np.ndarray:
        return self.table["label_seen"].to_numpy(dtype=bool)


def score_split(
    classifier: Classifier, frame: pd.DataFrame, batch_size: int = 64, progress: bool = False
) -> SplitScores:
    """Predict every row of ``frame`` (columns id, text, label) and score the known-label rows."""
    labels = [str(label) for label in classifier.labels]
    texts = frame["text"].tolist()
    inputs = (list(zip(texts, frame["text_pair"].tolist())) if "text_pair" in frame.columns
              else texts)  # a sentence-pair model reads (text, pair) tuples
    proba = predict_proba(classifier, inputs, labels, batch_size, progress)
    y = frame["label"].to_numpy(dtype=object)
    seen = np.isin(y, labels)
    table = pd.DataFrame(
        {
            "id": frame["id"].to_numpy(dtype=object),
            "text": texts,
            "label": y,
            "predicted": predicted_labels(proba, labels),
            "confidence": proba.max(axis=1),
            "proba": [row.tolist() for row in proba],
            "label_seen": seen,
        },
        columns=PREDICTION_COLUMNS,
    )
    unseen = {str(k): int(v) for k, v in pd.Series(y[~seen]).value_counts().sort_index().items()}
    metrics = compute_metrics(y[seen], proba[seen], labels) if seen.any() else None
    if metrics is not None:
        _add_row_counts(metrics, len(frame), unseen)
        metrics["calibration"] = calibration(y[seen], proba[seen], labels)
        metrics["confidence_intervals"] = bootstrap_intervals(y[seen], table["predicted"][seen])
    return SplitScores(labels=labels, table=table, proba=proba, metrics=metrics, unseen_labels=unseen)


def _add_row_counts(metrics: dict[str, Any], rows: int, unseen: dict[str, int]) -> None:
    metrics["rows"] = rows
    metrics["unseen_labels"] = unseen
    if unseen:
        metrics["notes"].append(unseen_note(unseen, rows))


def unseen_note(unseen: dict[str, int], rows: int) -> str:
    """The sentence that explains rows left out because the model never saw their label."""
    return (
        f"{sum(unseen.values())} of {rows} rows carry labels the model never saw in training "
        f"({unseen}): they are left out of the metrics and marked label_seen=false in "
        "predictions.parquet"
    )


def predict_proba(
    classifier: Classifier, texts: Sequence[str], labels: list[str], batch_size: int, progress: bool
) -> np.ndarray:
    """``classifier.predict_proba`` with a progress bar, and a check of the shape it returns."""
    if not progress:
        proba = np.asarray(classifier.predict_proba(texts, batch_size=batch_size), dtype=float)
    else:
        from rich.progress import Progress

        chunk = batch_size * PROGRESS_CHUNK_BATCHES
        parts = []
        with Progress(transient=True) as bar:
            task = bar.add_task("predicting", total=len(texts))
            for start in range(0, len(texts), chunk):
                part = texts[start : start + chunk]
                proba_part = classifier.predict_proba(part, batch_size=batch_size)
                parts.append(np.asarray(proba_part, dtype=float))
                bar.advance(task, len(part))
        proba = np.concatenate(parts) if parts else np.zeros((0, len(labels)))
    if proba.shape != (len(texts), len(labels)):
        raise ModelError(
            f"the classifier returned probabilities of shape {proba.shape} for {len(texts)} texts "
            f"and {len(labels)} labels",
            where=type(classifier).__name__,
            fix="predict_proba must return one row per text and one column per label",
        )
    return proba


def worst_examples(scores: SplitScores, k: int = 20) -> list[dict[str, Any]]:
    """The ``k`` wrong predictions the classifier was most sure of, most confident first."""
    table = scores.table
    wrong = table[scores.seen & (table["predicted"] != table["label"]).to_numpy()]
    wrong = wrong.sort_values("confidence", ascending=False, kind="stable").head(k)
    index = {label: i for i, label in enumerate(scores.labels)}
    return [
        {
            "id": str(row.id),
            "text": str(row.text),
            "label": str(row.label),
            "predicted": str(row.predicted),
            "confidence": float(row.confidence),
            "label_proba": float(row.proba[index[row.label]]),
        }
        for row in wrong.itertuples(index=False)
    ]


def default_loader() -> Callable[..., "Classifier"]:
    """``thresher.train.load_classifier``, or a clear error when the training extra is missing."""
    try:
        from thresher.train import load_classifier
    except ImportError as exc:
        raise ModelError(f"cannot load models: {exc}", where="thresher.train",
                         fix="install the training extra: pip install 'thresher[train]'") from exc
    return load_classifier
