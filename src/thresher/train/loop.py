"""The training loop: read it top to bottom (nanoGPT style).

Per epoch: length-grouped batches -> forward under autocast -> backward -> AdamW step with
linear warm-up and decay -> evaluate on validation -> keep the best weights by macro-F1 ->
stop early when it stops improving. The loss stays on the device and is read back only at
logging intervals, so the CPU/GPU never waits for a Python float mid-epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thresher.train.batches import Encoded, collate, eval_batches, train_batches
from thresher.train.config import TrainConfig
from thresher.train.device import autocast
from thresher.train.progress import EpochProgress

__all__ = ["FitResult", "fit", "predict_logits"]

LOG_EVERY = 20  # optimiser steps between reads of the running loss (each read is a sync)
CLIP_NORM = 1.0  # gradient-norm clip: keeps early LoRA/head steps from overshooting


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_macro_f1: float = -1.0


def fit(
    model: Any,
    train: Encoded,
    val: Encoded,
    config: TrainConfig,
    device: str,
    precision: str,
    writer: Any = None,
    progress: bool = False,
) -> FitResult:
    """Train ``model`` in place; on return it holds the best epoch's weights."""
    model.to(device)
    rng = np.random.default_rng(config.seed)  # batch order: same seed, same batches
    steps_per_epoch = math.ceil(math.ceil(len(train) / config.batch_size) / config.grad_accum)
    optimizer = _optimizer(model, config)
    schedule = _schedule(optimizer, config.warmup, steps_per_epoch * config.epochs)
    step = _Step(model, optimizer, schedule, device, precision, writer)
    result, best_state, bad_epochs = FitResult(), None, 0
    with EpochProgress(enabled=progress, epochs=config.epochs, steps=steps_per_epoch) as bar:
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            batches = train_batches(train.lengths, config.batch_size, rng)
            report = lambda n, loss: bar.update(epoch, n, loss)  # noqa: E731
            train_loss = step.epoch(train, batches, config.grad_accum, report)
            trained = time.perf_counter()
            scores = _evaluate(model, val, config.eval_batch_size, device, precision)
            result.history.append({
                "epoch": epoch, "train_loss": train_loss, **scores,
                "seconds": time.perf_counter() - started,
                "learning_rate": schedule.get_last_lr()[0],
                "eval_seconds": time.perf_counter() - trained,
            })
            _log(writer, {f"val/{k[4:]}": v for k, v in scores.items()}, step.count)
            if scores["val_macro_f1"] > result.best_macro_f1:
                result.best_macro_f1, result.best_epoch = scores["val_macro_f1"], epoch
                best_state, bad_epochs = _snapshot(model), 0
            else:
                bad_epochs += 1
                if config.patience and bad_epochs >= config.patience:
                    break  # patience 0 never stops early
    if best_state is not None and result.best_epoch != len(result.history):
        model.load_state_dict(best_state, strict=False)
    return result


class _Step:
    """One optimiser step after another; counts steps and logs the running loss."""

    def __init__(
        self, model: Any, optimizer: Any, schedule: Any, device: str, precision: str, writer: Any
    ) -> None:
        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.device, self.precision, self.writer = device, precision, writer
        self.count = 0

    def epoch(self, data: Encoded, batches: list[np.ndarray], accum: int, report: Any) -> float:
        """Train over ``batches``; returns the mean loss per row (one sync per LOG_EVERY steps)."""
        import torch

        self.model.train()
        loss_sum, seen = torch.zeros((), device=self.device), 0
        for i in range(0, len(batches), accum):
            group = batches[i : i + accum]
            rows_in_step = sum(len(rows) for rows in group)
            for rows in group:
                loss = self._loss(collate(data, rows))
                (loss * (len(rows) / rows_in_step)).backward()  # mean over the whole step
                loss_sum += loss.detach() * len(rows)
            seen += rows_in_step
            torch.nn.utils.clip_grad_norm_(_trainable(self.model), CLIP_NORM)
            self.optimizer.step()
            self.schedule.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.count += 1
            if self.count % LOG_EVERY == 0 or i + accum >= len(batches):
                running = float(loss_sum) / seen  # the sync point
                lr = self.schedule.get_last_lr()[0]
                _log(self.writer, {"train/loss": running, "train/lr": lr}, self.count)
                report(i // accum + 1, running)
        return float(loss_sum) / max(seen, 1)

    def _loss(self, batch: dict[str, Any]) -> Any:
        import torch

        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        with autocast(self.device, self.precision):
            logits = self.model(batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return torch.nn.functional.cross_entropy(logits.float(), batch["labels"])


def predict_logits(
    model: Any, data: Encoded, batch_size: int, device: str, precision: str
) -> np.ndarray:
    """Logits for every row, in input order; batches run shortest first with no gradients."""
    import torch

    model.eval()
    out: np.ndarray | None = None
    with torch.inference_mode():
        for rows in eval_batches(data.lengths, batch_size):
            batch = collate(data, rows)
            with autocast(device, precision):
                logits = model(
                    batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)
                ).logits
            values = logits.float().cpu().numpy()
            if out is None:
                out = np.zeros((len(data), values.shape[1]), dtype=np.float32)
            out[rows] = values
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _evaluate(
    model: Any, val: Encoded, batch_size: int, device: str, precision: str
) -> dict[str, float]:
    from sklearn.metrics import f1_score

    logits = predict_logits(model, val, batch_size, device, precision)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_proba = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    truth = val.labels if val.labels is not None else np.zeros(len(val), dtype=np.int64)
    predicted = logits.argmax(axis=1)
    return {
        "val_loss": float(-log_proba[np.arange(len(truth)), truth].mean()),
        "val_accuracy": float((predicted == truth).mean()),
        "val_macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
    }


def _trainable(model: Any) -> list[Any]:
    return [p for p in model.parameters() if p.requires_grad]


def _optimizer(model: Any, config: TrainConfig) -> Any:
    import torch

    # Decay matrices only: decaying biases and norm gains pulls them toward 0 for no benefit.
    params = _trainable(model)
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    try:  # one fused kernel for all parameters; older torch builds lack it on CPU
        return torch.optim.AdamW(groups, lr=config.learning_rate, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=config.learning_rate, foreach=True)


def _schedule(optimizer: Any, warmup: float, total_steps: int) -> Any:
    import torch

    warm = int(warmup * total_steps)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _snapshot(model: Any) -> dict[str, Any]:
    """A copy of the trainable weights only: the frozen part of a LoRA model never changes."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _log(writer: Any, scalars: dict[str, float], step: int) -> None:
    if writer is not None:
        for key, value in scalars.items():
            writer.add_scalar(key, value, step)
