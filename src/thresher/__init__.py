"""thresher: from raw text data to a fine-tuned, evaluated model, with lineage for every row."""

from __future__ import annotations

from thresher.errors import (
    DataError,
    InputError,
    ModelError,
    OutputError,
    RecipeError,
    ThresherError,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "InputError",
    "ModelError",
    "OutputError",
    "RecipeError",
    "ThresherError",
    "__version__",
]
