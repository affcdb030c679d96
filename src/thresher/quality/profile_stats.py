"""The numbers of a data profile: per split and per label, duplicates, tokens, shift between splits.

Each function takes plain columns (texts, labels, split names) and returns JSON-ready dicts, so
the entry point (:mod:`thresher.quality.profile`) only wires them together. A statistic that is
undefined says why in a ``why`` string next to its ``None``, instead of a NaN.

Costs on 100k short texts (2 CPU cores): character lengths, exact-duplicate keys and PII scans
take under a second each over every row; MiniLM's fast tokenizer needs ~9 s for all of them
and py3langid ~0.4 ms a text, so tokens are counted on a seeded sample of TOKEN_SAMPLE rows and
languages on LANGUAGE_SAMPLE rows. MinHash over every distinct text takes ~1 s; confirming its
candidate pairs with exact Jaccard similarity grows with the number of near duplicates.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from thresher.errors import ModelError

__all__ = [
    "LANGUAGE_SAMPLE",
    "SHIFT_P",
    "TOKEN_SAMPLE",
    "duplicate_stats",
    "imbalance",
    "label_stats",
    "language_stats",
    "length_edges",
    "length_stats",
    "load_tokenizer",
    "near_duplicate_stats",
    "pii_stats",
    "shift_tests",
    "token_counts",
]

TOKEN_SAMPLE = 10_000
LANGUAGE_SAMPLE = 5_000
SHIFT_P = 0.01  # a shift is flagged below this p-value
NEAR_THRESHOLD = 0.8
NUM_PERM = 128
HISTOGRAM_BINS = 20
EXAMPLES = 5
EXAMPLE_CHARS = 160


def length_edges(values: np.ndarray) -> np.ndarray:
    """Shared histogram edges: log-spaced when the longest texts dwarf the typical one."""
    if values.size == 0:
        return np.array([0.0, 1.0])
    low, high = float(values.min()), float(values.max())
    if high > 30 * max(float(np.median(values)), 1.0):
        return np.unique(np.round(np.geomspace(max(low, 1.0), high + 1, HISTOGRAM_BINS + 1)))
    width = max(1, math.ceil((high + 1 - low) / HISTOGRAM_BINS))  # lengths are whole numbers
    return low + width * np.arange(math.ceil((high + 1 - low) / width) + 1, dtype=float)


def length_stats(values: np.ndarray, edges: np.ndarray) -> dict[str, Any]:
    """mean, median, p95, min, max and a histogram over ``edges`` (counts per bin)."""
    if values.size == 0:
        return {"n": 0, "mean": None, "median": None, "p95": None, "min": None, "max": None,
                "histogram": None, "why": "no rows"}
    counts, _ = np.histogram(values, bins=edges)
    return {"n": int(values.size), "mean": round(float(values.mean()), 2),
            "median": float(np.median(values)), "p95": float(np.percentile(values, 95)),
            "min": int(values.min()), "max": int(values.max()),
            "histogram": {"edges": [round(float(e), 2) for e in edges],
                          "counts": counts.astype(int).tolist()}}


def imbalance(counts: pd.Series) -> dict[str, Any]:
    """Rows of the largest class over rows of the smallest; undefined below two classes."""
    if len(counts) < 2:
        only = f" ({counts.index[0]!r})" if len(counts) else ""
        return {"ratio": None, "largest": None, "smallest": None,
                "why": f"only one class{only}: imbalance needs at least two" if len(counts)
                else "no labelled rows"}
    largest, smallest = counts.idxmax(), counts.idxmin()
    return {"ratio": round(float(counts.max() / counts.min()), 3),
            "largest": str(largest), "smallest": str(smallest), "why": None}


def label_stats(labels: pd.Series) -> dict[str, Any]:
    """Rows per label, their shares, and the imbalance ratio."""
    counts = labels.value_counts(sort=True)
    total = int(counts.sum())
    return {"counts": {str(k): int(v) for k, v in counts.items()},
            "shares": {str(k): round(float(v / total), 4) for k, v in counts.items()},
            "imbalance": imbalance(counts)}


def duplicate_stats(rows: pd.DataFrame, order: Sequence[str]) -> dict[str, Any]:
    """Exact duplicates (same ``key``) within each split, across splits, and label conflicts.

    ``rows`` has columns split, key (the normalised-text key), text and, when labelled, label.
    """
    within = {}
    for split in order:
        keys = rows.loc[rows["split"] == split, "key"]
        dup = int(keys.duplicated().sum())
        within[split] = {"rows": int(len(keys)), "duplicate_rows": dup,
                         "rate": round(dup / len(keys), 4) if len(keys) else None}
    across = {}
    for a, b in _split_pairs(order):
        earlier = set(rows.loc[rows["split"] == a, "key"])
        later = rows.loc[rows["split"] == b, "key"]
        hit = int(later.isin(earlier).sum())
        across[f"{a}/{b}"] = {"rows": hit,
                              "rate": round(hit / len(later), 4) if len(later) else None}
    dup_all = int(rows["key"].duplicated().sum())
    return {"within": within, "across": across, "duplicate_rows": dup_all,
            "rate": round(dup_all / len(rows), 4) if len(rows) else None,
            "conflicting_labels": _conflicts(rows) if "label" in rows else None}


def _split_pairs(order: Sequence[str]) -> list[tuple[str, str]]:
    """(earlier, later) split pairs: train/validation, train/test, validation/test."""
    return [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]


def _conflicts(rows: pd.DataFrame) -> dict[str, Any]:
    """Texts (by key) that occur under more than one label."""
    labels_per_key = rows.groupby("key", sort=False)["label"].nunique()
    bad = labels_per_key.index[labels_per_key.to_numpy() > 1]
    hit = rows[rows["key"].isin(bad)]
    examples = []
    for key in bad[:EXAMPLES]:
        group = hit[hit["key"] == key]
        counts = group["label"].value_counts()
        examples.append({"text": _short(group["text"].iloc[0]),
                         "labels": {str(k): int(v) for k, v in counts.items()}})
    return {"texts": int(len(bad)), "rows": int(len(hit)), "examples": examples}


def _short(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


def near_duplicate_stats(rows: pd.DataFrame, order: Sequence[str], seed: int,
                         threshold: float = NEAR_THRESHOLD) -> dict[str, Any]:
    """Near duplicates beyond exact ones: MinHash LSH candidates confirmed by exact Jaccard.

    Distinct texts (by ``key``) are hashed once; candidate pairs whose shingle sets reach
    ``threshold`` join clusters (connected components, so A~B and B~C group A with C, as
    ``dedup_near`` does). "Rows" counts what a near-dedup would drop on top of an exact one:
    distinct texts minus clusters, within a split; across splits, the later split's rows whose
    cluster is in the earlier split while their exact text is not.
    """
    from thresher.ops.dedup_near import cluster_rows

    codes = pd.factorize(rows["key"])[0]  # numbered in order of first appearance
    texts = rows["text"].to_numpy()[np.unique(codes, return_index=True)[1]].tolist()
    i, j, sim, candidates = _confirmed_pairs(texts, seed, threshold)
    frame = pd.DataFrame({"split": rows["split"].to_numpy(), "key": codes,
                          "cluster": cluster_rows(len(texts), i, j)[codes]})
    total = int(frame["key"].nunique() - frame["cluster"].nunique())
    examples = [{"text_a": _short(texts[a]), "text_b": _short(texts[b]), "similarity": round(s, 4)}
                for a, b, s in zip(i[:EXAMPLES].tolist(), j[:EXAMPLES].tolist(),
                                   sim[:EXAMPLES].tolist())]
    return {"threshold": threshold, "rows": total,
            "rate": round(total / len(rows), 4) if len(rows) else None,
            **_near_by_split(frame, order), "candidate_pairs": candidates,
            "confirmed_pairs": int(len(i)), "examples": examples,
            "method": f"MinHash ({NUM_PERM} permutations, LSH) over distinct texts; candidates "
                      f"confirmed by exact Jaccard similarity of shingles >= {threshold}"}


def _near_by_split(frame: pd.DataFrame, order: Sequence[str]) -> dict[str, Any]:
    within = {}
    for split in order:
        part = frame[frame["split"] == split]
        extra = int(part["key"].nunique() - part["cluster"].nunique())
        within[split] = {"rows": extra, "rate": round(extra / len(part), 4) if len(part) else None}
    across = {}
    for a, b in _split_pairs(order):
        earlier, later = frame[frame["split"] == a], frame[frame["split"] == b]
        near = (later["cluster"].isin(set(earlier["cluster"]))
                & ~later["key"].isin(set(earlier["key"])))
        across[f"{a}/{b}"] = {"rows": int(near.sum()),
                              "rate": round(float(near.mean()), 4) if len(later) else None}
    return {"within": within, "across": across}


def _confirmed_pairs(texts: list[str], seed: int, threshold: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs (i < j) of distinct texts whose exact shingle Jaccard reaches ``threshold``."""
    from thresher.ops.minhash import (MinHasher, band_hashes, candidate_pairs, jaccard,
                                      optimal_bands, shingle_set)
    from thresher.split.leakage import RECALL_WEIGHTS

    bands, band_rows = optimal_bands(float(threshold), NUM_PERM, *RECALL_WEIGHTS)
    hasher = MinHasher(NUM_PERM, seed)
    chunks = [band_hashes(*hasher.signatures(texts[s:s + 2000], "auto", None), bands, band_rows)
              for s in range(0, len(texts), 2000)]
    hashes = np.concatenate(chunks) if chunks else np.zeros((0, bands), dtype=np.uint64)
    i, j = candidate_pairs(hashes)
    shingles: dict[int, set[str]] = {}

    def shingles_of(p: int) -> set[str]:
        if p not in shingles:
            shingles[p] = shingle_set(texts[p])
        return shingles[p]

    sim = np.array([jaccard(shingles_of(a), shingles_of(b))
                    for a, b in zip(i.tolist(), j.tolist())], dtype=float)
    keep = sim >= threshold
    return i[keep], j[keep], sim[keep], int(len(i))


def pii_stats(texts: Sequence[str]) -> dict[str, Any]:
    """Personal data found by ``thresher.ops.pii.find_pii``: matches per kind, rows with any."""
    from thresher.ops.pii import find_pii

    counts: dict[str, int] = {}
    rows = 0
    for text in texts:
        found = find_pii(text)
        rows += bool(found)
        for match in found:
            counts[match.kind] = counts.get(match.kind, 0) + 1
    return {"counts": dict(sorted(counts.items())), "rows": rows,
            "share": round(rows / len(texts), 4) if len(texts) else None}


def language_stats(texts: Sequence[str], order: np.ndarray) -> dict[str, Any]:
    """Share of each language (py3langid, Chinese by script) over a seeded sample of rows."""
    from thresher.ops.language import detect_language

    picked = np.sort(order[:LANGUAGE_SAMPLE])
    found: dict[str, int] = {}
    for i in picked.tolist():
        text = texts[i]
        lang = detect_language(text)[0] if any(map(str.isalpha, text)) else "none"
        found[lang] = found.get(lang, 0) + 1
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    sampled = len(picked) < len(texts)
    return {"shares": {k: round(v / len(picked), 4) for k, v in ranked}, "rows": int(len(picked)),
            "sampled": sampled,
            "note": f"languages detected on a seeded sample of {len(picked):,} rows"
            if sampled else None}


def shift_tests(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """Label distribution (chi-square) and character length (two-sample KS) of split b vs a.

    ``a``/``b`` have a ``chars`` column and, when labelled, ``label``. A test is flagged as a
    shift when p < SHIFT_P; the effect size (Cramér's V, the KS statistic D) is given with it.
    """
    from scipy.stats import ks_2samp

    ks = ks_2samp(a["chars"].to_numpy(), b["chars"].to_numpy())
    lengths = {"ks_statistic": round(float(ks.statistic), 4), "p_value": float(ks.pvalue),
               "shift": bool(ks.pvalue < SHIFT_P),
               "median_a": float(a["chars"].median()), "median_b": float(b["chars"].median())}
    labels = _label_shift(a["label"], b["label"]) if "label" in a else None
    return {"labels": labels, "lengths": lengths,
            "shift": bool(lengths["shift"] or (labels or {}).get("shift"))}


def _label_shift(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    from scipy.stats import chi2_contingency

    table = pd.DataFrame({"a": a.value_counts(), "b": b.value_counts()}).fillna(0).T
    if table.shape[1] < 2:
        return {"chi2": None, "p_value": None, "dof": None, "cramers_v": None, "shift": False,
                "why": "one label in both splits: nothing to compare"}
    # Pearson's statistic without Yates' correction, so it matches the textbook formula
    result = chi2_contingency(table.to_numpy(), correction=False)
    n = float(table.to_numpy().sum())
    v = float(np.sqrt(result.statistic / n))  # Cramér's V with two rows: min(r, c) - 1 = 1
    return {"chi2": round(float(result.statistic), 4), "p_value": float(result.pvalue),
            "dof": int(result.dof), "cramers_v": round(v, 4),
            "shift": bool(result.pvalue < SHIFT_P), "why": None}


def load_tokenizer(spec: str, texts: Sequence[str]) -> tuple[Any, str, str]:
    """(tokenizer, backbone name, folder) for a model spec; "DEFAULT" picks by script."""
    from thresher.train.backbones import default_backbone, resolve_spec

    name = default_backbone(texts) if spec == "DEFAULT" else spec
    resolved = resolve_spec(name)  # an unknown spec is a ModelError that says what exists
    try:
        from transformers import AutoTokenizer

        from thresher.train.quiet import quiet_transformers
    except ImportError:
        raise ModelError("token statistics need the package 'transformers', which is not installed",
                         where="tokenizer", fix="pip install 'thresher[train]'") from None
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(resolved.folder)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the tokenizer of {spec!r} could not be loaded from {resolved.folder}: "
                         f"{exc}", where="tokenizer",
                         fix="pass a model folder that holds a tokenizer") from None
    return tokenizer, name, resolved.folder


def token_counts(tokenizer: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(tokens per text including the special tokens a model adds, [UNK] tokens per text).

    One batch call into the Rust tokenizer; special tokens are added by count, not encoded,
    so the unknown-token share is over the text's own tokens.
    """
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # tokenizer.json may pad or cut every text to the model's length (MiniLM's does):
        # lengths are measured uncut, and truncation is what they are compared with
        backend.no_truncation()
        backend.no_padding()
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
        ids = [e.ids for e in encode(texts, add_special_tokens=False)]
    else:  # a slow (Python) tokenizer: correct, only slower
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    unk = tokenizer.unk_token_id
    extra = tokenizer.num_special_tokens_to_add(pair=False)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids)) + extra
    unknown = (np.fromiter((row.count(unk) for row in ids), dtype=np.int64, count=len(ids))
               if unk is not None else np.zeros(len(ids), dtype=np.int64))
    return lengths, unknown
