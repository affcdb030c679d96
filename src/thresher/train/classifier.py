"""What every trained text classifier offers to evaluation, prediction and reports.

Both the TF-IDF baseline and fine-tuned transformers satisfy :class:`Classifier`, so
``evaluate`` and ``predict`` never care which one they hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["Classifier"]


@runtime_checkable
class Classifier(Protocol):
    """A trained classifier over a fixed, ordered label set."""

    labels: list[str]  # index i of a probability row is labels[i]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities, shape (len(texts), len(labels)), rows summing to 1 (multilabel: an
        independent probability per label). Sentence-pair models take (text, pair) tuples."""
        ...

    def save(self, folder: Path) -> None:
        """Write everything needed to load the classifier again into ``folder``."""
        ...
