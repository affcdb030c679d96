"""Fine-tune a transformer on a run folder's rows and save it to ``model/``.

The task object (``tasks.py``) says how rows become token ids and labels; this module loads
the backbone with the matching head, runs the one loop, tunes multilabel thresholds on
validation, and saves.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.train.backbones import Backbone, ResolvedSpec, load_backbone
from thresher.train.checkpoint import CHECKPOINTS, Checkpoints, data_digest, fingerprint
from thresher.train.config import TrainConfig
from thresher.train.device import resolve_device, resolve_precision, seed_all
from thresher.train.distributed import Cluster
from thresher.train.files import read_json
from thresher.train.guards import out_of_memory_hint
from thresher.train.lora import add_lora, freeze_input_embeddings, zero_head
from thresher.train.loop import FitResult, fit, predict_logits
from thresher.train.multilabel import tune_thresholds
from thresher.train.tasks import Classification, Task
from thresher.train.tracking import open_writers
from thresher.train.transformer import TransformerClassifier

__all__ = ["finetune", "fit_tracked", "open_checkpoints", "prepare_model"]


def finetune(
    train: pd.DataFrame,
    val: pd.DataFrame,
    labels: list[str],
    config: TrainConfig,
    resolved: ResolvedSpec,
    run_dir: Path,
    progress: bool = False,
    task: Task | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Train, keep the best epoch, save; returns (thresher_model.json, history, best epoch).

    ``task`` defaults to single-label classification over ``labels``.
    """
    started = time.perf_counter()
    task = task or Classification(labels)
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    cluster = Cluster.detect(device)
    seed_all(config.seed)  # before loading: the new head's initial weights come from torch's RNG
    backbone = load_backbone(resolved, num_labels=len(labels), head=task.head,
                             multilabel=task.name == "multilabel")
    model, use_lora = prepare_model(backbone, config, head=task.head)
    encoded = [task.encode(backbone.tokenizer, frame, config.max_length) for frame in (train, val)]
    checkpoints = open_checkpoints(run_dir, config, task, labels, resolved, encoded, cluster)
    if progress and checkpoints.note and cluster.is_main:
        print(checkpoints.note, file=sys.stderr)
    with out_of_memory_hint(resolved.spec, config, device, lora=use_lora):
        result, tracked = fit_tracked(model, encoded, config, device, precision, run_dir,
                                      progress, task, checkpoints, cluster)
        info = _model_info(resolved, backbone, config, use_lora, precision, device, labels)
        info.update(_task_info(task, config), train_rows=len(train), best_epoch=result.best_epoch,
                    steps=result.steps, seconds=round(time.perf_counter() - started, 2))
        if result.resumed_from is not None:
            info["resumed_from_step"] = result.resumed_from
        if tracked is not None:
            info["mlflow"] = tracked
        saved = _saved_model(task, model, backbone.tokenizer, labels, config, device, precision,
                             info)
        if task.name == "multilabel":
            logits = predict_logits(model, encoded[1], config.eval_batch_size, device, precision)
            saved.thresholds = tune_thresholds(1 / (1 + np.exp(-logits)), encoded[1].labels)
    if cluster.is_main:
        saved.save(run_dir / "model", extra_json={"training_history.json": result.history})
        info = read_json(run_dir / "model" / "thresher_model.json")  # as later readers see it
        if not config.keep_checkpoints:
            checkpoints.remove()
    cluster.close()  # the other processes wait here until the model is saved
    return info, result.history, result.best_epoch


def open_checkpoints(run_dir: Path, config: TrainConfig, task: Task, labels: list[str],
                 resolved: ResolvedSpec, encoded: list[Any], cluster: Cluster) -> Checkpoints:
    """The run's checkpoints, with the one to resume from (if it matches) already found."""
    key = fingerprint(config, task=task.name, labels=labels, text_pair=task.text_pair,
                      backbone=[resolved.source, resolved.spec], processes=cluster.size,
                      data=data_digest(*encoded))
    checkpoints = Checkpoints(run_dir / CHECKPOINTS, key, config.checkpoint_every, cluster)
    checkpoints.load()
    return checkpoints


def fit_tracked(model: Any, encoded: list[Any], config: TrainConfig, device: str,
                precision: str, run_dir: Path, progress: bool, task: Task,
                checkpoints: Checkpoints, cluster: Cluster
                ) -> tuple[FitResult, dict[str, str] | None]:
    """The loop, with TensorBoard and MLflow open on process 0 (resumed ones continue)."""
    found = checkpoints.found
    with open_writers(run_dir, config, enabled=cluster.is_main,
                      resume_step=found.state.step + 1 if found else None,
                      mlflow_run=found.extra.get("mlflow_run") if found else None,
                      params={"task": task.name, "labels": len(task.labels),
                              "processes": cluster.size}) as (writer, tracker):
        if tracker is not None:
            checkpoints.extra = {"mlflow_run": tracker.run_id}
        result = fit(model, encoded[0], encoded[1], config, device, precision, writer, progress,
                     task=task, checkpoints=checkpoints, cluster=cluster)
    return result, None if tracker is None else tracker.info()


def _task_info(task: Task, config: TrainConfig) -> dict[str, Any]:
    """What thresher_model.json adds for tasks other than plain classification."""
    info: dict[str, Any] = {}
    if task.name != "classification":
        info["task"] = task.name
    if task.name == "multilabel":
        info["label_separator"] = config.label_separator
    if task.text_pair:
        info["text_pair"] = task.text_pair
    if config.imbalance != "none":
        info["imbalance"] = config.imbalance
    return info


def _saved_model(task: Task, model: Any, tokenizer: Any, labels: list[str], config: TrainConfig,
                 device: str, precision: str, info: dict[str, Any]) -> TransformerClassifier:
    cls = TransformerClassifier
    if task.name == "ner":
        from thresher.train.ner import TokenTagger

        cls = TokenTagger
    return cls(model, tokenizer, labels, max_length=config.max_length, device=device,
               precision=precision, info=info)


def prepare_model(backbone: Backbone, config: TrainConfig,
                  head: str = "sequence") -> tuple[Any, bool]:
    """The model to train and whether it uses LoRA (auto: decoders do, encoders do not)."""
    use_lora = backbone.is_decoder if config.lora is None else config.lora
    if backbone.is_decoder:
        zero_head(backbone.model)
    if use_lora:
        return add_lora(backbone.model, config.lora_r, config.lora_alpha, head), True
    if config.freeze_embeddings:
        freeze_input_embeddings(backbone.model)
    return backbone.model, False


def _model_info(
    resolved: ResolvedSpec, backbone: Backbone, config: TrainConfig, use_lora: bool, precision: str, device: str,
    labels: list[str],
) -> dict[str, Any]:
    """thresher_model.json: what was trained and how to load it again."""
    lora = {"r": config.lora_r, "alpha": config.lora_alpha, "targets": "all linear layers",
            "head": "trained in full"}
    return {
        "kind": "transformer",
        "backbone": resolved.spec,
        "base": {"source": resolved.source, "spec": resolved.spec, "folder": resolved.folder},
        "architecture": type(backbone.model).__name__,
        "is_decoder": backbone.is_decoder,
        # a base that can be found again is referenced, not copied (Gemma would be 1 GB)
        "load": "adapter" if use_lora and resolved.source in ("package", "hub") else "full",
        "lora": lora if use_lora else None,
        "precision": precision,
        "device": device,
        "max_length": config.max_length,
        "labels": labels,
    }
