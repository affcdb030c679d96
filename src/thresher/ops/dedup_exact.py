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
        table = keys.reset_index(drop=True)
        codes = pd.Series(pd.factorize(table["key"])[0])  # group numbers: cheaper than hashes
        has_label = "label" in table
        # labels as small integers too; their names are only needed for conflicting groups
        label_codes, label_names = (pd.factorize(table["label"]) if has_label
                                    else (np.zeros(len(table), dtype=np.int64), [""]))
        label_names = [str(name) for name in label_names]
        labels = pd.Series(label_codes)
        pairs = pd.DataFrame({"g": codes, "l": labels}).drop_duplicates()
        n_labels = pairs.groupby("g").size()
        conflict = pd.Series(n_labels.to_numpy()[codes.to_numpy()] > 1)
        keep = self._keep_mask(pd.DataFrame({"label": labels}), codes, conflict)
        first_pos = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
        firsts = np.flatnonzero(~codes.duplicated().to_numpy())
        first_pos[codes.to_numpy()[firsts]] = firsts
        dropped = np.flatnonzero(~keep.to_numpy())
        # ids only of the rows a dropped row points at: the id column may be Arrow-backed,
        # and a NumPy copy of all of it would be one Python string per row
        pointed = np.unique(first_pos[codes.to_numpy()[dropped]])
        ids = dict(zip(pointed.tolist(), table["id"].take(pointed).astype(str).tolist()))
        # label sets only for conflicting groups: they are few, and strings cost memory
        conflicting = pairs[pairs["g"].isin(np.unique(codes.to_numpy()[conflict.to_numpy()]))]
        label_sets: dict[int, str] = {}
        named = pd.DataFrame({"g": conflicting["g"].to_numpy(),
                              "l": np.asarray(label_names, dtype=object)[conflicting["l"].to_numpy()]})
        for g, label in named.sort_values(["g", "l"]).itertuples(index=False):
            label_sets[g] = f"{label_sets[g]},{label}" if g in label_sets else str(label)
        rows = table["_row"].to_numpy()
        group_of, is_conflict = codes.to_numpy(), conflict.to_numpy()
        decision = Decision()
        decision.drop = {
            int(rows[i]): ("label_conflict", f"labels={label_sets[group_of[i]]}")
            if is_conflict[i] else ("duplicate", f"duplicate_of={ids[first_pos[group_of[i]]]}")
            for i in dropped
        }
        sizes = codes.value_counts()
        decision.info = {
            "duplicate_groups": int((sizes > 1).sum()),
            "conflict_groups": int((n_labels > 1).sum()),
            "conflicts": self.conflicts,
        }
        return decision

    def _keep_mask(self, table: pd.DataFrame, keys: pd.Series, conflict: pd.Series) -> pd.Series:
        first = ~keys.duplicated(keep="first")
        if self.conflicts == "keep_first":
            return first
        if self.conflicts == "drop_all":
            return first & ~conflict
        return (first & ~conflict) | (conflict & self._first_of_majority(table, keys))

    @staticmethod
    def _first_of_majority(table: pd.DataFrame, keys: pd.Series) -> pd.Series:
        """True on the first row of each group's strictly most frequent label."""
        counts = pd.DataFrame({"key": keys, "label": table["label"]}).value_counts()
        top = counts[counts == counts.groupby(level="key").transform("max")]
        n_top = top.groupby(level="key").size()
        winners = top.reset_index().drop_duplicates("key").set_index("key")["label"]
        winners = winners[n_top[winners.index] == 1]  # a tie has no winner: the group goes
        is_winner = table["label"] == keys.map(winners)
        return is_winner & ~(keys.where(is_winner).duplicated() & is_winner)
