"""Fine-tune one run folder: read the splits, train the baseline and the model, save both.

The baseline is always trained on exactly the rows the model sees, so the report can compare
them fairly ("same rows"). Everything lands in the run folder (see DESIGN.md): ``model/``,
``baseline/`` and TensorBoard events in ``logs/``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError, InputError
from thresher.train.baseline import BaselineClassifier
from thresher.train.config import TrainConfig

__all__ = ["TrainResult", "read_split", "stratified_subsample", "train_run"]


@dataclass
class TrainResult:
    """What training produced; ``train_rows`` are the ids of the rows both models learned from."""

    history: list[dict[str, Any]]
    best_epoch: int
    train_rows: list[str]
    seconds: float
    model_info: dict[str, Any]
    baseline_info: dict[str, Any] = field(default_factory=dict)


def train_run(run_dir: Path, config: TrainConfig, progress: bool = False) -> TrainResult:
    """Train the baseline and (unless ``model == "baseline"``) the transformer for ``run_dir``."""
    started = time.perf_counter()
    config.validate()
    run_dir = Path(run_dir)
    train = read_split(run_dir, "train")
    val = read_split(run_dir, "validation")
    if config.max_train_rows is not None:
        train = stratified_subsample(train, config.max_train_rows, config.seed)
    labels = sorted(set(train["label"]) | set(val["label"]))
    if train["label"].nunique() < 2:
        raise DataError(
            f"the train split has only one label ({train['label'].iloc[0]!r})",
            where=str(run_dir / "data" / "train.parquet"),
            fix="A classifier needs at least two labels: check the label column and the filters",
        )
    ids = train["id"].tolist()
    if config.model == "baseline":
        info, history = _baseline(train, val, labels, config, run_dir / "model")
        return TrainResult(history, 1, ids, time.perf_counter() - started, info)
    from thresher.train.backbones import default_backbone, resolve_spec
    from thresher.train.finetune import finetune

    # resolve first: a missing model should fail in a second, not after the baseline is saved
    spec = default_backbone(train["text"].tolist()) if config.model == "DEFAULT" else config.model
    resolved = resolve_spec(spec)
    baseline_info, _ = _baseline(train, val, labels, config, run_dir / "baseline")
    info, history, best = finetune(train, val, labels, config, resolved, run_dir, progress)
    return TrainResult(history, best, ids, time.perf_counter() - started, info, baseline_info)


def read_split(run_dir: Path, split: str) -> pd.DataFrame:
    """``data/<split>.parquet`` with string ``id``, ``text`` and ``label`` columns."""
    path = run_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        raise InputError(
            f"the {split} split is missing",
            where=str(path),
            fix="Run the split step first, or point to a run folder that has data/",
        )
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "text", "label") if c not in frame.columns]
    if missing:
        raise DataError(
            f"column(s) {', '.join(missing)} missing (found: {', '.join(map(str, frame.columns))})",
            where=str(path),
            fix="Write the split with the classification columns id, text, label, source",
        )
    if frame.empty:
        raise DataError(f"the {split} split has no rows", where=str(path),
                        fix="Check the cleaning and split steps in manifest.json")
    return frame.assign(id=frame["id"].astype(str), text=frame["text"].astype(str),
                        label=frame["label"].astype(str)).reset_index(drop=True)


def stratified_subsample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows keeping each label's share (largest remainder), in the original row order."""
    if n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    counts = frame["label"].value_counts().sort_index()
    exact = counts / len(frame) * n
    take = np.floor(exact).astype(int)
    take[(exact - take).sort_values(ascending=False).index[: n - int(take.sum())]] += 1
    chosen: list[int] = []
    for label, k in take.items():
        rows = frame.index[frame["label"] == label].to_numpy()
        chosen.extend(rng.permutation(rows)[: max(int(k), 1)].tolist())
    return frame.loc[sorted(chosen)].reset_index(drop=True)


def _baseline(
    train: pd.DataFrame, val: pd.DataFrame, labels: list[str], config: TrainConfig, folder: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit, score on validation (one history row, as if one epoch), save to ``folder``."""
    started = time.perf_counter()
    model = BaselineClassifier(labels=labels, seed=config.seed).fit(train["text"], train["label"])
    seconds = time.perf_counter() - started
    train_loss, _, _ = _scores(model, train, labels)
    val_loss, val_accuracy, val_macro_f1 = _scores(model, val, labels)
    row = {"epoch": 1, "train_loss": train_loss, "val_loss": val_loss,
           "val_accuracy": val_accuracy, "val_macro_f1": val_macro_f1,
           "seconds": seconds, "learning_rate": None, "eval_seconds": 0.0}
    info = {**model.info(), "train_rows": len(train), "seconds": round(seconds, 2),
            "precision": "fp64"}
    model.save(folder, info=info, extra_json={"training_history.json": [row]})
    return info, [row]


def _scores(
    model: BaselineClassifier, frame: pd.DataFrame, labels: list[str]
) -> tuple[float, float, float]:
    """Log loss, accuracy and macro-F1 of ``model`` on ``frame``."""
    from sklearn.metrics import f1_score, log_loss

    proba = model.predict_proba(frame["text"].tolist())
    index = {label: i for i, label in enumerate(labels)}
    truth = frame["label"].map(index).to_numpy()
    predicted = proba.argmax(axis=1)
    return (
        float(log_loss(truth, proba, labels=list(range(len(labels))))),
        float((predicted == truth).mean()),
        float(f1_score(truth, predicted, average="macro", zero_division=0)),
    )
