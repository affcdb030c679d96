"""Near-duplicate removal: MinHash signatures, LSH buckets, verified pairs, connected components.

Exact dedup misses copies that differ by a typo, a changed word or punctuation; those still
inflate the training set and leak between splits. Each row gets a MinHash signature of its
shingles (character n-grams for mostly-CJK text, which has no spaces to split words on; word
n-grams otherwise). Rows that agree on a whole LSH band become candidate pairs; a candidate is
kept when its estimated Jaccard similarity (from a 4-bit sketch of the signature) reaches the
threshold, which removes most of the LSH false positives at 64 bytes per row. Connected
components of the kept pairs are clusters; the first row of a cluster stays. Components chain
(A~B and B~C group A with C): that keeps every edited copy of a text with it, at the price of
some false positives on templated text (measured in bench/near_dup.py on TREC questions).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from thresher.ops.base import Batch, Decision, GlobalOp
from thresher.ops.minhash import (
    DEFAULT_NGRAM,
    MinHasher,
    TokenMode,
    band_hashes,
    candidate_pairs,
    optimal_bands,
    sketch,
    sketch_similarity,
)

__all__ = ["DedupNear", "cluster_rows"]

PREVIEW_CHARS = 200  # text kept per row for the report's example pairs
EXAMPLES = 5
# (false positive, false negative) weights for the bands when candidates are verified:
# at threshold 0.7 and 128 permutations, 20 bands x 6 rows make 92% of the pairs at
# similarity 0.7 candidates (datasketch's 14 x 9: 44%); on bench/near_dup.py (1000 originals)
# that raised mean F1 from 0.649 to 0.680 and fidelity to exact Jaccard from 0.912 to 0.929.
VERIFIED_WEIGHTS = (0.1, 0.9)


def cluster_rows(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """For each of n rows, the lowest row of its connected component under the pairs (i, j)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    _, first = np.unique(labels, return_index=True)  # labels are 0..k-1, so first[label]
    return first[labels]


class DedupNear(GlobalOp):
    """Drop rows whose text is nearly the same as an earlier row's (MinHash + LSH).

    ``threshold`` is the Jaccard similarity of shingle sets above which two rows are
    duplicates; ``bands`` x ``rows`` (None: chosen from the threshold like datasketch, but
    favouring recall when ``verify``) must fit in ``num_perm``. ``tokens`` picks character
    or word shingles (``auto``: per text), ``ngram`` their length (None: 2 characters or 2
    words). ``verify`` keeps only candidate pairs whose estimated similarity reaches the
    threshold.
    """

    name = "dedup_near"

    def __init__(self, *, threshold: float = 0.7, num_perm: int = 128, bands: int | None = None,
                 rows: int | None = None, tokens: TokenMode = "auto", ngram: int | None = None,
                 seed: int = 1, verify: bool = True) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = bands
        self.rows = rows
        self.tokens = tokens
        self.ngram = ngram
        self.seed = seed
        self.verify = verify

    def check(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if not 1 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be between 1 and 1024, got {self.num_perm}")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither (then they follow the threshold)")
        if self.bands is not None and self.rows is not None:
            if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
                raise ValueError(f"bands x rows must be between 1 and num_perm={self.num_perm}, "
                                 f"got {self.bands} x {self.rows}")
        if self.ngram is not None and self.ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {self.ngram}")

    def resolved(self) -> dict[str, Any]:
        """The settings actually used, with bands, rows and n-gram lengths filled in."""
        bands, rows = self.bands, self.rows
        if bands is None or rows is None:
            # verification drops the false positives, so then the bands favour recall
            weights = VERIFIED_WEIGHTS if self.verify else (0.5, 0.5)
            bands, rows = optimal_bands(float(self.threshold), self.num_perm, *weights)
        ngram = {mode: self.ngram or n for mode, n in DEFAULT_NGRAM.items()}
        return {"threshold": self.threshold, "num_perm": self.num_perm, "bands": bands,
                "rows": rows, "tokens": self.tokens, "ngram": ngram, "verify": self.verify,
                "seed": self.seed}

    def _hasher(self) -> MinHasher:
        cached = getattr(self, "_cached_hasher", None)
        if cached is None or (cached.num_perm, cached.seed) != (self.num_perm, self.seed):
            cached = self._cached_hasher = MinHasher(self.num_perm, self.seed)
        return cached

    def signature_batch(self, batch: Batch) -> Batch:
        texts = [t if isinstance(t, str) else "" for t in batch["text"]]
        sig, has = self._hasher().signatures(texts, self.tokens, self.ngram)
        settings = self.resolved()
        bands = band_hashes(sig, has, settings["bands"], settings["rows"])
        out: Batch = {f"band_{k}": bands[:, k] for k in range(bands.shape[1])}
        sketches = sketch(sig)
        out.update({f"sketch_{k}": sketches[:, k] for k in range(sketches.shape[1])})
        out["preview"] = [t[:PREVIEW_CHARS] for t in texts]
        return out

    def decide(self, keys: pd.DataFrame) -> Decision:
        settings = self.resolved()
        if keys.empty:
            return Decision(columns={"cluster": []},
                            info=self._info(keys, np.zeros(0, dtype=np.int64),
                                            np.zeros(0, dtype=np.int64), settings))
        keys = keys.sort_values("_row").reset_index(drop=True)
        return self.finish(keys, *self.candidates(keys))

    def band_columns(self) -> list[str]:
        """The signature columns whose equal values make candidate pairs (one per LSH band)."""
        return [f"band_{k}" for k in range(self.resolved()["bands"])]

    def candidates(self, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Row-number pairs (i < j, numbers = positions in ``keys``) sharing an LSH band.

        The Ray engine computes the same pairs as a distributed group-by on the band columns
        and calls :meth:`finish` directly, so the bands never gather on the driver.
        """
        return candidate_pairs(keys[self.band_columns()].to_numpy(np.uint64))

    def finish(self, keys: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> Decision:
        """The decision from candidate pairs: verify them, cluster, drop all but the first.

        ``keys`` in ``_row`` order; ``i``/``j`` index its rows.
        """
        settings = self.resolved()
        if self.verify and len(i):
            sk = keys[[c for c in keys if c.startswith("sketch_")]].to_numpy(np.uint64)
            close = sketch_similarity(sk[i], sk[j], self.num_perm) >= self.threshold
            i, j = i[close], j[close]
        rep = cluster_rows(len(keys), i, j)
        ids = keys["id"].astype(str).to_numpy()
        positions = keys["_row"].to_numpy()
        dropped = np.flatnonzero(rep != np.arange(len(keys)))
        decision = Decision(
            drop={int(positions[k]): ("near_duplicate", f"duplicate_of={ids[rep[k]]}")
                  for k in dropped},
            columns={"cluster": ids[rep].tolist()},
        )
        decision.info = self._info(keys, rep, dropped, settings)
        return decision

    @staticmethod
    def _info(keys: pd.DataFrame, rep: np.ndarray, dropped: np.ndarray,
              settings: dict[str, Any]) -> dict[str, Any]:
        sizes = np.bincount(rep, minlength=len(rep))
        multi = sizes[sizes > 1]
        conflicts = 0
        if "label" in keys and len(dropped):
            in_cluster = sizes[rep] > 1
            labels = keys["label"].astype(str)[in_cluster]
            conflicts = int((labels.groupby(rep[in_cluster]).nunique() > 1).sum())
        preview = keys["preview"].to_numpy() if "preview" in keys else None
        examples = [] if preview is None else [
            [str(preview[rep[k]]), str(preview[k])] for k in dropped[:EXAMPLES]]
        return {"clusters": int(len(multi)), "rows_in_clusters": int(multi.sum()),
                "largest": sorted(map(int, multi), reverse=True)[:5],
                "label_conflict_clusters": conflicts, "examples": examples,
                "settings": settings}
