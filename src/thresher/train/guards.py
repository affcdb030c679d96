"""Training failures a user can fix, turned into one clear error each.

* A loss or gradient that became NaN or infinite: the loop notices at its sync points (every
  ``LOG_EVERY`` steps and at epoch ends; it never adds a sync per step) and stops, naming the
  first bad optimiser step and what usually cures it.
* Out of memory (CUDA, or the CPU allocator): one message naming the model and the sizes that
  decide memory, and what to change, instead of a 40-line traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from thresher.errors import ModelError

__all__ = ["TrainingDiverged", "is_out_of_memory", "out_of_memory_hint"]

_OOM_WORDS = ("out of memory", "not enough memory", "can't allocate memory",
              "cannot allocate memory")


class TrainingDiverged(ModelError):
    """The training loss (or its gradients) stopped being a finite number."""

    def __init__(self, what: str, *, step: int, epoch: int, learning_rate: float,
                 precision: str) -> None:
        lower = f"{learning_rate / 10:g}"
        fix = f"Lower train.learning_rate (now {learning_rate:g}; try {lower})"
        if precision in ("bf16", "fp16"):
            fix += f", or train in full precision with precision: fp32 (now {precision})"
        super().__init__(f"{what} at optimiser step {step} (epoch {epoch}); training stopped",
                         where="train.learning_rate", fix=fix)
        self.step = step


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch.cuda.OutOfMemoryError, Python's MemoryError and the allocators'
    RuntimeErrors ("CUDA out of memory", "DefaultCPUAllocator: not enough memory")."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and any(w in str(exc).lower() for w in _OOM_WORDS)


@contextmanager
def out_of_memory_hint(model: str, config: Any, device: str, *, lora: bool) -> Iterator[None]:
    """Re-raise an out-of-memory error inside the block as a :class:`ModelError` that says
    what to change."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - only memory errors are translated
        if not is_out_of_memory(exc):
            raise
        _release(device)
        raise ModelError(
            f"out of memory on {device} training {model} with batch_size {config.batch_size}, "
            f"grad_accum {config.grad_accum}, max_length {config.max_length} (evaluation: "
            f"eval_batch_size {config.eval_batch_size})",
            where="train",
            fix=_memory_fix(config, lora),
        ) from None


def _memory_fix(config: Any, lora: bool) -> str:
    options = []
    if config.batch_size > 1:
        half, accum = max(1, config.batch_size // 2), config.grad_accum * 2
        options.append(f"batch_size: {half} with grad_accum: {accum} (the same "
                       f"{half * accum} rows per optimiser step)")
    if config.max_length > 16:
        options.append(f"a shorter max_length (e.g. {config.max_length // 2})")
    if config.eval_batch_size > 1:
        options.append(f"eval_batch_size: {max(1, config.eval_batch_size // 2)}")
    if not lora:
        options.append("lora: true (trains small adapters; far less optimiser memory)")
    options.append("a smaller backbone")
    return "Try " + ", ".join(options[:-1]) + " or " + options[-1]


def _release(device: str) -> None:
    """Give cached GPU blocks back, so that the process can go on (or report) after the error."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
