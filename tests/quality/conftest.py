"""Shared data for the quality tests: small labelled sets with known properties."""

from __future__ import annotations

import random
from typing import Callable

import pandas as pd
import pytest

GOOD = ["great", "lovely", "superb", "friendly", "clean", "excellent", "wonderful", "helpful"]
BAD = ["awful", "dirty", "rude", "terrible", "noisy", "broken", "horrible", "smelly"]
FILLER = ["the", "room", "staff", "hotel", "was", "and", "very", "really", "breakfast", "view"]


def reviews(n: int = 240, flips: int = 12, seed: int = 3) -> tuple[pd.DataFrame, set[str]]:
    """Separable reviews (sentiment words decide the label) with ``flips`` labels flipped."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(GOOD if label == "pos" else BAD, 3) + rng.sample(FILLER, 4)
        rng.shuffle(words)
        rows.append({"id": f"r{i}", "text": " ".join(words), "label": label})
    frame = pd.DataFrame(rows)
    flipped = rng.sample(range(n), flips)
    frame.loc[flipped, "label"] = frame.loc[flipped, "label"].map({"pos": "neg", "neg": "pos"})
    return frame, {f"r{i}" for i in flipped}


@pytest.fixture
def make_reviews() -> Callable[..., tuple[pd.DataFrame, set[str]]]:
    return reviews
