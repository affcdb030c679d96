"""Evaluate a multilabel run: per-label thresholds from training, set-level and label-level scores.

metrics.json keeps the classification layout where the numbers mean the same thing
(``splits[split]`` with ``macro_f1``, ``micro_f1``, ``per_class``; ``baseline``;
``comparison``) and adds what only label sets have: samples F1, subset accuracy (every label of
a row right) and Hamming loss (the share of wrong row x label decisions).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from thresher._files import write_json, write_parquet
from thresher.errors import DataError, ModelError
from thresher.evaluate.plots import plot_training_curves
from thresher.evaluate.scoring import default_loader

__all__ = ["evaluate_multilabel", "finish", "model_card", "multilabel_metrics",
           "read_history"]

WORST_EXAMPLES = 20


def evaluate_multilabel(run_dir: Path, split: str = "test", progress: bool = False, *,
                        batch_size: int = 64, device: str = "auto",
                        loader: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Score ``model/`` (and ``baseline/``) on ``split``; write metrics.json and predictions."""
    started = time.perf_counter()
    run_dir = Path(run_dir)
    load = loader or default_loader()
    model = load(run_dir / "model", device=device)
    card = model_card(run_dir / "model", model)
    sep, pair = card.get("label_separator", ","), card.get("text_pair")
    frame = _read(run_dir, split, pair)
    table, scores = _score(model, frame, sep, pair, batch_size)
    metrics: dict[str, Any] = {"task": "multilabel", "labels": model.labels, "model": card,
                               "history": read_history(run_dir / "model"), "split": split,
                               "splits": {split: scores}, "notes": list(scores["notes"])}
    if split != "validation" and (run_dir / "data" / "validation.parquet").is_file():
        val = _read(run_dir, "validation", pair)
        metrics["splits"]["validation"] = _score(model, val, sep, pair, batch_size)[1]
    metrics["baseline"], metrics["comparison"] = None, None
    if (run_dir / "baseline").is_dir():
        baseline = load(run_dir / "baseline", device=device)
        base_scores = _score(baseline, frame, sep, pair, batch_size)[1]
        metrics["baseline"] = {"model": model_card(run_dir / "baseline", baseline),
                               "splits": {split: base_scores}}
        metrics["comparison"] = _comparison(scores, base_scores)
    metrics["worst_examples"] = _worst(table)
    return finish(run_dir, metrics, table, started)


def multilabel_metrics(truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray,
                       labels: list[str], thresholds: list[float]) -> dict[str, Any]:
    """Scores of 0/1 decisions ``predicted`` against 0/1 ``truth`` (rows x labels).

    Macro and weighted averages run over the labels that occur in ``truth`` (as for
    classification); samples F1 counts a row with no labels, correctly left empty, as 1.
    """
    from sklearn.metrics import hamming_loss, precision_recall_fscore_support

    notes: list[str] = []
    support = truth.sum(axis=0).astype(int)
    present = [j for j in range(len(labels)) if support[j] > 0]
    result: dict[str, Any] = {"n": int(len(truth))}
    for average in ("micro", "macro", "weighted", "samples"):
        cols = present if average in ("macro", "weighted") else list(range(len(labels)))
        zero = 1.0 if average == "samples" else 0.0
        p, r, f, _ = precision_recall_fscore_support(
            truth[:, cols], predicted[:, cols], average=average, zero_division=zero)
        result.update({f"{average}_precision": float(p), f"{average}_recall": float(r),
                       f"{average}_f1": float(f)})
    result["subset_accuracy"] = float((truth == predicted).all(axis=1).mean())
    result["hamming_loss"] = float(hamming_loss(truth, predicted))
    result["per_class"] = _per_label(truth, predicted, proba, labels, thresholds, notes)
    ranked = [row for row in result["per_class"].values() if row["roc_auc"] is not None]
    result["roc_auc"] = float(np.mean([r["roc_auc"] for r in ranked])) if ranked else None
    result["average_precision"] = (
        float(np.mean([r["average_precision"] for r in ranked])) if ranked else None)
    result["ranking_average"] = "per-label macro"
    result["notes"] = notes
    return result


def _per_label(truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray, labels: list[str],
               thresholds: list[float], notes: list[str]) -> dict[str, dict[str, Any]]:
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    p, r, f, support = precision_recall_fscore_support(truth, predicted, average=None,
                                                       zero_division=0)
    out: dict[str, dict[str, Any]] = {}
    for j, label in enumerate(labels):
        y = truth[:, j] > 0
        defined = bool(y.any() and not y.all())
        row: dict[str, Any] = {
            "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
            "support": int(support[j]), "predicted": int(predicted[:, j].sum()),
            "threshold": float(thresholds[j]),
            "roc_auc": float(roc_auc_score(y, proba[:, j])) if defined else None,
            "average_precision": (
                float(average_precision_score(y, proba[:, j])) if defined else None),
        }
        if support[j] == 0:
            row["recall"] = row["f1"] = None
            notes.append(f"label {label!r} has no rows here: its recall and F1 are undefined "
                         "(null) and it is left out of the macro and weighted averages")
        out[label] = row
    return out


def _score(model: Any, frame: pd.DataFrame, sep: str, pair: str | None,
           batch_size: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from thresher.train.multilabel import label_matrix, label_sets, split_labels

    labels = [str(label) for label in model.labels]
    sets = [split_labels(value, sep) for value in frame["label"]]
    inputs = list(zip(frame["text"], frame[pair])) if pair else frame["text"].tolist()
    proba = np.asarray(model.predict_proba(inputs, batch_size=batch_size), dtype=float)
    if proba.shape != (len(frame), len(labels)):
        raise ModelError(f"probabilities of shape {proba.shape} for {len(frame)} rows and "
                         f"{len(labels)} labels", where=type(model).__name__,
                         fix="predict_proba must return one row per text, one column per label")
    truth = label_matrix(sets, labels).astype(int)
    chosen = label_sets(proba, labels, model.thresholds)
    predicted = label_matrix(chosen, labels).astype(int)
    metrics = multilabel_metrics(truth, predicted, proba, labels, model.thresholds)
    unknown = sorted({x for row in sets for x in row} - set(labels))
    if unknown:
        metrics["notes"].append(f"labels {unknown} occur here but never in training: the model "
                                "cannot predict them, and they are left out of the scores")
    margin = np.abs(proba - np.asarray(model.thresholds)[None, :])
    wrong = truth != predicted
    table = pd.DataFrame({
        "id": frame["id"].astype(str).to_numpy(), "text": frame["text"].to_numpy(),
        "label": [sep.join(row) for row in sets], "predicted": [sep.join(row) for row in chosen],
        "errors": wrong.sum(axis=1), "confidence": np.where(wrong, proba, 0).max(axis=1),
        "margin": np.where(wrong, margin, 0).max(axis=1), "proba": [p.tolist() for p in proba]})
    return table, metrics


def _comparison(model: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    return {"metric": "micro_f1", "model": model["micro_f1"], "baseline": baseline["micro_f1"],
            "delta": model["micro_f1"] - baseline["micro_f1"],
            "macro_f1": {"model": model["macro_f1"], "baseline": baseline["macro_f1"],
                         "delta": model["macro_f1"] - baseline["macro_f1"]}}


def _worst(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows with a wrong label decision, the furthest past its threshold first."""
    wrong = table[table["errors"] > 0].sort_values("margin", ascending=False, kind="stable")
    return [{"id": r.id, "text": str(r.text), "label": r.label, "predicted": r.predicted,
             "errors": int(r.errors), "confidence": float(r.confidence)}
            for r in wrong.head(WORST_EXAMPLES).itertuples(index=False)]


def _read(run_dir: Path, split: str, pair: str | None) -> pd.DataFrame:
    path = run_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        raise DataError(f"the {split!r} split does not exist", where=str(path),
                        fix="prepare the data first (thresher run RECIPE -o RUN_DIR)")
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "text", "label", pair) if c and c not in frame.columns]
    if missing or frame.empty:
        raise DataError(f"the split has no rows or lacks columns {missing}", where=str(path),
                        fix="a multilabel split needs id, text and label columns")
    return frame.reset_index(drop=True)


def model_card(folder: Path, model: Any) -> dict[str, Any]:
    """thresher_model.json plus where the model lives and its class, for metrics.json."""
    info = json.loads((folder / "thresher_model.json").read_text(encoding="utf-8"))
    return {**info, "path": folder.name, "labels": list(model.labels),
            "class": type(model).__name__}


def read_history(folder: Path) -> list[dict[str, Any]]:
    path = folder / "training_history.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def finish(run_dir: Path, metrics: dict[str, Any], table: pd.DataFrame,
           started: float) -> dict[str, Any]:
    """Draw the training curves, write predictions.parquet and metrics.json (both atomic)."""
    plots = {}
    if metrics["history"]:
        path = plot_training_curves(metrics["history"], run_dir / "plots" / "training_curves.png")
        plots["training_curves"] = path.relative_to(run_dir).as_posix()
    metrics["plots"] = plots
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    write_parquet(run_dir / "predictions.parquet", table)
    write_json(run_dir / "metrics.json", metrics)
    return metrics
