"""The operator registry: every recipe step name maps to one small class.

Each module below defines one or a few operators; every concrete subclass with a ``name``
is registered. Add a new module's name to ``_MODULES`` (one line).
"""

from __future__ import annotations

import importlib

from thresher.ops.base import COUNTS, Batch, Decision, Filter, GlobalOp, Mapper, Operator, Verdict
from thresher.ops.chinese import ToSimplified
from thresher.ops.dedup_exact import DedupExact
from thresher.ops.dedup_near import DedupNear
from thresher.ops.html import StripHtml
from thresher.ops.labels import FilterLabels, MapLabels
from thresher.ops.language import FilterLanguage
from thresher.ops.length import FilterLength
from thresher.ops.normalize import Normalize
from thresher.ops.pii import DropPii, Pii
from thresher.ops.ratios import FilterRatios
from thresher.ops.regex import FilterRegex
from thresher.ops.repetition import FilterRepetition
from thresher.ops.review import ApplyReview
from thresher.ops.stopwords import FilterStopwords
from thresher.ops.web_tokens import WebTokens

__all__ = [
    "COUNTS",
    "OPERATORS",
    "ApplyReview",
    "Batch",
    "Decision",
    "DedupExact",
    "DedupNear",
    "DropPii",
    "Filter",
    "FilterLabels",
    "FilterLanguage",
    "FilterLength",
    "FilterRatios",
    "FilterRegex",
    "FilterRepetition",
    "FilterStopwords",
    "GlobalOp",
    "MapLabels",
    "Mapper",
    "Normalize",
    "Operator",
    "Pii",
    "StripHtml",
    "ToSimplified",
    "Verdict",
    "WebTokens",
]

_MODULES = (
    "thresher.ops.normalize",
    "thresher.ops.length",
    "thresher.ops.html",
    "thresher.ops.chinese",
    "thresher.ops.web_tokens",
    "thresher.ops.language",
    "thresher.ops.ratios",
    "thresher.ops.repetition",
    "thresher.ops.stopwords",
    "thresher.ops.regex",
    "thresher.ops.labels",
    "thresher.ops.dedup_exact",
    "thresher.ops.dedup_near",
    "thresher.ops.pii",
    "thresher.ops.review",
    "thresher.ops.sft",
    "thresher.ops.sft_dedup",
    "thresher.ops.decontaminate",
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
