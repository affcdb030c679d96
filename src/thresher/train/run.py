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

from thresher.errors import DataError, InputError, ModelError
from thresher.train.baseline import BaselineClassifier
from thresher.train.config import TrainConfig
from thresher.train.distributed import is_main_process
from thresher.train.files import read_json

__all__ = ["TrainResult", "read_sft_split", "read_split", "resolve_model", "run_task", "stratified_subsample",
           "texts_of", "train_run"]


@dataclass
class TrainResult:
    """What training produced; ``train_rows`` are the ids of the rows both models learned from."""

    history: list[dict[str, Any]]
    best_epoch: int
    train_rows: list[str]
    seconds: float
    model_info: dict[str, Any]
    baseline_info: dict[str, Any] = field(default_factory=dict)


def train_run(run_dir: Path, config: TrainConfig, progress: bool = False, *,
              task: str | None = None, text_pair: str | None = None) -> TrainResult:
    """Train the baseline and (unless ``model == "baseline"``) the transformer for ``run_dir``.

    ``task`` ("classification", "multilabel" or "ner") and ``text_pair`` (the column holding
    each row's second text) default to what the run's manifest.json recipe says.
    """
    started = time.perf_counter()
    config.validate()
    run_dir = Path(run_dir)
    task, text_pair = run_task(run_dir, task, text_pair)
    config.check_task(task)
    if config.mlflow and config.model != "baseline":
        from thresher.train.tracking import require_mlflow

        require_mlflow()  # fail in a second, not after the baseline is trained
    if task == "ner":
        from thresher.train.ner import train_ner

        return train_ner(run_dir, config, progress, started)
    if task in ("sft", "seq2seq"):
        return _train_sft(run_dir, config, task, progress, started)
    train = read_split(run_dir, "train", text_pair)
    val = read_split(run_dir, "validation", text_pair)
    if task == "multilabel":
        from thresher.train.multilabel import train_multilabel

        return train_multilabel(run_dir, train, val, config, progress, started, text_pair)
    if config.max_train_rows is not None:
        train = stratified_subsample(train, config.max_train_rows, config.seed)
    train = with_augmented(run_dir, train)
    labels = sorted(set(train["label"]) | set(val["label"]))
    if train["label"].nunique() < 2:
        raise DataError(
            f"the train split has only one label ({train['label'].iloc[0]!r})",
            where=str(run_dir / "data" / "train.parquet"),
            fix="A classifier needs at least two labels: check the label column and the filters",
        )
    _check_validation_labels(run_dir, train, val)
    ids = train["id"].tolist()
    if config.model == "baseline":
        info, history = _baseline(train, val, labels, config, run_dir / "model", text_pair)
        return TrainResult(history, 1, ids, time.perf_counter() - started, info)
    # resolve first: a missing model should fail in a second, not after the baseline is saved
    resolved = resolve_model(config, train["text"].tolist(), task)
    baseline_info, _ = _baseline(train, val, labels, config, run_dir / "baseline", text_pair)
    from thresher.train.finetune import finetune
    from thresher.train.tasks import make_task

    fitted = make_task(task, labels, train, imbalance=config.imbalance, text_pair=text_pair)
    info, history, best = finetune(train, val, labels, config, resolved, run_dir, progress,
                                   task=fitted)
    return TrainResult(history, best, ids, time.perf_counter() - started, info, baseline_info)


def _check_validation_labels(run_dir: Path, train: pd.DataFrame, val: pd.DataFrame) -> None:
    """Validation labels the train split lacks: the model could never predict them, and
    early stopping would score it on them. thresher's stratified split never does this; a run
    folder edited by hand can."""
    unseen = val.loc[~val["label"].isin(set(train["label"])), "label"].value_counts()
    if unseen.empty:
        return
    listed = ", ".join(f"{label!r} ({n} rows)" for label, n in unseen.items())
    raise DataError(
        f"the validation split has label(s) that the train split lacks: {listed}",
        where=str(run_dir / "data" / "validation.parquet"),
        fix="Split again with thresher (stratified splits keep every label in train), or move "
        "those rows to train.parquet, or drop them",
    )


def resolve_model(config: TrainConfig, texts: list[str], task: str) -> Any:
    """The backbone to fine-tune: ``config.model``, or for "DEFAULT" the one for ``texts``."""
    from thresher.train.backbones import DEFAULT_BACKBONE, default_backbone, resolve_spec

    spec = default_backbone(texts) if config.model == "DEFAULT" else config.model
    if task == "ner" and spec == DEFAULT_BACKBONE:
        raise ModelError(
            "no offline backbone tags Chinese tokens: Gemma-3 has no token-classification head "
            "in transformers, and MiniLM reads most Chinese characters as [UNK]",
            where="train.model",
            fix="Pass model: <folder of a Chinese BERT> (e.g. bert-base-chinese), a hub id when "
            "the hub is reachable, or model: baseline",
        )
    return resolve_spec(spec)


def _train_sft(run_dir: Path, config: TrainConfig, task: str, progress: bool,
               started: float) -> TrainResult:
    """LoRA SFT of a causal LM (no baseline: there is no TF-IDF answer to compare with)."""
    from thresher.train.sft import sft_config, train_sft

    config = sft_config(config)
    if config.model == "baseline":
        raise ModelError("task sft has no baseline model", where="train.model",
                         fix="use a causal LM, e.g. model: smollm2 (the offline default)")
    train, val = (read_sft_split(run_dir, split, task) for split in ("train", "validation"))
    if config.max_train_rows is not None and len(train) > config.max_train_rows:
        train = train.sample(n=config.max_train_rows, random_state=config.seed)
    info, history, best = train_sft(run_dir, train, val, config, task, progress)
    return TrainResult(history, best, train["id"].tolist(), time.perf_counter() - started, info)


def read_sft_split(run_dir: Path, split: str, task: str) -> pd.DataFrame:
    """``data/<split>.parquet`` of an sft (messages) or seq2seq (input, target) run."""
    path = run_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        raise InputError(f"the {split} split is missing", where=str(path),
                         fix="Run the recipe's data stage (with a split section) first")
    frame = pd.read_parquet(path)
    needed = ["id", "messages"] if task == "sft" else ["id", "input", "target"]
    missing = [c for c in needed if c not in frame.columns]
    if missing or frame.empty:
        what = f"column(s) {', '.join(missing)} missing" if missing else f"the {split} split is empty"
        raise DataError(what, where=str(path),
                        fix=f"Write the split with the {task} columns {', '.join(needed)}")
    return frame.assign(id=frame["id"].astype(str))


def run_task(run_dir: Path, task: str | None, text_pair: str | None) -> tuple[str, str | None]:
    """The task and pair column: given, else from manifest.json, else from the data's columns."""
    try:
        manifest = read_json(run_dir / "manifest.json")
    except (OSError, ValueError):  # none, or not thresher's: fall back to the data's columns
        manifest = {}
    manifest = manifest if isinstance(manifest, dict) else {}
    recipe = manifest.get("recipe") if isinstance(manifest.get("recipe"), dict) else {}
    section = recipe.get("input") if isinstance(recipe.get("input"), dict) else {}
    if text_pair is None:
        text_pair = section.get("text_pair")
    if task is None:
        task = manifest.get("task") or recipe.get("task")
    if task is None:
        train = run_dir / "data" / "train.parquet"
        columns = _parquet_columns(train) if train.is_file() else []
        task = "ner" if {"tokens", "tags"} <= set(columns) else "classification"
    return str(task), text_pair


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def with_augmented(run_dir: Path, train: pd.DataFrame) -> pd.DataFrame:
    """The training rows, then the augment stage's kept variants (data/augmented.parquet) of
    the parents still in ``train`` (``max_train_rows`` may have left some out); NER rows
    (``tokens`` and ``tags``) get NER variants."""
    path = run_dir / "data" / "augmented.parquet"
    if not path.is_file():
        return train
    ner = "tokens" in train.columns
    payload = ["tokens", "tags"] if ner else ["text", "label"]
    extra = pd.read_parquet(path, columns=["id", *payload, "parent_id"])
    extra = extra[extra["parent_id"].astype(str).isin(set(train["id"]))]
    if extra.empty:
        return train
    if ner:
        strings = lambda values: [str(v) for v in values]  # noqa: E731
        extra = extra.assign(id=extra["id"].astype(str), tokens=extra["tokens"].map(strings),
                             tags=extra["tags"].map(strings))
        return pd.concat([train, extra.drop(columns="parent_id")], ignore_index=True)
    extra = extra.assign(id=extra["id"].astype(str), text=extra["text"].astype(str))
    if train["label"].map(lambda v: isinstance(v, str)).all():
        extra["label"] = extra["label"].astype(str)
    return pd.concat([train, extra.drop(columns="parent_id")], ignore_index=True)


def read_split(run_dir: Path, split: str, text_pair: str | None = None) -> pd.DataFrame:
    """``data/<split>.parquet`` with string ``id``, ``text`` and ``label`` columns (and the
    ``text_pair`` column as strings, when given)."""
    path = run_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        raise InputError(
            f"the {split} split is missing",
            where=str(path),
            fix="Run the split step first, or point to a run folder that has data/",
        )
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "text", "label", text_pair) if c and c not in frame.columns]
    if missing:
        raise DataError(
            f"column(s) {', '.join(missing)} missing (found: {', '.join(map(str, frame.columns))})",
            where=str(path),
            fix="Write the split with the classification columns id, text, label, source",
        )
    if frame.empty:
        raise DataError(f"the {split} split has no rows", where=str(path),
                        fix="Check the cleaning and split steps in manifest.json")
    frame = frame.assign(id=frame["id"].astype(str), text=frame["text"].astype(str))
    if text_pair:
        frame[text_pair] = frame[text_pair].fillna("").astype(str)
    if frame["label"].map(lambda v: isinstance(v, str)).all():
        frame["label"] = frame["label"].astype(str)
    elif not frame["label"].map(lambda v: hasattr(v, "tolist") or isinstance(v, list)).any():
        frame["label"] = frame["label"].astype(str)  # numbers: "1" and 1 are the same class
    return frame.reset_index(drop=True)


def stratified_subsample(frame: pd.DataFrame, n: int, seed: int, key: str = "label"
                         ) -> pd.DataFrame:
    """``n`` rows keeping each ``key`` value's share (largest remainder), in the original order."""
    if n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    counts = frame[key].value_counts().sort_index()
    exact = counts / len(frame) * n
    take = np.floor(exact).astype(int)
    take[(exact - take).sort_values(ascending=False).index[: n - int(take.sum())]] += 1
    chosen: list[int] = []
    for label, k in take.items():
        rows = frame.index[frame[key] == label].to_numpy()
        chosen.extend(rng.permutation(rows)[: max(int(k), 1)].tolist())
    return frame.loc[sorted(chosen)].reset_index(drop=True)


def texts_of(frame: pd.DataFrame, text_pair: str | None) -> list[Any]:
    """The model inputs of ``frame``: texts, or (text, pair) tuples for sentence pairs."""
    if text_pair:
        return list(zip(frame["text"].tolist(), frame[text_pair].tolist()))
    return frame["text"].tolist()


def _baseline(
    train: pd.DataFrame, val: pd.DataFrame, labels: list[str], config: TrainConfig, folder: Path,
    text_pair: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit, score on validation (one history row, as if one epoch), save to ``folder``."""
    started = time.perf_counter()
    weight = "balanced" if config.imbalance != "none" else None
    model = BaselineClassifier(labels=labels, seed=config.seed, class_weight=weight)
    model.fit(texts_of(train, text_pair), train["label"])
    seconds = time.perf_counter() - started
    train_loss, _, _ = _scores(model, train, labels, text_pair)
    val_loss, val_accuracy, val_macro_f1 = _scores(model, val, labels, text_pair)
    row = {"epoch": 1, "train_loss": train_loss, "val_loss": val_loss,
           "val_accuracy": val_accuracy, "val_macro_f1": val_macro_f1,
           "seconds": seconds, "learning_rate": None, "eval_seconds": 0.0}
    pair = {"text_pair": text_pair} if text_pair else {}
    info = {**model.info(), **pair, "train_rows": len(train), "seconds": round(seconds, 2),
            "precision": "fp64"}
    if is_main_process():  # several training processes: one writes
        model.save(folder, info=info, extra_json={"training_history.json": [row]})
    return info, [row]


def _scores(
    model: BaselineClassifier, frame: pd.DataFrame, labels: list[str], text_pair: str | None
) -> tuple[float, float, float]:
    """Log loss, accuracy and macro-F1 of ``model`` on ``frame``."""
    from sklearn.metrics import f1_score, log_loss

    proba = model.predict_proba(texts_of(frame, text_pair))
    index = {label: i for i, label in enumerate(labels)}
    truth = frame["label"].map(index).to_numpy()
    predicted = proba.argmax(axis=1)
    return (
        float(log_loss(truth, proba, labels=list(range(len(labels))))),
        float((predicted == truth).mean()),
        float(f1_score(truth, predicted, average="macro", zero_division=0)),
    )
