"""Fine-tune a transformer on a run folder's rows and save it to ``model/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher.train.backbones import Backbone, ResolvedSpec, load_backbone
from thresher.train.batches import encode
from thresher.train.config import TrainConfig
from thresher.train.device import resolve_device, resolve_precision, seed_all
from thresher.train.files import read_json
from thresher.train.lora import add_lora, freeze_input_embeddings, zero_head
from thresher.train.loop import fit
from thresher.train.transformer import TransformerClassifier

__all__ = ["finetune", "prepare_model"]


def finetune(
    train: pd.DataFrame,
    val: pd.DataFrame,
    labels: list[str],
    config: TrainConfig,
    resolved: ResolvedSpec,
    run_dir: Path,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Train, keep the best epoch, save; returns (thresher_model.json, history, best epoch)."""
    started = time.perf_counter()
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    seed_all(config.seed)  # before loading: the new head's initial weights come from torch's RNG
    backbone = load_backbone(resolved, num_labels=len(labels))
    model, use_lora = prepare_model(backbone, config)
    index = {label: i for i, label in enumerate(labels)}
    encoded = [
        encode(backbone.tokenizer, frame["text"].tolist(), config.max_length,
               np.array([index[y] for y in frame["label"]], dtype=np.int64))
        for frame in (train, val)
    ]
    with _tensorboard(run_dir / "logs") as writer:
        result = fit(model, encoded[0], encoded[1], config, device, precision, writer, progress)
    info = _model_info(resolved, backbone, config, use_lora, precision, device, labels)
    info.update(train_rows=len(train), best_epoch=result.best_epoch,
                seconds=round(time.perf_counter() - started, 2))
    classifier = TransformerClassifier(
        model, backbone.tokenizer, labels,
        max_length=config.max_length, device=device, precision=precision, info=info,
    )
    classifier.save(run_dir / "model", extra_json={"training_history.json": result.history})
    return read_json(run_dir / "model" / "thresher_model.json"), result.history, result.best_epoch


def prepare_model(backbone: Backbone, config: TrainConfig) -> tuple[Any, bool]:
    """The model to train and whether it uses LoRA (auto: decoders do, encoders do not)."""
    use_lora = backbone.is_decoder if config.lora is None else config.lora
    if backbone.is_decoder:
        zero_head(backbone.model)
    if use_lora:
        return add_lora(backbone.model, config.lora_r, config.lora_alpha), True
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


class _tensorboard:
    """A SummaryWriter that is always closed (its event file flushed) when training ends."""

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))

    def __enter__(self) -> Any:
        return self.writer

    def __exit__(self, *exc: object) -> None:
        self.writer.close()
