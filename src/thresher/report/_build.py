"""Render the run folder as one self-contained HTML page: ``report.html``.

The page has no scripts and no external URLs (plots are inlined as base64 PNG), so it opens
offline, can be mailed as one file, and cannot run code from the data: every value from the
run folder goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from thresher.report import _ablation
from thresher.report import _data_sections as data
from thresher.report import _health_sections as health
from thresher.report import _model_sections as model
from thresher.report import _quality_sections as quality
from thresher.report import _sft_sections
from thresher.report._data_plots import write_data_plots
from thresher._files import write_text
from thresher.report._inputs import RunInputs, load_run, read_images

__all__ = ["build_report", "render_report"]

# Plots the sections place themselves (and profile_*, the Data health section's); any other PNG
# under plots/ is shown at the end.
PLACED_PLOTS = (
    "label_distribution",
    "text_lengths",
    "training_curves",
    "confusion_matrix",
    "roc",
    "pr",
    "reliability",
)


def build_report(run_dir: Path, compare: Path | None = None) -> Path:
    """Draw the data plots, then write ``run_dir/report.html``; returns its path.

    Only ``manifest.json`` is required (an :class:`~thresher.errors.OutputError` names it when
    absent); sections whose inputs are missing say so in one line. ``compare``: an earlier
    evaluated run to set this run's numbers against (replaces the comparison metrics.json holds).
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)  # fails on a missing or corrupt manifest before drawing anything
    if compare is not None:
        from thresher.evaluate import compare_runs, scored_run

        run.metrics = {**(run.metrics or {}),
                       "compare": compare_runs(scored_run(run_dir), scored_run(Path(compare)))}
    if write_data_plots(run.splits, run_dir / "plots"):
        run.images = read_images(run_dir / "plots")
    html = render_report(run)
    return write_text(run_dir / "report.html", html)


def render_report(run: RunInputs) -> str:
    return _environment().get_template("report.html").render(**_context(run))


def _context(run: RunInputs) -> dict[str, Any]:
    steps, reasons = data.funnel(run)
    metrics = run.metrics or {}
    return {
        "head": data.header(run),
        "steps": steps,
        "reasons": reasons,
        "invariant": data.invariant(run, steps),
        "splits": data.splits_table(run),
        "duplicates": quality.duplicates(run),
        "pii": quality.pii(run),
        "leakage": quality.leakage(run),
        "augmentation": quality.augmentation(run),
        "ablation": _ablation.ablation(run),
        "health_profile": health.profile(run),
        "health_audit": health.audit(run),
        "sft": _sft_sections.sft(run),
        "has_metrics": run.metrics is not None,
        "has_model": bool(metrics.get("model")),
        "training": model.training_items(run),
        "history": model.history_table(metrics),
        "metric_rows": model.metric_rows(metrics),
        "has_ci": any(r.model_ci or r.baseline_ci for r in model.metric_rows(metrics)),
        "baseline_delta_ci": model.baseline_delta_ci(metrics),
        "calibration": model.calibration_rows(metrics),
        "compare": model.compare_table(metrics),
        "has_baseline": bool(model.baseline_scores(metrics)),
        "scored_split": model.scored_split(metrics),
        "test_n": model.model_scores(metrics).get("n"),
        "mcnemar_p": model.mcnemar_p(metrics),
        "per_class": model.per_class_rows(metrics),
        "confusion": model.confusion(metrics),
        "worst": model.worst_examples(run),
        "banners": model.banners(metrics),
        "images": run.images,
        "other_images": {k: v for k, v in run.images.items()
                         if k not in PLACED_PLOTS and not k.startswith("profile_")},
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every value from the data is text, never markup
        undefined=jinja2.StrictUndefined,  # a typo in the template fails the tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, count=_count, signed=_signed, pvalue=_pvalue, interval=_interval)
    return env


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if 0 < abs(value) < 10**-digits:  # a learning rate of 2e-5 must not read as 0.000
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return str(value)


def _count(value: Any) -> str:
    try:
        return "—" if value is None else f"{int(float(value)):,}"
    except (TypeError, ValueError, OverflowError):
        return str(value)  # shown as given rather than failing the whole report


def _signed(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _interval(pair: tuple[float, float] | None, signed: bool = False) -> str:
    if pair is None:
        return "—"
    show = _signed if signed else _num
    return f"[{show(pair[0])}, {show(pair[1])}]"


def _pvalue(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2e}" if value < 0.001 else f"{value:.3f}"
