"""Leakage between splits, and contamination of the data by an external evaluation set.

A test row that also sits in training (verbatim, or with a typo fixed) makes evaluation
optimistic; so does training on the benchmark one later evaluates on. This check finds exact
pairs (same normalised text, the key of ``dedup_exact``) and near pairs (MinHash LSH
candidates, then exact Jaccard similarity of their shingle sets, so every reported number is
a measured one) between different splits and between any split and an external set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thresher.errors import DataError
from thresher.ops.dedup_exact import dedup_key
from thresher.ops.minhash import (
    DEFAULT_NGRAM,
    MinHasher,
    TokenMode,
    band_hashes,
    jaccard,
    optimal_bands,
    shingle_set,
)

__all__ = ["EXTERNAL", "LeakageReport", "check_leakage"]

EXTERNAL = "external"
SPLIT_ORDER = ("train", "validation", "test")
PAIR_COLUMNS = ["kind", "split_a", "id_a", "split_b", "id_b", "similarity"]
EXAMPLES, EXAMPLE_CHARS = 5, 200
_BATCH = 2000
# Candidates are checked with exact Jaccard, so the LSH bands favour recall: at threshold 0.8
# and 128 permutations, 17 bands x 7 rows make 98% of the pairs at similarity 0.8 candidates.
RECALL_WEIGHTS = (0.02, 0.98)
_LARGE_BUCKET = 64  # larger LSH buckets pair each row with one row per other split only


@dataclass
class LeakageReport:
    """``pairs``: one row per leaking pair; split_a comes before split_b (train first,
    the external set last)."""

    pairs: pd.DataFrame
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: pair counts per split pair and kind, a few examples each."""
        counts: dict[str, dict[str, int]] = {}
        for (a, b, kind), n in self.pairs.groupby(["split_a", "split_b", "kind"]).size().items():
            counts.setdefault(f"{a}/{b}", {"exact": 0, "near": 0})[str(kind)] = int(n)
        return {"pairs": int(len(self.pairs)), "counts": counts, "examples": self.examples,
                "settings": self.settings}

    def contaminated_ids(self, split: str = "train") -> set[str]:
        """Ids of ``split``'s rows that match a row of the external set."""
        hit = (self.pairs["split_a"] == split) & (self.pairs["split_b"] == EXTERNAL)
        return set(self.pairs.loc[hit, "id_a"])


def check_leakage(parts: dict[str, pd.DataFrame], *, external: pd.DataFrame | None = None,
                  threshold: float = 0.8, num_perm: int = 128, tokens: TokenMode = "auto",
                  ngram: int | None = None, seed: int = 1) -> LeakageReport:
    """Exact and near pairs of rows across the splits in ``parts`` and the ``external`` set."""
    if not 0 < threshold <= 1:
        raise DataError(f"threshold must be in (0, 1], got {threshold}")
    rows = _rows(parts, external)
    bands, band_rows = optimal_bands(float(threshold), num_perm, *RECALL_WEIGHTS)
    settings = {"threshold": threshold, "num_perm": num_perm, "bands": bands, "rows": band_rows,
                "tokens": tokens, "ngram": {m: ngram or n for m, n in DEFAULT_NGRAM.items()}}
    exact = _exact_pairs(rows)
    near = _near_pairs(rows, threshold, num_perm, tokens, ngram, seed, bands, band_rows)
    found = pd.concat([exact, near], ignore_index=True).astype({"a": np.int64, "b": np.int64})
    found = found.sort_values(["a", "b"], kind="stable")
    a, b = found["a"].to_numpy(), found["b"].to_numpy()
    split, ids = rows["split"].to_numpy(), rows["id"].to_numpy()
    pairs = pd.DataFrame({"kind": found["kind"].to_numpy(), "split_a": split[a], "id_a": ids[a],
                          "split_b": split[b], "id_b": ids[b],
                          "similarity": found["similarity"].to_numpy(dtype=float)},
                         columns=PAIR_COLUMNS)
    return LeakageReport(pairs.reset_index(drop=True), _examples(rows, found), settings)


def _rows(parts: dict[str, pd.DataFrame], external: pd.DataFrame | None) -> pd.DataFrame:
    """All rows, ordered by split (train, validation, test, others, external)."""
    if EXTERNAL in parts:
        raise DataError(f"a split may not be named '{EXTERNAL}'",
                        fix="pass the evaluation set as external= instead")
    named = dict(parts)
    if external is not None:
        named[EXTERNAL] = external
    order = [s for s in SPLIT_ORDER if s in named]
    order += sorted(s for s in named if s not in SPLIT_ORDER and s != EXTERNAL)
    order += [EXTERNAL] if EXTERNAL in named else []
    frames = []
    for rank, split in enumerate(order):
        part = named[split]
        missing = {"id", "text"} - set(part.columns)
        if missing:
            raise DataError(f"split '{split}' has no column {', '.join(sorted(missing))}",
                            fix="leakage is checked on tables with id and text columns")
        frames.append(pd.DataFrame({"split": split, "rank": rank, "id": part["id"].astype(str),
                                    "text": part["text"].fillna("").astype(str)}))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["split", "rank", "id", "text"])
    return table.assign(key=[dedup_key(t) for t in table["text"]])


def _exact_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    pos = rows[["key", "rank"]].assign(pos=np.arange(len(rows)))
    pos = pos[rows["text"].str.strip() != ""]  # empty rows are not a leak, whatever their split
    shared = pos.groupby("key")["rank"].transform("nunique") > 1
    both = pos[shared].merge(pos[shared], on="key", suffixes=("_a", "_b"))
    both = both[both["rank_a"] < both["rank_b"]]
    return pd.DataFrame({"kind": "exact", "a": both["pos_a"].to_numpy(dtype=np.int64),
                         "b": both["pos_b"].to_numpy(dtype=np.int64), "similarity": 1.0})


def _near_pairs(rows: pd.DataFrame, threshold: float, num_perm: int, tokens: TokenMode,
                ngram: int | None, seed: int, bands: int, band_rows: int) -> pd.DataFrame:
    hasher = MinHasher(num_perm, seed)
    texts = rows["text"].tolist()
    chunks = []
    for start in range(0, len(texts), _BATCH):
        sig, has = hasher.signatures(texts[start:start + _BATCH], tokens, ngram)
        chunks.append(band_hashes(sig, has, bands, band_rows))
    hashes = np.concatenate(chunks) if chunks else np.zeros((0, bands), dtype=np.uint64)
    cand = _cross_split_candidates(hashes, rows["rank"].to_numpy())
    keys = rows["key"].to_numpy()
    cand = cand[keys[cand["a"]] != keys[cand["b"]]]  # same text: already an exact pair
    shingles: dict[int, set[str]] = {}

    def shingles_of(p: int) -> set[str]:
        if p not in shingles:
            shingles[p] = shingle_set(texts[p], tokens, ngram)
        return shingles[p]

    similarity = np.array([jaccard(shingles_of(a), shingles_of(b))
                           for a, b in zip(cand["a"], cand["b"], strict=True)], dtype=float)
    keep = similarity >= threshold
    return pd.DataFrame({"kind": "near", "a": cand["a"].to_numpy()[keep],
                         "b": cand["b"].to_numpy()[keep], "similarity": similarity[keep].round(4)})


def _cross_split_candidates(hashes: np.ndarray, rank: np.ndarray) -> pd.DataFrame:
    """Pairs (a before b in split order) of rows of different splits sharing a band."""
    n, bands = hashes.shape
    member = pd.DataFrame({"band": np.repeat(np.arange(bands), n),
                           "hash": hashes.T.reshape(-1), "pos": np.tile(np.arange(n), bands),
                           "rank": np.tile(rank, bands)})
    member = member[member["hash"] != 0]
    bucket = member.groupby(["band", "hash"])["rank"]
    member = member[bucket.transform("nunique") > 1]
    size = member.groupby(["band", "hash"])["pos"].transform("size")
    small, large = member[size <= _LARGE_BUCKET], member[size > _LARGE_BUCKET]
    hubs = large.drop_duplicates(["band", "hash", "rank"])
    found = [small.merge(small, on=["band", "hash"], suffixes=("_a", "_b")),
             hubs.merge(large, on=["band", "hash"], suffixes=("_a", "_b"))]
    pairs = []
    for both in found:
        both = both[both["rank_a"] != both["rank_b"]]
        first = both["rank_a"] < both["rank_b"]
        pairs.append(pd.DataFrame({"a": np.where(first, both["pos_a"], both["pos_b"]),
                                   "b": np.where(first, both["pos_b"], both["pos_a"])}))
    out = pd.concat(pairs, ignore_index=True).drop_duplicates()
    return out.astype(np.int64).reset_index(drop=True)


def _examples(rows: pd.DataFrame, found: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    split, ids, texts = rows["split"].to_numpy(), rows["id"].to_numpy(), rows["text"].to_numpy()
    for kind, a, b, sim in found[["kind", "a", "b", "similarity"]].itertuples(index=False):
        bucket = out.setdefault(f"{split[a]}/{split[b]}", [])
        if len(bucket) < EXAMPLES:
            bucket.append({"kind": kind, "id_a": ids[a], "id_b": ids[b],
                           "similarity": round(float(sim), 4),
                           "text_a": _short(texts[a]), "text_b": _short(texts[b])})
    return out


def _short(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 3] + "..."
