"""A rich progress bar for training, drawn only when the caller asks for one."""

from __future__ import annotations

from typing import Any

__all__ = ["EpochProgress"]


class EpochProgress:
    """One bar per epoch showing steps and the running loss; a no-op when disabled."""

    def __init__(self, *, enabled: bool, epochs: int, steps: int) -> None:
        self.enabled = enabled
        self.epochs = epochs
        self.steps = steps
        self._progress: Any = None
        self._tasks: dict[int, Any] = {}

    def __enter__(self) -> "EpochProgress":
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
            )
            self._progress.start()
        return self

    def update(self, epoch: int, step: int, loss: float) -> None:
        if self._progress is None:
            return
        if epoch not in self._tasks:
            name = f"epoch {epoch}/{self.epochs}"
            self._tasks[epoch] = self._progress.add_task(name, total=self.steps, loss="-")
        self._progress.update(self._tasks[epoch], completed=step, loss=f"{loss:.4f}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
