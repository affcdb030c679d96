"""thresher: from raw text data to a fine-tuned, evaluated model, with lineage for every row.

The public API is everything in ``__all__``. Stages that pull in heavy libraries (training,
evaluation, the report) are imported on first use, so ``import thresher`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from thresher._version import __version__
from thresher.ablate import AblationResult, ablate
from thresher.errors import (
    DataError,
    InputError,
    ModelError,
    OutputError,
    RecipeError,
    ThresherError,
)
from thresher.inspect import InspectReport, inspect
from thresher.io import ReadResult, SourceInfo, read_source
from thresher.pipeline import RunResult, run
from thresher.predict import predict
from thresher.recipe import Recipe, load_recipe, parse_recipe


_LAZY = {
    "Classifier": "thresher.train",
    "TrainConfig": "thresher.train",
    "TrainResult": "thresher.train",
    "build_report": "thresher.report",
    "demo_recipe": "thresher.demo",
    "evaluate_run": "thresher.evaluate",
    "export_onnx": "thresher.export",
    "load_classifier": "thresher.train",
    "train_run": "thresher.train",
}

__all__ = [
    "AblationResult",
    "Classifier",
    "DataError",
    "InputError",
    "InspectReport",
    "ModelError",
    "OutputError",
    "ReadResult",
    "Recipe",
    "RecipeError",
    "RunResult",
    "SourceInfo",
    "ThresherError",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "ablate",
    "build_report",
    "demo_recipe",
    "evaluate_run",
    "export_onnx",
    "inspect",
    "load_classifier",
    "load_recipe",
    "parse_recipe",
    "predict",
    "read_source",
    "run",
    "train_run",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'thresher' has no attribute {name!r}")
