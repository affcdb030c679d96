"""Fine-tuning: the TF-IDF baseline, transformer backbones, the training loop, saved classifiers.

Heavy libraries (torch, transformers, peft) are imported only when a function needs them, so
``import thresher.train`` stays fast.
"""

from __future__ import annotations

from thresher.train.baseline import BaselineClassifier
from thresher.train.classifier import Classifier
from thresher.train.config import TrainConfig
from thresher.train.load import load_classifier
from thresher.train.run import TrainResult, train_run

__all__ = [
    "BaselineClassifier",
    "Classifier",
    "TrainConfig",
    "TrainResult",
    "load_classifier",
    "train_run",
]
