"""Classification metrics as one JSON-safe dict: accuracy, averaged and per-class scores,
confusion matrix (counts and rows normalised to 1), ROC AUC and average precision (binary; or
one-vs-rest per label with macro and micro averages).

Undefined numbers (the recall of a label with no rows, the ROC AUC of a split holding one
label) are ``None``, each with a sentence in ``notes`` saying why; the dict never holds NaN.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from thresher.errors import DataError

__all__ = ["compute_metrics", "predicted_labels"]

AVERAGES = ("macro", "weighted", "micro")


def compute_metrics(y_true: Sequence[str], proba: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Score probability rows ``proba`` (column i is ``labels[i]``) against the true labels.

    The predicted label of a row is its most probable one. Macro and weighted averages run over
    the labels that occur in ``y_true``: a label without rows has no recall, and counting it as
    0 would punish the model for the split's make-up (its wrong predictions already lower the
    other labels' recall). Micro averages run over all labels. A label with rows that is never
    predicted has precision 0 (scikit-learn's ``zero_division=0``). For two labels the positive
    class of ROC AUC and average precision is ``labels[1]``; for more, they are one-vs-rest macro
    averages over the labels whose curve is defined, plus micro averages over every (row, label)
    cell (``roc_auc_micro``, ``average_precision_micro``).
    """
    labels = [str(label) for label in labels]
    y, proba = _checked(y_true, proba, labels)
    y_pred = predicted_labels(proba, labels)
    notes: list[str] = []
    result: dict[str, Any] = {"n": int(len(y)), "accuracy": float(accuracy_score(y, y_pred))}
    result.update(_averages(y, y_pred, labels))
    result["per_class"] = _per_class(y, y_pred, labels, notes)
    matrix = confusion_matrix(y, y_pred, labels=labels)
    result["confusion_matrix"] = {"labels": labels, "matrix": matrix.astype(int).tolist(),
                                  "normalized": _row_normalised(matrix)}
    result.update(_ranking_scores(y, proba, labels, result["per_class"], notes))
    result["notes"] = notes
    return result


def predicted_labels(proba: np.ndarray, labels: list[str]) -> np.ndarray:
    """The most probable label of each row (ties go to the earlier label, like argmax)."""
    return np.asarray(labels, dtype=object)[np.asarray(proba).argmax(axis=1)]


def _checked(
    y_true: Sequence[str], proba: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray([str(v) for v in y_true], dtype=object)
    proba = np.asarray(proba, dtype=float)
    if len(y) == 0:
        raise DataError("there are no rows to score", where="y_true", fix="evaluate a non-empty split")
    if proba.ndim != 2 or proba.shape != (len(y), len(labels)):
        raise DataError(
            f"probabilities have shape {proba.shape}, expected ({len(y)}, {len(labels)}): "
            "one row per example, one column per label",
            where="proba",
            fix="pass the output of the classifier's predict_proba with its own labels",
        )
    if not np.isfinite(proba).all():
        raise DataError("probabilities contain NaN or infinity", where="proba",
                        fix="check the model's output")
    unknown = sorted(set(y) - set(labels))
    if unknown:
        raise DataError(
            f"labels {unknown} are not among the model's labels {labels}",
            where="y_true",
            fix="leave out rows whose label the model never saw (evaluate_run does this and counts them)",
        )
    return y, proba


def _row_normalised(matrix: np.ndarray) -> list[list[float | None]]:
    """Each true label's row divided by its count (the diagonal is its recall); None without rows."""
    return [[float(v / row.sum()) for v in row] if row.sum() else [None] * len(row) for row in matrix]


def _averages(y: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, float]:
    with_rows = [label for label in labels if label in set(y)]
    scores: dict[str, float] = {}
    for average in AVERAGES:
        over = labels if average == "micro" else with_rows  # micro over all labels = accuracy
        p, r, f, _ = precision_recall_fscore_support(
            y, y_pred, labels=over, average=average, zero_division=0
        )
        scores[f"{average}_precision"] = float(p)
        scores[f"{average}_recall"] = float(r)
        scores[f"{average}_f1"] = float(f)
    return scores


def _per_class(
    y: np.ndarray, y_pred: np.ndarray, labels: list[str], notes: list[str]
) -> dict[str, dict[str, Any]]:
    p, r, f, support = precision_recall_fscore_support(
        y, y_pred, labels=labels, average=None, zero_division=0
    )
    per_class: dict[str, dict[str, Any]] = {}
    for i, label in enumerate(labels):
        predicted = int((y_pred == label).sum())
        row: dict[str, Any] = {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i])}
        row.update({"support": int(support[i]), "predicted": predicted})
        if support[i] == 0:
            row["recall"] = row["f1"] = None
            if predicted == 0:
                row["precision"] = None
                notes.append(f"label {label!r} has no rows here and was never predicted: its precision, "
                             "recall and F1 are undefined (null) and it is left out of the averages")
            else:
                notes.append(f"label {label!r} has no rows here but was predicted {predicted} times "
                             "(precision 0): its recall and F1 are undefined (null) and it is left "
                             "out of the macro and weighted averages")
        elif predicted == 0:
            notes.append(f"label {label!r} was never predicted: its precision is reported as 0")
        per_class[label] = row
    return per_class


def _ranking_scores(
    y: np.ndarray,
    proba: np.ndarray,
    labels: list[str],
    per_class: dict[str, dict[str, Any]],
    notes: list[str],
) -> dict[str, Any]:
    """ROC AUC and average precision, one-vs-rest per label, and their summary for the split."""
    if len(labels) < 2:
        notes.append("ROC AUC and average precision need at least two labels")
        return {"roc_auc": None, "average_precision": None}
    skipped: list[str] = []
    for i, label in enumerate(labels):
        positive = y == label
        # A curve needs both positive and negative rows; otherwise its area is undefined.
        defined = bool(positive.any() and not positive.all())
        per_class[label]["roc_auc"] = float(roc_auc_score(positive, proba[:, i])) if defined else None
        per_class[label]["average_precision"] = (
            float(average_precision_score(positive, proba[:, i])) if defined else None
        )
        if not defined:
            skipped.append(label)
    if len(labels) == 2:
        return _binary_scores(labels, per_class, skipped, notes)
    if skipped:
        notes.append(f"labels {skipped} have no rows here (or are the only label): their one-vs-rest "
                     "ROC and precision-recall curves are skipped and left out of the macro ROC AUC "
                     "and average precision")
    roc = [per_class[label]["roc_auc"] for label in labels if label not in skipped]
    ap = [per_class[label]["average_precision"] for label in labels if label not in skipped]
    # Micro: every (row, label) cell is one binary decision, so large labels weigh more.
    onehot = (y[:, None] == np.asarray(labels, dtype=object)[None, :]).ravel()
    return {
        "roc_auc": float(np.mean(roc)) if roc else None,
        "average_precision": float(np.mean(ap)) if ap else None,
        "ranking_average": "one-vs-rest macro",
        "roc_auc_micro": float(roc_auc_score(onehot, proba.ravel())),
        "average_precision_micro": float(average_precision_score(onehot, proba.ravel())),
    }


def _binary_scores(
    labels: list[str], per_class: dict[str, dict[str, Any]], skipped: list[str], notes: list[str]
) -> dict[str, Any]:
    positive = labels[1]
    if skipped:
        notes.append(f"ROC AUC and average precision are undefined (null): they need rows of both "
                     f"labels {labels}, but only one occurs here")
    return {
        "roc_auc": per_class[positive]["roc_auc"],
        "average_precision": per_class[positive]["average_precision"],
        "ranking_average": "binary",
        "positive_label": positive,
    }
