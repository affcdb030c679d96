"""Exact deduplication on a normalised key, with label conflicts reported and resolved."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Literal

import numpy as np
import pandas as pd

from thresher.ops.base import Batch, Decision, GlobalOp

__all__ = ["DedupExact", "dedup_hash", "dedup_key"]

_SPACES = re.compile(r"\s+")
ConflictPolicy = Literal["drop_all", "majority", "keep_first"]


def _folded(text: str) -> bytes:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold().encode("utf-8")


def dedup_key(text: str) -> str:
    """Texts equal up to case, Unicode compatibility forms and whitespace share a key."""
    return hashlib.blake2b(_folded(text), digest_size=12).hexdigest()


def dedup_hash(text: str) -> int:
    """``dedup_key`` as a signed 64-bit integer: 8 bytes a row on the driver instead of a
    ~75-byte string. Two different texts share it with probability 2**-64: among a billion
    distinct rows, about 3% odds that one pair does (one row wrongly called a duplicate)."""
    return int.from_bytes(hashlib.blake2b(_folded(text), digest_size=8).digest(), "little",
                          signed=True)


class DedupExact(GlobalOp):
    """Keep the first row of each group of equal texts.

    When one text appears under different labels, the training signal contradicts itself;
    ``conflicts`` says what to do: ``drop_all`` (default) drops the whole group, ``majority``
    keeps the first row of the most frequent label (a tie drops the group), ``keep_first``
    keeps the first row whatever its label.
    """

    name = "dedup_exact"

    def __init__(self, *, conflicts: ConflictPolicy = "drop_all") -> None:
        self.conflicts = conflicts

    def signature_batch(self, batch: Batch) -> Batch:
        return {"key": np.fromiter(map(dedup_hash, batch["text"]), dtype=np.int64,
                                   count=len(batch["text"]))}

    def decide(self, keys: pd.DataFrame) -> Decision:
        # Everything as integer arrays (about 50 bytes a row at the peak, for millions of rows
        # on the driver): group numbers in order of first appearance, label codes, and one
        # int64 per (group, label) pair.
        table = keys.reset_index(drop=True)
        codes = pd.factorize(table["key"])[0].astype(np.int64)
        if "label" in table:
            labels, names = pd.factorize(table["label"], use_na_sentinel=False)
            labels = labels.astype(np.int64)
        else:
            labels, names = np.zeros(len(table), dtype=np.int64), [""]
        label_names = ["<missing>" if pd.isna(name) else str(name) for name in names]
        groups, n_names = int(codes.max()) + 1 if len(codes) else 0, max(len(label_names), 1)
        # factorize numbers groups as they first appear: a row opens its group when its number
        # exceeds every number before it
        seen_before = np.maximum.accumulate(np.r_[np.int64(-1), codes[:-1]])
        is_first = codes > seen_before
        first_pos = np.flatnonzero(is_first)  # group g's first row is first_pos[g]
        pair, pair_first, pair_count = np.unique(codes * n_names + labels, return_index=True,
                                                 return_counts=True)
        pair_group = pair // n_names
        n_labels = np.bincount(pair_group, minlength=groups)
        conflict = n_labels[codes] > 1
        keep = is_first if self.conflicts == "keep_first" else is_first & ~conflict
        if self.conflicts == "majority":
            keep |= self._first_of_majority(len(codes), pair_group, pair_first, pair_count,
                                            n_labels)
        dropped = np.flatnonzero(~keep)
        # ids only of the rows a dropped row points at: the id column may be Arrow-backed,
        # and a NumPy copy of all of it would be one Python string per row
        pointed = np.unique(first_pos[codes[dropped]])
        ids = dict(zip(pointed.tolist(), table["id"].take(pointed).astype(str).tolist()))
        # label sets only for conflicting groups: they are few, and strings cost memory
        label_sets: dict[int, str] = {}
        in_conflict = n_labels[pair_group] > 1
        for g, label in sorted(zip(pair_group[in_conflict].tolist(),
                                   (label_names[k] for k in (pair % n_names)[in_conflict]))):
            label_sets[g] = f"{label_sets[g]},{label}" if g in label_sets else label
        rows = table["_row"].to_numpy()
        decision = Decision()
        decision.drop = {
            int(rows[i]): ("label_conflict", f"labels={label_sets[codes[i]]}")
            if conflict[i] else ("duplicate", f"duplicate_of={ids[first_pos[codes[i]]]}")
            for i in dropped.tolist()
        }
        decision.info = {
            "duplicate_groups": int((np.bincount(codes, minlength=groups) > 1).sum()),
            "conflict_groups": int((n_labels > 1).sum()),
            "conflicts": self.conflicts,
        }
        return decision

    @staticmethod
    def _first_of_majority(n: int, pair_group: np.ndarray, pair_first: np.ndarray,
                           pair_count: np.ndarray, n_labels: np.ndarray) -> np.ndarray:
        """True on the first row of each conflicting group's strictly most frequent label
        (a tie has no winner: the whole group goes). Pairs are sorted by group."""
        starts = np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
        top = np.maximum.reduceat(pair_count, starts)  # every group has a pair: one per group
        at_top = pair_count == top[pair_group]
        ties = np.bincount(pair_group[at_top], minlength=len(n_labels))
        winner = at_top & (ties[pair_group] == 1) & (n_labels[pair_group] > 1)
        keep = np.zeros(n, dtype=bool)
        keep[pair_first[winner]] = True
        return keep
