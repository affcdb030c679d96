"""Evaluation: metrics, significance, plots, and the evaluation of a whole run folder."""

from __future__ import annotations

from thresher.evaluate.metrics import compute_metrics
from thresher.evaluate.plots import plot_confusion_matrix, plot_pr, plot_roc, plot_training_curves
from thresher.evaluate.run import evaluate_run, read_split
from thresher.evaluate.significance import paired_mcnemar

__all__ = [
    "compute_metrics",
    "evaluate_run",
    "paired_mcnemar",
    "plot_confusion_matrix",
    "plot_pr",
    "plot_roc",
    "plot_training_curves",
    "read_split",
]
