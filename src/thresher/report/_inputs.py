"""Everything the report reads from a run folder, loaded once and tolerant of absent parts.

Only ``manifest.json`` is required: a data-only run has no metrics, a run without rejects
may have no ``rejects.parquet``, and any plot may be missing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from thresher.errors import OutputError
from thresher.report._data_plots import read_splits
from thresher._files import read_json

__all__ = ["RunInputs", "load_run", "read_images"]


@dataclass
class RunInputs:
    """The parsed files of one run folder; absent optional files are empty or None."""

    run_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any] | None = None
    rejects: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    splits: dict[str, pd.DataFrame] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # plot stem -> data: URI


def load_run(run_dir: Path) -> RunInputs:
    run_dir = Path(run_dir)
    return RunInputs(
        run_dir=run_dir,
        manifest=_manifest(run_dir),
        metrics=_metrics(run_dir),
        rejects=_parquet(run_dir / "rejects.parquet"),
        predictions=_parquet(run_dir / "predictions.parquet"),
        splits=read_splits(run_dir),
        images=read_images(run_dir / "plots"),
    )


def _manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    fix = "Pass the folder a thresher run wrote (it holds manifest.json), or run the recipe first"
    if not path.is_file():
        raise OutputError(
            "no manifest.json, so this is not a thresher run folder", where=str(path), fix=fix
        )
    manifest = read_json(path, fix="Re-run the recipe to rewrite the run folder")
    if not isinstance(manifest, dict):
        raise OutputError(
            "manifest.json must hold a JSON object",
            where=str(path),
            fix="Re-run the recipe to rewrite the run folder",
        )
    return manifest


def _metrics(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "metrics.json"
    if not path.is_file():
        return None  # a data-only run: no model, no evaluation
    metrics = read_json(path, fix="Re-run `thresher evaluate` to rewrite metrics.json")
    return metrics if isinstance(metrics, dict) else None


def _parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def read_images(plots: Path) -> dict[str, str]:
    """Every PNG under ``plots/`` as a data: URI, so the page needs no other file."""
    if not plots.is_dir():
        return {}
    return {
        png.stem: "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
        for png in sorted(plots.glob("*.png"))
        if not png.name.startswith(".")  # a temporary file of a write in progress
    }
