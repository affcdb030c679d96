"""The run report: data plots and one self-contained HTML page per run folder.

``build_report(run_dir)`` reads ``manifest.json`` (required), ``metrics.json``,
``rejects.parquet``, ``predictions.parquet``, ``data/*.parquet`` and ``plots/*.png``, draws the
data plots, and writes ``run_dir/report.html`` with every plot inlined.
"""

from __future__ import annotations

from thresher.report._build import build_report, render_report
from thresher.report._data_plots import data_plots
from thresher.report._inputs import RunInputs, load_run

__all__ = ["RunInputs", "build_report", "data_plots", "load_run", "render_report"]
