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
from thresher.train.files import write_json

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
    ids = train["id"].tolist()
    if config.model == "baseline":
        info, history = _baseline(train, val, labels, config, run_dir / "model")
        return TrainResult(history, 1, ids, time.perf_counter() - started, info)
    baseline_info, _ = _baseline(train, val, labels, config, run_dir / "baseline")
    from thresher.train.finetune import finetune

    info, history, best = finetune(train, val, labels, config, run_dir, progress)
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
    from sklearn.metrics import f1_score, log_loss

    started = time.perf_counter()
    model = BaselineClassifier(labels=labels, seed=config.seed).fit(train["text"], train["label"])
    seconds = time.perf_counter() - started
    proba = model.predict_proba(val["text"].tolist())
    truth = np.array([labels.index(y) for y in val["label"]])
    predicted = proba.argmax(axis=1)
    row = {
        "epoch": 1,
        "train_loss": float(log_loss(
            [labels.index(y) for y in train["label"]], model.predict_proba(train["text"].tolist()),
            labels=list(range(len(labels))))),
        "val_loss": float(log_loss(truth, proba, labels=list(range(len(labels))))),
        "val_accuracy": float((predicted == truth).mean()),
        "val_macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "seconds": seconds,
        "learning_rate": None,
    }
    extra = {"train_rows": len(train), "seconds": seconds, "precision": "fp64"}
    model.save(folder, extra=extra)
    write_json(folder / "training_history.json", [row])
    return {"kind": "baseline", "backbone": "tfidf-logreg", **model.describe(), **extra}, [row]
