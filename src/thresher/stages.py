"""Train, evaluate and report on an existing run folder (what `thresher train RUN` calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thresher.errors import DataError, RecipeError
from thresher.recipe import parse_recipe

__all__ = ["evaluate", "report", "train"]


def train(run_dir: str | Path, config: Any = None, *, progress: bool = False,
          fresh: bool = False) -> Any:
    """Fine-tune on ``run_dir/data``; ``config`` defaults to the recipe's train section.

    Training resumes from the run's last checkpoint when one matches the settings and data;
    ``fresh`` deletes the checkpoints first, so that training starts from the beginning.
    """
    from thresher.train import train_run

    run_dir = _existing_run(run_dir)
    if fresh:
        import shutil

        from thresher.train.checkpoint import CHECKPOINTS

        shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)
    if config is None:
        recipe = parse_recipe(_manifest(run_dir).get("recipe", {}), where=f"{run_dir}/manifest.json")
        if recipe.train is None:
            raise RecipeError("the run's recipe has no train section",
                              where=str(run_dir / "manifest.json"),
                              fix="add `train: {model: DEFAULT}` to the recipe and run it again")
        config = recipe.train
    return train_run(run_dir, config, progress=progress)


def evaluate(run_dir: str | Path, split: str = "test", *, progress: bool = False) -> dict:
    """Score the run's model (and its baseline) on a split; writes metrics.json and plots."""
    from thresher.evaluate import evaluate_run

    return evaluate_run(_existing_run(run_dir), split=split, progress=progress)


def report(run_dir: str | Path) -> Path:
    """Render ``run_dir/report.html`` from what the run folder holds."""
    from thresher.report import build_report

    return build_report(_existing_run(run_dir))


def _existing_run(run_dir: str | Path) -> Path:
    path = Path(run_dir)
    if not (path / "manifest.json").is_file():
        raise DataError("not a run folder (no manifest.json)", where=str(path),
                        fix="create one with `thresher run RECIPE.yaml -o RUN_DIR`")
    return path


def _manifest(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
