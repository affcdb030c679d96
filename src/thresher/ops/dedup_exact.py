"""Exact deduplication on a normalised key, with label conflicts reported and resolved."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Literal

import pandas as pd

from thresher.ops.base import Batch, Decision, GlobalOp

__all__ = ["DedupExact", "dedup_key"]

_SPACES = re.compile(r"\s+")
ConflictPolicy = Literal["drop_all", "majority", "keep_first"]


def dedup_key(text: str) -> str:
    """Texts equal up to case, Unicode compatibility forms and whitespace share a key."""
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()


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
        return {"key": [dedup_key(t) for t in batch["text"]]}

    def decide(self, keys: pd.DataFrame) -> Decision:
        table = keys.reset_index(drop=True)
        key = table["key"]
        has_label = "label" in table
        labels_of = table["label"] if has_label else pd.Series([""] * len(table))
        conflict = labels_of.groupby(key).transform("nunique") > 1
        keep = self._keep_mask(table.assign(label=labels_of), key, conflict)
        first_id = table.groupby(key)["id"].transform("first")
        label_sets = labels_of.groupby(key).agg(lambda s: ",".join(sorted(set(map(str, s)))))
        decision = Decision()
        for i in table.index[~keep]:
            row = int(table["_row"].iat[i])
            if conflict.iat[i]:
                decision.drop[row] = ("label_conflict", f"labels={label_sets[key.iat[i]]}")
            else:
                decision.drop[row] = ("duplicate", f"duplicate_of={first_id.iat[i]}")
        decision.info = {
            "duplicate_groups": int(key[key.duplicated(keep=False)].nunique()),
            "conflict_groups": int(key[conflict].nunique()),
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
