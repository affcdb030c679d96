"""The operator registry: every recipe step name maps to one small class."""

from __future__ import annotations

from thresher.ops.base import Filter, GlobalOp, GlobalResult, Mapper, Operator
from thresher.ops.dedup_exact import DedupExact
from thresher.ops.length import FilterLength
from thresher.ops.normalize import Normalize

__all__ = [
    "OPERATORS",
    "DedupExact",
    "Filter",
    "FilterLength",
    "GlobalOp",
    "GlobalResult",
    "Mapper",
    "Normalize",
    "Operator",
]

OPERATORS: dict[str, type[Operator]] = {
    cls.name: cls for cls in (Normalize, FilterLength, DedupExact)
}
