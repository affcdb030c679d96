"""The processes that train together: one (the default) or several (data-parallel, DDP).

Launched with ``accelerate launch`` or ``torchrun``, every process runs the same loop on the
same seeded batch list and takes its own share of each optimiser step's batches;
:class:`accelerate.Accelerator` wraps the model in DDP, which averages the gradients. Only
process 0 writes files (model, checkpoints, TensorBoard, MLflow). Validation rows are split
between the processes and the logits gathered, so every process scores the same numbers and
takes the same early-stopping decision.

A single process never creates an Accelerator: every method below is then the identity, so
single-process results stay exactly what they were.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, ContextManager

import numpy as np

__all__ = ["Cluster", "is_main_process", "world_size"]


def world_size() -> int:
    """Processes in this job, from the launcher's environment (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    """True unless this is a secondary process of a multi-process launch."""
    return int(os.environ.get("RANK", "0") or 0) == 0


class Cluster:
    """``size`` processes, this one being ``rank``; ``accelerator`` when more than one."""

    def __init__(self, accelerator: Any = None) -> None:
        self.accelerator = accelerator
        self.size = accelerator.num_processes if accelerator is not None else 1
        self.rank = accelerator.process_index if accelerator is not None else 0

    @classmethod
    def detect(cls, device: str) -> "Cluster":
        """One process, or an Accelerator over the launched processes (gloo on CPU, NCCL on
        GPUs). Precision stays the recipe's: the Accelerator adds no autocast of its own."""
        if world_size() <= 1:
            return cls()
        from accelerate import Accelerator

        return cls(Accelerator(cpu=device == "cpu", mixed_precision="no"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def prepare(self, model: Any, optimizer: Any) -> tuple[Any, Any]:
        """DDP-wrapped model and optimizer (the same objects for one process)."""
        if self.accelerator is None:
            return model, optimizer
        return self.accelerator.prepare(model, optimizer)

    def unwrap(self, model: Any) -> Any:
        return model if self.accelerator is None else self.accelerator.unwrap_model(model)

    def shard(self, group: list[np.ndarray]) -> list[np.ndarray]:
        """This process's batches of one optimiser step's ``group`` (every size-th one)."""
        return group[self.rank :: self.size]

    def no_sync(self, model: Any, skip: bool) -> ContextManager[Any]:
        """Skip DDP's gradient all-reduce for micro-batches before a step's last one."""
        if self.accelerator is None or not skip:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(model)

    def total(self, loss_sum: Any, seen: int) -> tuple[float, int]:
        """The running loss sum and row count over all processes (reading it is a sync)."""
        if self.accelerator is None:
            return float(loss_sum), seen
        import torch

        both = torch.stack([loss_sum.float(), torch.tensor(float(seen), device=loss_sum.device)])
        summed = self.accelerator.reduce(both, reduction="sum").tolist()
        return summed[0], int(round(summed[1]))

    def gather(self, value: Any) -> list[Any]:
        """``value`` from every process, in rank order (a one-item list for one process)."""
        if self.accelerator is None:
            return [value]
        from accelerate.utils import gather_object

        return gather_object([value])

    def predict(self, predict: Any, data: Any) -> Any:
        """``predict(data)`` over all rows: each process predicts every size-th row, then the
        parts are gathered back into input order (arrays, or per-row lists for ner)."""
        if self.accelerator is None:
            return predict(data)
        rows = np.arange(len(data))[self.rank :: self.size]
        parts = self.gather((rows, predict(subset(data, rows))))
        if any(isinstance(values, list) for _, values in parts):  # ner: one array per row
            out: Any = [None] * len(data)
            for rows, values in parts:
                for row, value in zip(rows, values if isinstance(values, list) else []):
                    out[row] = value
            return out
        width = next(values.shape[1] for _, values in parts if values.size)
        out = np.zeros((len(data), width), dtype=np.float32)
        for rows, values in parts:
            if len(rows):
                out[rows] = values
        return out

    def wait(self) -> None:
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()

    def close(self) -> None:
        """Wait for every process (process 0 may still be saving), then end the group."""
        if self.accelerator is None:
            return
        self.wait()
        self.accelerator.end_training()
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def subset(data: Any, rows: np.ndarray) -> Any:
    """The encoded ``rows`` of ``data`` as a new :class:`~thresher.train.batches.Encoded`."""
    from dataclasses import replace

    pick = lambda values: None if values is None else [values[i] for i in rows]  # noqa: E731
    labels = data.labels
    labels = labels[rows] if isinstance(labels, np.ndarray) else pick(labels)
    return replace(data, input_ids=pick(data.input_ids), lengths=data.lengths[rows],
                   labels=labels, token_type_ids=pick(data.token_type_ids),
                   word_starts=pick(data.word_starts))
