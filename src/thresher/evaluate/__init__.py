"""Evaluation: metrics, calibration, bootstrap intervals, significance, plots, the evaluation of
a whole run folder, and its comparison with an earlier run."""

from __future__ import annotations

from thresher.evaluate.bootstrap import bootstrap_intervals, paired_bootstrap_delta
from thresher.evaluate.calibration import calibration
from thresher.evaluate.compare import compare_runs, scored_run
from thresher.evaluate.metrics import compute_metrics
from thresher.evaluate.plots import (
    plot_confusion_matrix,
    plot_pr,
    plot_reliability,
    plot_roc,
    plot_training_curves,
)
from thresher.evaluate.run import evaluate_run, read_split
from thresher.evaluate.significance import paired_mcnemar

__all__ = [
    "bootstrap_intervals",
    "calibration",
    "compare_runs",
    "compute_metrics",
    "evaluate_run",
    "paired_bootstrap_delta",
    "paired_mcnemar",
    "plot_confusion_matrix",
    "plot_pr",
    "plot_reliability",
    "plot_roc",
    "plot_training_curves",
    "read_split",
    "scored_run",
]
