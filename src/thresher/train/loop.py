"""The training loop: read it top to bottom (nanoGPT style).

Per epoch: length-grouped batches -> forward under autocast -> backward -> AdamW step with
linear warm-up and decay -> evaluate on validation -> keep the best weights by the task's
validation score (macro-F1 for classification) -> checkpoint -> stop early when it stops
improving. The loss stays on the device and is read back only at logging intervals, so the
CPU/GPU never waits for a Python float mid-epoch; those reads are also where a NaN or
infinite loss is caught. What differs between tasks (loss, scores) lives in ``tasks.py``;
resuming in ``checkpoint.py``; several processes (DDP) in ``distributed.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from thresher.train.batches import Encoded, collate, eval_batches, train_batches
from thresher.train.checkpoint import Checkpoints, TrainState
from thresher.train.config import TrainConfig
from thresher.train.device import autocast
from thresher.train.distributed import Cluster
from thresher.train.guards import TrainingDiverged
from thresher.train.progress import EpochProgress
from thresher.train.tasks import Classification, Task

__all__ = ["FitResult", "fit", "predict_logits"]

LOG_EVERY = 20  # optimiser steps between reads of the running loss (each read is a sync)
CLIP_NORM = 1.0  # gradient-norm clip: keeps early LoRA/head steps from overshooting


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = -1.0  # the task's selection score (``Task.select``) at best_epoch
    steps: int = 0  # optimiser steps taken in all (including those before a resume)
    resumed_from: int | None = None  # the checkpoint's step when this run resumed from one


@dataclass
class _Plan:
    """How long training runs: ``max_steps`` when set, else ``epochs`` whole epochs."""

    steps_per_epoch: int
    total_steps: int
    epochs: int


def fit(
    model: Any,
    train: Encoded,
    val: Encoded,
    config: TrainConfig,
    device: str,
    precision: str,
    writer: Any = None,
    progress: bool = False,
    task: Task | None = None,
    checkpoints: Checkpoints | None = None,
    cluster: Cluster | None = None,
) -> FitResult:
    """Train ``model`` in place; on return it holds the best epoch's weights.

    ``task`` (default: single-label classification) supplies the loss and validation scores;
    ``checkpoints`` (optional) resumes from the one it found and writes new ones; ``cluster``
    (default: this process alone) shares each step's batches between processes.
    """
    task = task or Classification([])
    cluster = cluster or Cluster()
    model.to(device)
    rng = np.random.default_rng(config.seed)  # batch order: same seed, same batches
    resample_rng = np.random.default_rng([config.seed, 1])  # its own stream: rng stays as it was
    plan = _plan(train, task, config, cluster.size)
    optimizer = _optimizer(model, config)
    schedule = _schedule(optimizer, config.warmup, plan.total_steps)
    state, best_state = TrainState(), None
    if checkpoints is not None and checkpoints.found is not None:
        state, best_state = checkpoints.restore(model, optimizer, schedule)
    resumed_from = state.step if state.step else None
    wrapped, optimizer = cluster.prepare(model, optimizer)
    step = _Step(wrapped, optimizer, schedule, device, precision, writer, task, cluster)
    step.count = state.step
    save = _saver(checkpoints, state, model, optimizer, schedule, lambda: best_state)
    with EpochProgress(enabled=progress and cluster.is_main, epochs=plan.epochs,
                       steps=plan.steps_per_epoch) as bar:
        while not state.done and state.epoch <= plan.epochs:
            epoch = state.epoch
            if state.batch_rngs:  # resuming (or the states saved when the last epoch ended)
                rng.bit_generator.state, resample_rng.bit_generator.state = state.batch_rngs
            state.batch_rngs = [rng.bit_generator.state, resample_rng.bit_generator.state]
            started = time.perf_counter()
            batches = _epoch_batches(train, config.batch_size, rng, task, resample_rng)
            report = lambda n, loss: bar.update(epoch, n, loss)  # noqa: E731
            train_loss = step.epoch(train, batches, config, report, state, plan.total_steps, save)
            trained = time.perf_counter()
            scores = _validate(model, val, config, device, precision, task, cluster, step, epoch)
            state.history.append({
                "epoch": epoch, "train_loss": train_loss, **scores,
                "seconds": time.perf_counter() - started,
                "learning_rate": schedule.get_last_lr()[0],
                "eval_seconds": time.perf_counter() - trained,
            })
            _log(writer, {f"val/{k[4:]}": v for k, v in scores.items()}, step.count)
            if _improved(state, scores[task.select], epoch, config.patience):
                best_state = _snapshot(model)
            state.done = state.done or step.count >= plan.total_steps
            state.epoch, state.epoch_steps, state.loss_sum, state.seen = epoch + 1, 0, 0.0, 0
            state.batch_rngs = [rng.bit_generator.state, resample_rng.bit_generator.state]
            save()
    if best_state is not None and state.best_epoch != len(state.history):
        model.load_state_dict(best_state, strict=False)
    return FitResult(state.history, state.best_epoch, state.best_score, step.count, resumed_from)


def _validate(model: Any, val: Encoded, config: TrainConfig, device: str, precision: str,
              task: Task, cluster: Cluster, step: "_Step", epoch: int) -> dict[str, float]:
    """The task's validation scores (the same on every process); a validation loss that is
    not a finite number stops training. A task with its own ``validate`` (a causal LM, whose
    logits over the vocabulary would not fit in memory for a whole split) scores batch by batch
    on process 0."""
    if hasattr(task, "validate"):
        scores = task.validate(model, val, config.eval_batch_size, device, precision)
    else:
        logits = cluster.predict(
            lambda data: predict_logits(model, data, config.eval_batch_size, device, precision),
            val)
        scores = task.val_scores(logits, val)
    _check_finite(scores.get("val_loss", 0.0), "the validation loss", step, epoch, config,
                  precision)
    return scores


def _improved(state: TrainState, score: float, epoch: int, patience: int) -> bool:
    """Record an epoch's selection score: True when it beats every earlier epoch; after
    ``patience`` epochs without that, ``state.done`` (patience 0 never stops early)."""
    if score > state.best_score:
        state.best_score, state.best_epoch, state.bad_epochs = score, epoch, 0
        return True
    state.bad_epochs += 1
    state.done = bool(patience and state.bad_epochs >= patience)
    return False


def _plan(train: Encoded, task: Task, config: TrainConfig, processes: int) -> _Plan:
    """Optimiser steps per epoch (every process takes its share of each step's batches), the
    steps in all, and the epochs those need."""
    sized = task.epoch_rows(train, np.random.default_rng(0))  # only its size: fixed per epoch
    n_rows = len(train) if sized is None else len(sized)
    batches = math.ceil(n_rows / config.batch_size)
    per_epoch = math.ceil(batches / (config.grad_accum * processes))
    if config.max_steps is None:
        return _Plan(per_epoch, per_epoch * config.epochs, config.epochs)
    return _Plan(per_epoch, config.max_steps, math.ceil(config.max_steps / per_epoch))


def _saver(checkpoints: Checkpoints | None, state: TrainState, model: Any, optimizer: Any,
           schedule: Any, best: Callable[[], Any]) -> Callable[[], None]:
    """A function that checkpoints the loop as it is now (a no-op without checkpoints)."""
    if checkpoints is None:
        return lambda: None
    return lambda: checkpoints.save(state, model, optimizer, schedule, best())


def _epoch_batches(train: Encoded, batch_size: int, rng: np.random.Generator, task: Task,
                   resample_rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices per batch; with resampling, batches over this epoch's resample of the rows."""
    rows = task.epoch_rows(train, resample_rng)
    if rows is None:
        return train_batches(train.lengths, batch_size, rng)
    return [rows[b] for b in train_batches(train.lengths[rows], batch_size, rng)]


class _Step:
    """One optimiser step after another; counts steps and logs the running loss."""

    def __init__(
        self, model: Any, optimizer: Any, schedule: Any, device: str, precision: str, writer: Any,
        task: Task, cluster: Cluster,
    ) -> None:
        import torch

        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.device, self.precision, self.writer = device, precision, writer
        self.task, self.cluster = task, cluster
        self.count = 0
        # the first step whose gradient norm was not finite (-1: none yet), kept on the device
        # and read only at the sync points, so that watching costs no sync per step
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)

    def epoch(self, data: Encoded, batches: list[np.ndarray], config: TrainConfig, report: Any,
              state: TrainState, stop_at: int, save: Callable[[], None]) -> float:
        """Train over ``batches`` from step ``state.epoch_steps`` of the epoch; returns the mean
        loss per row (one sync per LOG_EVERY steps; a checkpoint every checkpoint_every)."""
        import torch

        self.model.train()
        loss_sum = torch.tensor(state.loss_sum, dtype=torch.float32, device=self.device)
        seen = state.seen
        per_step = config.grad_accum * self.cluster.size
        running = state.loss_sum / max(seen, 1)
        for i in range(state.epoch_steps * per_step, len(batches), per_step):
            group = batches[i : i + per_step]
            rows_in_step = sum(len(rows) for rows in group)
            mine = self.cluster.shard(group)
            # the last step of an epoch may leave a process without a batch: it still joins
            # the gradient all-reduce, with a zero-weighted pass
            for k, rows in enumerate(mine or group[:1]):
                weight = len(rows) * self.cluster.size / rows_in_step if mine else 0.0
                with self.cluster.no_sync(self.model, skip=k < len(mine) - 1):
                    loss = self._loss(collate(data, rows))
                    (loss * weight).backward()  # mean over the whole step
                if mine:
                    loss_sum += loss.detach() * len(rows)
                    seen += len(rows)
            norm = torch.nn.utils.clip_grad_norm_(_trainable(self.model), CLIP_NORM)
            self._watch(norm)
            self.optimizer.step()
            self.schedule.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.count += 1
            state.step, state.epoch_steps = self.count, state.epoch_steps + 1
            last = i + per_step >= len(batches) or self.count >= stop_at
            if self.count % LOG_EVERY == 0 or last:
                running = self._running(loss_sum, seen, state.epoch, config)  # the sync point
                lr = self.schedule.get_last_lr()[0]
                _log(self.writer, {"train/loss": running, "train/lr": lr}, self.count)
                report(state.epoch_steps, running)
            if last:
                break
            if config.checkpoint_every and self.count % config.checkpoint_every == 0:
                self._running(loss_sum, seen, state.epoch, config)  # never save a diverged run
                state.loss_sum, state.seen = float(loss_sum), seen
                save()
        return running

    def _watch(self, norm: Any) -> None:
        import torch

        bad = ~torch.isfinite(norm) & (self.first_bad < 0)
        self.first_bad = torch.where(bad, self.count + 1, self.first_bad)

    def _running(self, loss_sum: Any, seen: int, epoch: int, config: TrainConfig) -> float:
        """The mean loss so far this epoch (over all processes); stops a diverged run."""
        total, rows = self.cluster.total(loss_sum, seen)
        first_bad = int(self.first_bad)
        running = total / max(rows, 1)
        if first_bad >= 0 or not math.isfinite(running):
            what = "the training loss or its gradients became NaN or infinite"
            raise TrainingDiverged(what, step=first_bad if first_bad >= 0 else self.count,
                                   epoch=epoch, learning_rate=config.learning_rate,
                                   precision=self.precision)
        return running

    def _loss(self, batch: dict[str, Any]) -> Any:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        with autocast(self.device, self.precision):
            if hasattr(self.task, "forward_loss"):  # the task runs the model (causal LM)
                return self.task.forward_loss(self.model, batch)
            logits = self.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        return self.task.loss(logits, batch)


def _check_finite(value: float, what: str, step: _Step, epoch: int, config: TrainConfig,
                  precision: str) -> None:
    if not math.isfinite(value):
        raise TrainingDiverged(f"{what} became {value}", step=step.count, epoch=epoch,
                               learning_rate=config.learning_rate, precision=precision)


def predict_logits(
    model: Any, data: Encoded, batch_size: int, device: str, precision: str
) -> Any:
    """Logits for every row, in input order; batches run shortest first with no gradients.

    One row of logits per text, shape (rows, labels); for a token model (ner) a list holding
    each row's (tokens, tags) array, without padding.
    """
    import torch

    model.eval()
    out: Any = None
    with torch.inference_mode():
        for rows in eval_batches(data.lengths, batch_size):
            batch = collate(data, rows)
            inputs = {k: v.to(device) for k, v in batch.items() if k != "labels"}
            with autocast(device, precision):
                logits = model(**inputs).logits
            values = logits.float().cpu().numpy()
            if values.ndim == 3:  # one prediction per token: cut each row back to its length
                out = out if out is not None else [None] * len(data)
                for i, row in enumerate(rows):
                    out[row] = values[i, : int(data.lengths[row])]
                continue
            if out is None:
                out = np.zeros((len(data), values.shape[1]), dtype=np.float32)
            out[rows] = values
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


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
