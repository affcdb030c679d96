"""Compare this run with an earlier one: headline metrics with intervals, and a paired test
when both runs scored the same rows.

Two runs over the same test rows (same ids, same labels) can be compared row by row: McNemar's
test and a paired bootstrap interval of the difference. Runs over different rows (another
split, other cleaning) cannot; the comparison then says so and shows each run's own interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from thresher._files import read_json
from thresher.errors import DataError
from thresher.evaluate.bootstrap import bootstrap_intervals, paired_bootstrap_delta
from thresher.evaluate.significance import paired_mcnemar

__all__ = ["ScoredRun", "compare_runs", "scored_run"]

HEADLINE = ("accuracy", "macro_f1", "weighted_f1", "roc_auc")  # the first two get intervals


@dataclass
class ScoredRun:
    """One evaluated run: its scored rows (id, label, predicted; None if unknown) and numbers."""

    path: str
    split: str
    numbers: dict[str, Any]  # that split's entry in metrics.json
    table: pd.DataFrame | None


def scored_run(run_dir: Path) -> ScoredRun:
    """Read an evaluated run folder: metrics.json (required) and predictions.parquet (if any)."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.json"
    fix = f"run `thresher evaluate {run_dir}` first"
    if not path.is_file():
        raise DataError("not an evaluated run (no metrics.json)", where=str(run_dir), fix=fix)
    metrics = read_json(path, fix=fix)
    split = str(metrics.get("split") or "test")
    numbers = (metrics.get("splits") or {}).get(split)
    if not isinstance(numbers, dict):
        raise DataError(f"metrics.json has no numbers for its {split!r} split", where=str(path), fix=fix)
    return ScoredRun(str(run_dir), split, numbers, _scored_rows(run_dir / "predictions.parquet"))


def _scored_rows(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    table = pd.read_parquet(path)
    if not {"id", "label", "predicted"} <= set(table.columns):
        return None
    if "label_seen" in table.columns:  # rows with labels the model never saw are not scored
        table = table[table["label_seen"].astype(bool)]
    return table[["id", "label", "predicted"]].astype(str).reset_index(drop=True)


def compare_runs(this: ScoredRun, other: ScoredRun) -> dict[str, Any]:
    """The comparison table (this, other, difference per metric) and the paired test or a note."""
    intervals = (_intervals(this), _intervals(other))
    rows = [_metric_row(name, this, other, intervals) for name in HEADLINE]
    paired, note = _paired(this, other)
    return {
        "this": {"path": this.path, "split": this.split, "rows": _rows(this)},
        "other": {"path": other.path, "split": other.split, "rows": _rows(other)},
        "metrics": [row for row in rows if row["this"] is not None or row["other"] is not None],
        "same_rows": paired is not None,
        "paired": paired,
        "note": note,
    }


def _rows(run: ScoredRun) -> int | None:
    return len(run.table) if run.table is not None else run.numbers.get("n")


def _metric_row(
    name: str, this: ScoredRun, other: ScoredRun, intervals: tuple[dict[str, Any], dict[str, Any]]
) -> dict[str, Any]:
    a, b = _number(this.numbers.get(name)), _number(other.numbers.get(name))
    ci = [found.get(name) for found in intervals]
    return {
        "metric": name,
        "this": a,
        "this_ci": [ci[0]["low"], ci[0]["high"]] if isinstance(ci[0], dict) else None,
        "other": b,
        "other_ci": [ci[1]["low"], ci[1]["high"]] if isinstance(ci[1], dict) else None,
        "delta": None if a is None or b is None else a - b,
    }


def _intervals(run: ScoredRun) -> dict[str, Any]:
    """Recomputed from the rows (the same seed for both runs), else as metrics.json stores them."""
    if run.table is not None and len(run.table):
        return bootstrap_intervals(run.table["label"], run.table["predicted"])
    found = run.numbers.get("confidence_intervals")
    return found if isinstance(found, dict) else {}


def _paired(this: ScoredRun, other: ScoredRun) -> tuple[dict[str, Any] | None, str | None]:
    if this.table is None or other.table is None:
        missing = other.path if other.table is None else this.path
        return None, f"{missing} has no predictions.parquet, so the rows cannot be paired: no paired test"
    a, b = this.table.set_index("id"), other.table.set_index("id")
    if not a.index.is_unique or not b.index.is_unique:
        return None, "row ids repeat within a run, so rows cannot be paired: no paired test"
    common = a.index.intersection(b.index)
    if len(common) != len(a) or len(common) != len(b):
        return None, (f"the runs scored different rows ({len(a):,} here, {len(b):,} in {other.path}, "
                      f"{len(common):,} ids in common): no paired test; compare the intervals instead")
    b = b.loc[a.index]
    differ = int((a["label"] != b["label"]).sum())
    if differ:
        return None, (f"the runs scored the same ids but {differ:,} of them carry different labels: "
                      "no paired test")
    mcnemar = paired_mcnemar(a["label"], a["predicted"], b["predicted"])
    mcnemar.update({"a": "this run", "b": other.path})
    delta = paired_bootstrap_delta(a["label"], a["predicted"], b["predicted"])
    return {"mcnemar": mcnemar, "delta_ci": delta}, None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
