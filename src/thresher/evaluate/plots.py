"""The evaluation plots as PNG files: confusion matrix, ROC, precision-recall, reliability
diagram, training curves.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display
needed) and written atomically. Every function returns the path it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from thresher._files import atomic_path
from thresher._fonts import plot_style

__all__ = ["plot_confusion_matrix", "plot_pr", "plot_reliability", "plot_roc", "plot_training_curves"]

MAX_ANNOTATED_LABELS = 20  # beyond this, numbers in the cells become unreadable
MICRO = "micro-average"


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], labels: list[str], path: Path) -> Path:
    """Counts on the left, rows normalised to 1 (recall per true label) on the right."""
    counts = np.asarray(matrix, dtype=float)
    row_sums = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)
    size = max(4.0, 0.5 * len(labels) + 2.5)
    with plot_style():
        figure = Figure(figsize=(2 * size + 1, size), layout="constrained")
        left, right = figure.subplots(1, 2)
        _draw_matrix(figure, left, counts, labels, "Counts", "{:.0f}")
        _draw_matrix(figure, right, normalised, labels, "Normalised by true label", "{:.2f}")
        return _save(figure, path)


def _draw_matrix(
    figure: Figure, ax: Axes, values: np.ndarray, labels: list[str], title: str, fmt: str
) -> None:
    image = ax.imshow(values, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=45, ha="right")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title(title)
    if len(labels) > MAX_ANNOTATED_LABELS:
        return
    threshold = values.max() / 2 if values.size else 0
    for (row, col), value in np.ndenumerate(values):
        colour = "white" if value > threshold else "black"
        ax.text(col, row, fmt.format(value), ha="center", va="center", color=colour, fontsize=9)


def plot_roc(y_true: Sequence[str], proba: np.ndarray, labels: list[str], path: Path) -> Path:
    """ROC curve: one for two labels (positive = ``labels[1]``), else one-vs-rest per label."""
    with plot_style():
        figure = Figure(figsize=(6.5, 5.5), layout="constrained")
        ax = figure.subplots()
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
        curves = _curves(y_true, proba, labels)
        for name, positive, scores in curves:
            fpr, tpr, _ = roc_curve(positive, scores)
            style = {"color": "black", "linestyle": ":"} if name == MICRO else {}
            ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})", **style)
        _finish(ax, ("False positive rate", "True positive rate", "ROC"), "lower right", bool(curves))
        return _save(figure, path)


def plot_pr(y_true: Sequence[str], proba: np.ndarray, labels: list[str], path: Path) -> Path:
    """Precision-recall curve, laid out like :func:`plot_roc`; the legend gives average precision."""
    with plot_style():
        figure = Figure(figsize=(6.5, 5.5), layout="constrained")
        ax = figure.subplots()
        curves = _curves(y_true, proba, labels)
        for name, positive, scores in curves:
            precision, recall, _ = precision_recall_curve(positive, scores)
            ap = average_precision_score(positive, scores)
            style = {"color": "black", "linestyle": ":"} if name == MICRO else {}
            ax.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f})", **style)
        _finish(ax, ("Recall", "Precision", "Precision-recall"), "lower left", bool(curves))
        return _save(figure, path)


def _curves(
    y_true: Sequence[str], proba: np.ndarray, labels: list[str]
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(legend name, is-positive mask, scores) per drawable curve; undefined curves are skipped.
    With more than two labels, a micro-average over every (row, label) cell comes last."""
    y = np.asarray([str(v) for v in y_true], dtype=object)
    proba = np.asarray(proba, dtype=float)
    labels = [str(label) for label in labels]
    chosen = [1] if len(labels) == 2 else range(len(labels))
    curves = []
    for i in chosen:
        positive = y == labels[i]
        if positive.any() and not positive.all():  # a curve needs both positives and negatives
            curves.append((labels[i], positive, proba[:, i]))
    if len(labels) > 2 and curves:
        onehot = y[:, None] == np.asarray(labels, dtype=object)[None, :]
        curves.append((MICRO, onehot.ravel(), proba.ravel()))
    return curves


def _finish(ax: Axes, titles: tuple[str, str, str], legend_at: str, drawn: bool) -> None:
    xlabel, ylabel, title = titles
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=legend_at, fontsize=8)
    if not drawn:
        ax.text(0.5, 0.5, "undefined: every row has the same label", ha="center", va="center")


def plot_reliability(curves: dict[str, dict[str, Any]], path: Path) -> Path:
    """Reliability diagram: accuracy against mean confidence per bin for each named calibration
    (see :func:`~thresher.evaluate.calibration.calibration`), and below it rows per bin."""
    with plot_style():
        figure = Figure(figsize=(6.5, 7), layout="constrained")
        top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
        top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
        for offset, (name, found) in enumerate(curves.items()):
            bins = [b for b in found["bins"] if b["count"]]
            label = f"{name} (ECE {found['ece']:.3f}, MCE {found['mce']:.3f})"
            top.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", label=label)
            # Side-by-side bars per bin: each curve gets an equal share of the bin's width.
            share = (found["bins"][0]["upper"] - found["bins"][0]["lower"]) / len(curves)
            lefts = [b["lower"] + share * offset for b in bins]
            bottom.bar(lefts, [b["count"] for b in bins], width=share, align="edge", label=name)
        top.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="Accuracy", title="Reliability (top-label confidence)")
        top.grid(alpha=0.3)
        top.legend(loc="upper left", fontsize=8)
        bottom.set(xlabel="Confidence", ylabel="Rows")
        bottom.grid(alpha=0.3)
        return _save(figure, path)


def plot_training_curves(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Train and validation loss per epoch on the left; validation accuracy and macro F1 on the right."""
    with plot_style():
        figure = Figure(figsize=(11, 4.5), layout="constrained")
        loss_ax, score_ax = figure.subplots(1, 2)
        _draw_series(loss_ax, history, {"train_loss": "train loss", "val_loss": "validation loss"})
        scores = {"val_accuracy": "validation accuracy", "val_macro_f1": "validation macro F1"}
        _draw_series(score_ax, history, scores)
        loss_ax.set(title="Loss", xlabel="Epoch", ylabel="Loss")
        score_ax.set(title="Validation scores", xlabel="Epoch", ylabel="Score")
        return _save(figure, path)


def _draw_series(ax: Axes, history: Sequence[dict[str, Any]], series: dict[str, str]) -> None:
    # Markers so that a single epoch still shows as points; missing values leave gaps.
    for key, name in series.items():
        points = [(row.get("epoch", i + 1), row.get(key)) for i, row in enumerate(history)]
        points = [(x, y) for x, y in points if isinstance(y, (int, float)) and np.isfinite(y)]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no values recorded", ha="center", va="center", transform=ax.transAxes)


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)  # attach the Agg canvas: PNG without any GUI backend
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return Path(path)
