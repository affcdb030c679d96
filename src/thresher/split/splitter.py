"""Random, stratified and group-aware splits that never put an unknown label into evaluation.

A stratified split cuts each label's rows separately (deterministic for a seed), so small
classes keep their share in every split. A label with too few rows to appear in training
stays entirely in training rather than teaching evaluation a class the model never saw.

A grouped split keeps every row of a group (a near-duplicate cluster, an augmented row and its
parent) in one split, so a model is never tested on a paraphrase of a training row. Whole
groups are assigned, largest first, each to the split furthest below its target; stratified,
this runs per majority label, so label shares stay close to the target.

A multilabel row's stratum is its label set as written ("sports,politics"); sets with too few
rows to reach every split are pooled into one stratum that is split at random, so a long tail
of rare combinations does not all end up in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from thresher.errors import DataError
from thresher.records import Reject

__all__ = ["AUTO_GROUP_COLUMN", "SPLITS", "SplitResult", "split_table"]

SPLITS = ("train", "validation", "test")
# group_by="auto" groups by this column when the table has it (near-duplicate clusters)
AUTO_GROUP_COLUMN = "cluster"


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
    group_by: str | None = None,
) -> SplitResult:
    """Assign every row of ``table`` to exactly one split, or to rejects with a reason.

    ``group_by`` names a column: rows with the same value share a split (a missing value is a
    group of its own). ``"auto"`` means the ``cluster`` column when the table has one, else none.
    """
    rng = np.random.default_rng(seed)
    table = table.reset_index(drop=True)
    column = _group_column(table, group_by)
    stratified = stratify and task in ("classification", "multilabel")
    strata, pooled = _strata(table, task, validation, test) if stratified else (None, 0)
    assignment = np.empty(len(table), dtype=object)
    if column is None:
        groups = ([idx for _, idx in sorted(pd.Series(strata).groupby(strata).indices.items())]
                  if strata is not None else [np.arange(len(table))])
        for idx in groups:
            _assign(assignment, rng.permutation(idx), validation, test)
    else:
        codes = _group_codes(table[column])
        labels = strata if strata is not None else np.zeros(len(table), dtype=int)
        _assign_groups(assignment, codes, labels, rng, validation, test)
    parts = {name: table[assignment == name].reset_index(drop=True) for name in SPLITS}
    result = SplitResult(parts)
    if task == "classification":
        _reject_unseen_labels(result)
    result.info = {name: len(part) for name, part in result.parts.items()}
    if task == "multilabel" and stratified:
        result.info["stratified_by"] = "label set"
        result.info["pooled_rare_label_sets"] = pooled
    if column is not None:  # groups as assigned, before any label_not_in_train reject
        result.info["group_by"] = column
        result.info["groups"] = {name: len(np.unique(codes[assignment == name])) for name in SPLITS}
    return result


def _strata(table: pd.DataFrame, task: str, validation: float, test: float
            ) -> tuple[np.ndarray, int]:
    """Each row's stratum (its label, or its label set) and how many rare label sets were pooled."""
    labels = table["label"].astype(str).to_numpy(dtype=object)
    if task != "multilabel":
        return labels, 0
    smallest = min([f for f in (validation, test) if f > 0], default=1.0)
    counts = pd.Series(labels).value_counts()
    rare = counts.index[counts < int(np.ceil(1 / smallest))]
    pooled = np.where(pd.Series(labels).isin(rare), "\x00rare label sets", labels)
    return pooled.astype(object), len(rare)


def _group_column(table: pd.DataFrame, group_by: str | None) -> str | None:
    if group_by is None:
        return None
    if group_by == "auto":
        return AUTO_GROUP_COLUMN if AUTO_GROUP_COLUMN in table.columns else None
    if group_by not in table.columns:
        raise DataError(f"group_by column {group_by!r} is not in the table", where="split.group_by",
                        fix=f"use one of the columns {', '.join(map(str, table.columns))}, "
                            f"or 'auto' to group by {AUTO_GROUP_COLUMN!r} when present")
    return group_by


def _group_codes(values: pd.Series) -> np.ndarray:
    """One integer per row naming its group; each row with a missing value is its own group."""
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(missing.sum())
    return codes


def _targets(n: int, validation: float, test: float) -> tuple[int, int]:
    """Rows for validation and test: round half up, but always keep at least one training row."""
    n_test = int(np.floor(n * test + 0.5))
    n_val = int(np.floor(n * validation + 0.5))
    while n_test + n_val > n - 1 and (n_test or n_val):
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n_val, n_test


def _assign(assignment: np.ndarray, idx: np.ndarray, validation: float, test: float) -> None:
    """Cut one shuffled stratum of rows at the target sizes."""
    n_val, n_test = _targets(len(idx), validation, test)
    assignment[idx[:n_test]] = "test"
    assignment[idx[n_test:n_test + n_val]] = "validation"
    assignment[idx[n_test + n_val:]] = "train"


def _assign_groups(assignment: np.ndarray, codes: np.ndarray, labels: np.ndarray,
                   rng: np.random.Generator, validation: float, test: float) -> None:
    """Give whole groups to splits, per majority label, largest group first."""
    sizes = np.bincount(codes)
    majority = _majority_labels(codes, labels)
    split_of = np.empty(len(sizes), dtype=object)
    for label in sorted(set(majority)):
        members = np.flatnonzero(majority == label)
        # shuffle, then a stable sort by size: equal-sized groups come in seeded random order
        order = sorted(rng.permutation(members), key=lambda g: -sizes[g])
        total = int(sizes[members].sum())
        n_val, n_test = _targets(total, validation, test)
        target = {"train": total - n_val - n_test, "validation": n_val, "test": n_test}
        filled = dict.fromkeys(SPLITS, 0)
        open_splits = [name for name in SPLITS if target[name] > 0]
        for g in order:  # max() keeps the first of equals: train, then validation, then test
            name = max(open_splits, key=lambda s: target[s] - filled[s])
            filled[name] += int(sizes[g])
            split_of[g] = name
    assignment[:] = split_of[codes]


def _majority_labels(codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each group's most frequent label; a tie goes to the label that sorts first."""
    pairs = pd.DataFrame({"group": codes, "label": labels})
    counts = pairs.groupby(["group", "label"], dropna=False).size().reset_index(name="n")
    counts = counts.sort_values(["group", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("group").sort_values("group")["label"].to_numpy()


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
