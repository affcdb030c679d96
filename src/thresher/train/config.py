"""The fine-tuning settings: one frozen dataclass, one comment per setting (nanoGPT style)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from thresher.errors import RecipeError

__all__ = ["DEVICES", "IMBALANCE", "MLFLOW_KEYS", "PRECISIONS", "TrainConfig"]

PRECISIONS = ("auto", "bf16", "fp32")
DEVICES = ("auto", "cpu", "cuda")
IMBALANCE = ("none", "class_weights", "resample")
MLFLOW_KEYS = ("tracking_uri", "experiment")


@dataclass(frozen=True)
class TrainConfig:
    """How to fine-tune. Every field has a default; the recipe overrides any of them."""

    # "DEFAULT" (gemma3-270m for Chinese text, minilm otherwise), "baseline" (TF-IDF + logistic
    # regression only), an offline backbone ("gemma3-270m", "minilm", "smollm2"), a local model
    # folder, a .gguf file, or a hub id (only when the hub is reachable)
    model: str = "DEFAULT"
    epochs: int = 3  # passes over the training rows (early stopping may end sooner)
    batch_size: int = 32  # rows per optimiser step (times grad_accum)
    learning_rate: float = 2e-5  # peak AdamW rate; full fine-tuning wants ~2e-5, LoRA ~2e-4
    max_length: int = 128  # tokens per text; longer texts are truncated
    seed: int = 13  # seeds torch, numpy and random: same seed, same metrics
    warmup: float = 0.1  # fraction of all steps spent warming the rate up linearly from 0
    weight_decay: float = 0.01  # AdamW decoupled decay, not applied to biases and norms
    # stop after this many epochs without a better validation score (macro-F1; multilabel:
    # micro-F1; ner: entity F1); 0 = never
    patience: int = 2
    lora: bool | None = None  # None = auto: LoRA for decoder models, full fine-tuning for encoders
    lora_r: int = 8  # rank of the LoRA update matrices
    lora_alpha: int = 16  # LoRA scaling numerator (the update is scaled by alpha / r)
    max_train_rows: int | None = None  # stratified subsample of train (seeded), for CPU budgets
    eval_batch_size: int = 64  # rows per forward pass when evaluating; no gradients, so larger
    precision: str = "auto"  # "auto" = bf16 autocast where the CPU/GPU runs it natively, else fp32
    grad_accum: int = 1  # micro-batches per optimiser step, to reach a batch that does not fit
    # keep the token-embedding matrix fixed in full fine-tuning: ~13% faster MiniLM steps on CPU;
    # off by default because it stops a model with untrained embeddings from learning at all
    freeze_embeddings: bool = False
    device: str = "auto"  # "auto" = cuda when available, else cpu
    # rare classes: "class_weights" weighs each class's loss by its inverse frequency (mean
    # weight 1 over the rows; multilabel: positives of a label by its negatives/positives; ner:
    # per tag), "resample" repeats rows of smaller classes (seeded) until every class has as
    # many rows per epoch as the largest (single-label classification only); "none" = as is
    imbalance: str = "none"
    label_separator: str = ","  # multilabel: splits a label cell such as "sports,politics"
    # optimiser steps to train for; when set it replaces ``epochs`` (the last epoch may be cut
    # short, and is still evaluated); early stopping still applies at epoch ends
    max_steps: int | None = None
    # write a resumable checkpoint (run folder's checkpoints/) every this many optimiser steps,
    # and always at the end of each epoch; 0 = at epoch ends only
    checkpoint_every: int = 500
    keep_checkpoints: bool = False  # keep checkpoints/ after a successful finish (else removed)
    # MLflow tracking (needs thresher[track]): true = a SQLite store inside the run folder, or
    # {tracking_uri: ..., experiment: ...}; false = TensorBoard only
    mlflow: bool | dict[str, str] = False
    # sft/seq2seq: pack short conversations into max_length sequences (attention stays inside
    # each conversation; position ids restart), instead of padding each batch to its longest
    packing: bool = False

    def validate(self) -> "TrainConfig":
        """Raise :class:`RecipeError` naming the first bad key and its allowed values."""
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("device", self.device, DEVICES)
        _check_choice("imbalance", self.imbalance, IMBALANCE)
        if not isinstance(self.label_separator, str) or not self.label_separator:
            raise _bad("label_separator", self.label_separator, 'a non-empty string such as ","')
        if not isinstance(self.model, str) or not self.model.strip():
            raise _bad("model", self.model, 'a backbone name, a folder, a .gguf file or "baseline"')
        positive = ("epochs", "batch_size", "max_length", "eval_batch_size", "grad_accum", "lora_r")
        for key in positive:
            _check_int(key, getattr(self, key), minimum=1)
        _check_int("lora_alpha", self.lora_alpha, minimum=1)
        _check_int("patience", self.patience, minimum=0)
        _check_int("seed", self.seed, minimum=0)
        _check_int("checkpoint_every", self.checkpoint_every, minimum=0)
        if self.max_steps is not None:
            _check_int("max_steps", self.max_steps, minimum=1)
        if not isinstance(self.packing, bool):
            raise _bad("packing", self.packing, "true or false")
        if not isinstance(self.keep_checkpoints, bool):
            raise _bad("keep_checkpoints", self.keep_checkpoints, "true or false")
        _check_mlflow(self.mlflow)
        if self.max_train_rows is not None:
            _check_int("max_train_rows", self.max_train_rows, minimum=2)
        if not isinstance(self.freeze_embeddings, bool):
            raise _bad("freeze_embeddings", self.freeze_embeddings, "true or false")
        if self.lora is not None and not isinstance(self.lora, bool):
            raise _bad("lora", self.lora, "true, false or null (auto)")
        _check_number("learning_rate", self.learning_rate, low=0.0, high=1.0, low_open=True)
        _check_number("warmup", self.warmup, low=0.0, high=1.0)
        _check_number("weight_decay", self.weight_decay, low=0.0, high=1.0)
        return self

    def check_task(self, task: str) -> "TrainConfig":
        """Raise :class:`RecipeError` for a setting the recipe's task cannot use."""
        if self.packing and task not in ("sft", "seq2seq"):
            raise _bad("packing", self.packing, "false: packing is for sft and seq2seq")
        if self.imbalance == "resample" and task != "classification":
            raise _bad("imbalance", self.imbalance,
                       '"class_weights" or "none": resampling needs one label per row')
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build and validate from a recipe's ``train:`` mapping; unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:
                raise RecipeError(
                    f"unknown setting {key!r}",
                    where=f"train.{key}",
                    fix=f"Use one of: {', '.join(sorted(known))}",
                )
        return cls(**values).validate()


def _bad(key: str, value: Any, allowed: str) -> RecipeError:
    return RecipeError(f"{value!r} is not allowed", where=f"train.{key}", fix=f"Use {allowed}")


def _check_mlflow(value: Any) -> None:
    if isinstance(value, bool):
        return
    allowed = "true, false, or a mapping with tracking_uri and/or experiment (strings)"
    if not isinstance(value, dict) or not value:
        raise _bad("mlflow", value, allowed)
    for key, item in value.items():
        if key not in MLFLOW_KEYS or not isinstance(item, str) or not item.strip():
            raise _bad(f"mlflow.{key}", item, allowed)


def _check_choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _bad(key, value, "one of: " + ", ".join(repr(a) for a in allowed))


def _check_int(key: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(key, value, f"a whole number >= {minimum}")


def _check_number(
    key: str, value: Any, *, low: float, high: float, low_open: bool = False
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise _bad(key, value, f"a number in {bracket}{low}, {high}]")
