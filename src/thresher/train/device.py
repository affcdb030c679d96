"""Pick the device and the precision, and seed every random number generator.

bf16 autocast halves the work of a matmul only where the hardware has bf16 instructions
(AVX512-BF16 / AMX on x86, BF16 on Arm, Ampere+ GPUs). Elsewhere PyTorch emulates it, which
on an AVX2-only CPU is ~30x *slower* than fp32, so "auto" asks the hardware, not just PyTorch.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
from functools import lru_cache
from typing import Any, ContextManager

import numpy as np

from thresher.errors import ModelError

__all__ = ["autocast", "cpu_has_native_bf16", "resolve_device", "resolve_precision", "seed_all"]


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (all devices) so the same seed gives the same run."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(device: str) -> str:
    """``"auto"`` becomes cuda when available; asking for cuda without one is a ModelError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            "device 'cuda' was asked for but PyTorch sees no CUDA GPU",
            where="train.device",
            fix="Use device: cpu (or auto), or install a CUDA build of torch",
        )
    return device


def resolve_precision(precision: str, device: str) -> str:
    """``"auto"`` becomes ``"bf16"`` where bf16 runs natively on ``device``, else ``"fp32"``.

    An explicit ``"bf16"`` is kept (even where it is emulated and slow) unless this PyTorch
    build cannot autocast to bf16 at all; then it falls back to ``"fp32"``.
    """
    if precision == "fp32":
        return precision
    if precision == "bf16":
        return "bf16" if device == "cuda" or _bf16_autocast_works() else "fp32"
    if device == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() and _bf16_autocast_works() else "fp32"


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when this CPU has bf16 matmul instructions (read from /proc/cpuinfo on Linux)."""
    override = os.environ.get("THRESHER_CPU_BF16")
    if override in ("0", "1"):
        return override == "1"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            words = set(f.read(200_000).split())
    except OSError:
        return False  # unknown hardware: fp32 is never the slow choice
    if platform.machine().lower() in ("aarch64", "arm64"):
        return "bf16" in words
    return bool(words & {"avx512_bf16", "amx_bf16"})


@lru_cache(maxsize=1)
def _bf16_autocast_works() -> bool:
    import torch

    try:
        x = torch.ones(8, 8)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = x @ x
        return y.dtype == torch.bfloat16 and bool(torch.isfinite(y).all())
    except (RuntimeError, TypeError):
        return False


def autocast(device: str, precision: str) -> ContextManager[Any]:
    """The autocast context for one forward pass (a no-op in fp32)."""
    if precision != "bf16":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device, dtype=torch.bfloat16)
