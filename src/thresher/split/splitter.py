"""Random and stratified splits that never put an unknown label into validation or test.

A stratified split cuts each label's rows separately (deterministic for a seed), so small
classes keep their share in every split. A label with too few rows to appear in training
stays entirely in training rather than teaching evaluation a class the model never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from thresher.records import Reject

__all__ = ["SPLITS", "SplitResult", "split_table"]

SPLITS = ("train", "validation", "test")


@dataclass
class SplitResult:
    parts: dict[str, pd.DataFrame]
    rejects: list[Reject] = field(default_factory=list)
    info: dict[str, object] = field(default_factory=dict)


def split_table(
    table: pd.DataFrame,
    *,
    validation: float,
    test: float,
    seed: int,
    stratify: bool = True,
    task: str = "classification",
) -> SplitResult:
    """Assign every row of ``table`` to exactly one split, or to rejects with a reason."""
    rng = np.random.default_rng(seed)
    table = table.reset_index(drop=True)
    if stratify and task == "classification":
        groups = [idx for _, idx in sorted(table.groupby("label").indices.items())]
    else:
        groups = [np.arange(len(table))]
    assignment = np.empty(len(table), dtype=object)
    for idx in groups:
        _assign(assignment, rng.permutation(idx), validation, test)
    parts = {name: table[assignment == name].reset_index(drop=True) for name in SPLITS}
    result = SplitResult(parts)
    if task == "classification":
        _reject_unseen_labels(result)
    result.info = {name: len(part) for name, part in result.parts.items()}
    return result


def _assign(assignment: np.ndarray, idx: np.ndarray, validation: float, test: float) -> None:
    """Cut one shuffled group; round half up, but always keep at least one training row."""
    n = len(idx)
    n_test = int(np.floor(n * test + 0.5))
    n_val = int(np.floor(n * validation + 0.5))
    while n_test + n_val > n - 1 and (n_test or n_val):
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    assignment[idx[:n_test]] = "test"
    assignment[idx[n_test:n_test + n_val]] = "validation"
    assignment[idx[n_test + n_val:]] = "train"


def _reject_unseen_labels(result: SplitResult) -> None:
    """A random split can leave a label out of training; such rows cannot be evaluated."""
    known = set(result.parts["train"]["label"])
    for name in ("validation", "test"):
        part = result.parts[name]
        unseen = ~part["label"].isin(known)
        for row in part[unseen].to_dict("records"):
            result.rejects.append(Reject.of(row, "split", "label_not_in_train",
                                            f"label {row['label']!r} has no training row"))
        result.parts[name] = part[~unseen].reset_index(drop=True)
