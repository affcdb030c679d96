"""The operator registry: every recipe step name maps to one small class.

Each module below defines one or a few operators; every concrete subclass with a ``name``
is registered. Add a new module's name to ``_MODULES`` (one line).
"""

from __future__ import annotations

import importlib

from thresher.ops.base import COUNTS, Batch, Decision, Filter, GlobalOp, Mapper, Operator, Verdict
from thresher.ops.dedup_exact import DedupExact
from thresher.ops.length import FilterLength
from thresher.ops.normalize import Normalize

__all__ = [
    "COUNTS",
    "OPERATORS",
    "Batch",
    "Decision",
    "DedupExact",
    "Filter",
    "FilterLength",
    "GlobalOp",
    "Mapper",
    "Normalize",
    "Operator",
    "Verdict",
]

_MODULES = (
    "thresher.ops.normalize",
    "thresher.ops.length",
    "thresher.ops.dedup_exact",
)


def _registry() -> dict[str, type[Operator]]:
    for module in _MODULES:
        importlib.import_module(module)
    found: dict[str, type[Operator]] = {}
    stack = list(Operator.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.name:
            if cls.name in found and found[cls.name] is not cls:
                raise RuntimeError(f"two operators are named {cls.name!r}")
            found[cls.name] = cls
    return dict(sorted(found.items()))


OPERATORS: dict[str, type[Operator]] = _registry()
