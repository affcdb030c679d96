"""What to label next: rank unlabelled rows so that each labelled batch teaches the model most.

Labelling is the expensive step of a text project, and rows are not equally useful: a row the
model already classifies with 0.99 confidence teaches it little. Active learning trains the
project's TF-IDF + logistic-regression baseline on the rows labelled so far, scores the pool
of unlabelled rows, and hands back the next batch to label.

Strategies (``probs`` is one row of predicted probabilities, p1 >= p2 the two largest):

* ``least_confidence``: 1 - p1, largest first.
* ``margin``: p1 - p2, smallest first.
* ``entropy``: -sum p log p (natural log), largest first.
* ``diverse``: batch-aware "cluster-margin": the ``pool_factor * batch`` rows with the smallest
  margin are clustered by weighted k-means (weight 1 - margin) into ``batch`` clusters, and the
  row with the smallest margin in each cluster is taken, so one batch does not spend its labels
  on near-copies of one confusing sentence.
* ``coreset``: greedy k-center on embeddings: each pick is the row farthest from everything
  labelled or already picked, which covers the pool without looking at the model's confidence.
* ``random``: the control every strategy must beat (bench/active_learning.py measures it).

Ties (scores equal to 12 decimals) are broken by higher entropy, then by a random order drawn
from ``seed``, so a selection is reproducible and never depends on the pool's file order.
Embeddings for ``diverse``/``coreset`` are ``tfidf`` (TruncatedSVD to 100 dimensions of the
baseline's own TF-IDF features) or ``minilm`` (mean-pooled sentence vectors from the offline
all-MiniLM-L6-v2; English only). Both are L2-normalised, so distances are cosine-like.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from thresher._files import write_json
from thresher.predict._io import output_suffix, write_table
from thresher.errors import DataError, InputError, ModelError, RecipeError

__all__ = [
    "EMBEDDINGS",
    "OUTPUT_FORMATS",
    "STRATEGIES",
    "Selection",
    "choose",
    "minilm_embeddings",
    "select_rows",
    "tfidf_embeddings",
    "uncertainty",
]

STRATEGIES = ("margin", "least_confidence", "entropy", "diverse", "coreset", "random")
EMBEDDINGS = ("tfidf", "minilm")
OUTPUT_FORMATS = (".csv", ".jsonl", ".parquet")
UNCERTAINTY = ("least_confidence", "margin", "entropy")
POOL_FACTOR = 10  # diverse: candidates per batch row (Zhdanov 2019 uses 10-50)
SVD_DIMS = 100  # tfidf embeddings: enough for k-means/k-center, small enough to stay fast
TIE_DECIMALS = 12  # scores equal to this many decimals count as ties (float noise is not order)
DEFAULT_OUT = "to_label.csv"  # in the current folder: works for every source, even hf: and URLs

_SCORE_MEANING = {
    "least_confidence": "1 - max probability; largest first",
    "margin": "top-1 minus top-2 probability; smallest first",
    "entropy": "entropy of the predicted distribution (nats); largest first",
    "diverse": "margin (top-1 minus top-2) of the row chosen for its cluster; smallest first",
    "coreset": "distance to the nearest labelled or already chosen row when chosen; largest first",
    "random": "the uniform random draw that ordered the pool; smallest first",
}


def uncertainty(probs: np.ndarray, strategy: str) -> np.ndarray:
    """Per-row score of ``least_confidence``, ``margin`` or ``entropy`` (see the module doc).

    Higher means more uncertain, except for ``margin``, where lower does.
    """
    probs = _check_probs(probs)
    if strategy == "least_confidence":
        return 1.0 - probs.max(axis=1)
    if strategy == "margin":
        top2 = -np.partition(-probs, 1, axis=1)[:, :2]
        return top2[:, 0] - top2[:, 1]
    if strategy == "entropy":
        return _entropy(probs)
    raise RecipeError(f"{strategy!r} is not an uncertainty score", where="strategy",
                      fix=f"use one of {', '.join(UNCERTAINTY)}")


def choose(probs: np.ndarray, batch_size: int, strategy: str, embeddings: np.ndarray | None = None,
           labelled_embeddings: np.ndarray | None = None, seed: int = 13,
           pool_factor: int = POOL_FACTOR) -> np.ndarray:
    """Indices of the ``batch_size`` pool rows to label next, best first.

    ``batch_size`` larger than the pool takes the whole pool. ``diverse`` and ``coreset`` need
    ``embeddings`` (one row per pool row); ``coreset`` measures distance to
    ``labelled_embeddings`` too when given, else its first pick is a seeded random row.
    """
    return _ranked(probs, batch_size, strategy, embeddings, labelled_embeddings, seed,
                   pool_factor)[0]


def _ranked(probs: np.ndarray, batch_size: int, strategy: str, embeddings: np.ndarray | None,
            labelled_embeddings: np.ndarray | None, seed: int, pool_factor: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """(indices, their score) for :func:`choose`; the score is the strategy's own criterion."""
    _check_strategy(strategy)
    probs = _check_probs(probs)
    _check_batch(batch_size)
    k = min(batch_size, len(probs))
    if strategy in ("diverse", "coreset"):
        embeddings = _check_embeddings(embeddings, len(probs), strategy)
    if strategy == "random":
        draw = np.random.default_rng(seed).random(len(probs))
        picks = np.argsort(draw, kind="stable")[:k]
        return picks, draw[picks]
    if strategy == "coreset":
        return _k_center(embeddings, labelled_embeddings, k, seed)
    if strategy == "diverse":
        picks = _cluster_margin(probs, embeddings, k, seed, pool_factor)
        return picks, uncertainty(probs, "margin")[picks]
    picks = _uncertainty_order(probs, strategy, seed)[:k]
    return picks, uncertainty(probs, strategy)[picks]


def _uncertainty_order(probs: np.ndarray, strategy: str, seed: int) -> np.ndarray:
    """All rows, most uncertain first; ties by higher entropy, then a seeded random order."""
    score = np.round(uncertainty(probs, strategy), TIE_DECIMALS)
    primary = score if strategy == "margin" else -score
    entropy = np.round(_entropy(probs), TIE_DECIMALS)
    shuffle = np.random.default_rng(seed).permutation(len(probs))
    return np.lexsort((shuffle, -entropy, primary))  # the last key sorts first


def _cluster_margin(probs: np.ndarray, embeddings: np.ndarray, k: int, seed: int,
                    pool_factor: int) -> np.ndarray:
    """The most uncertain row of each of ``k`` weighted k-means clusters of the top candidates."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    candidates = _uncertainty_order(probs, "margin", seed)[: max(k, pool_factor * k)]
    if len(candidates) <= k:
        return candidates
    # weight by uncertainty so centres sit where the model is confused; the epsilon keeps
    # k-means defined when every candidate is certain
    weight = 1.0 - uncertainty(probs, "margin")[candidates] + 1e-6
    kmeans = KMeans(n_clusters=k, n_init=1, random_state=seed)
    with warnings.catch_warnings():  # fewer distinct points than clusters is handled below
        warnings.simplefilter("ignore", ConvergenceWarning)
        clusters = kmeans.fit_predict(embeddings[candidates], sample_weight=weight)
    # candidates are in uncertainty order, so each cluster's first row is its most uncertain
    _, first = np.unique(clusters, return_index=True)
    picks = list(candidates[np.sort(first)])
    if len(picks) < k:  # duplicate rows can leave clusters empty: top up by uncertainty
        taken = set(picks)
        picks += [i for i in candidates if i not in taken][: k - len(picks)]
    return np.asarray(picks, dtype=np.int64)


def _k_center(embeddings: np.ndarray, labelled: np.ndarray | None, k: int, seed: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center (Sener & Savarese 2018): repeatedly take the row farthest from all centres."""
    from sklearn.metrics import pairwise_distances_argmin_min

    picks: list[int] = []
    scores: list[float] = []
    if labelled is not None and len(labelled):
        labelled = _check_embeddings(labelled, None, "coreset", dims=embeddings.shape[1])
        nearest = pairwise_distances_argmin_min(embeddings, labelled)[1].astype(np.float64)
    else:  # nothing to measure against yet: the first centre is a seeded random row
        first = int(np.random.default_rng(seed).integers(len(embeddings)))
        picks, scores = [first], [np.inf]
        nearest = np.linalg.norm(embeddings - embeddings[first], axis=1)
        nearest[first] = -1.0
    while len(picks) < k:
        i = int(np.argmax(nearest))  # ties: the lowest index
        picks.append(i)
        scores.append(float(nearest[i]))
        nearest = np.minimum(nearest, np.linalg.norm(embeddings - embeddings[i], axis=1))
        nearest[picks] = -1.0  # never picked twice, even when every distance is 0
    return np.asarray(picks, dtype=np.int64), np.asarray(scores, dtype=np.float64)


def _entropy(probs: np.ndarray) -> np.ndarray:
    safe = np.where(probs > 0, probs, 1.0)  # 0 log 0 = 0
    return -(probs * np.log(safe)).sum(axis=1)


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise RecipeError(f"unknown strategy {strategy!r}", where="strategy",
                          fix=f"use one of {', '.join(STRATEGIES)}")


def _check_batch(batch_size: int) -> None:
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, not {batch_size}", where="batch_size",
                         fix="pass --batch-size 1 or more")


def _check_probs(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise DataError(f"probabilities must be a table of rows x classes (2 or more), "
                        f"not shape {probs.shape}", where="probs",
                        fix="pass the model's predict_proba output")
    if len(probs) == 0:
        raise DataError("the pool is empty: there is nothing to choose from", where="probs",
                        fix="pass at least one unlabelled row")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise DataError("probabilities must be finite and non-negative", where="probs",
                        fix="pass the model's predict_proba output")
    return probs


def _check_embeddings(embeddings: np.ndarray | None, rows: int | None, strategy: str,
                      dims: int | None = None) -> np.ndarray:
    if embeddings is None:
        raise DataError(f"strategy {strategy!r} needs embeddings of the pool rows",
                        where="embeddings", fix="pass embeddings (one row per pool row)")
    embeddings = np.asarray(embeddings, dtype=np.float64)
    shape_ok = embeddings.ndim == 2 and (rows is None or len(embeddings) == rows)
    if not shape_ok or (dims is not None and embeddings.shape[1] != dims):
        want = f"{rows if rows is not None else 'n'} x {dims or 'd'}"
        raise DataError(f"embeddings have shape {embeddings.shape}, expected {want}",
                        where="embeddings", fix="embed the pool and labelled rows the same way")
    return embeddings


# --- embeddings -------------------------------------------------------------------------------


def tfidf_embeddings(model: Any, texts: Sequence[str], dims: int = SVD_DIMS, seed: int = 13
                     ) -> np.ndarray:
    """TruncatedSVD (``dims``) of a fitted BaselineClassifier's TF-IDF features, L2-normalised.

    Fit on ``texts`` themselves, so pass pool and labelled texts together and split after.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    features = model.pipeline_.steps[0][1].transform(list(texts))
    dims = min(dims, features.shape[1] - 1, features.shape[0] - 1)
    if dims < 1:  # one feature or one row: the features are already tiny
        return normalize(features.toarray())
    svd = TruncatedSVD(n_components=dims, random_state=seed)
    return normalize(svd.fit_transform(features))


def minilm_embeddings(texts: Sequence[str], batch_size: int = 64, max_length: int = 256
                      ) -> np.ndarray:
    """Mean-pooled last hidden states of the offline all-MiniLM-L6-v2, L2-normalised."""
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        raise ModelError("minilm embeddings need torch and transformers", where="embeddings",
                         fix="pip install 'thresher[train]', or use --embeddings tfidf") from None
    from thresher.train.backbones import resolve_spec
    from thresher.train.quiet import quiet_transformers

    folder = resolve_spec("minilm").folder
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder).eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), padding=True,
                              truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    return np.concatenate(out).astype(np.float64)


def _embed(kind: str, model: Any, pool: list[str], labelled: list[str], seed: int
           ) -> tuple[np.ndarray, np.ndarray]:
    texts = pool + labelled
    vectors = tfidf_embeddings(model, texts, seed=seed) if kind == "tfidf" else minilm_embeddings(texts)
    return vectors[: len(pool)], vectors[len(pool):]


# --- select_rows ------------------------------------------------------------------------------


@dataclass
class Selection:
    """The chosen rows (``rows``) and what was done to choose them (everything else)."""

    strategy: str
    embeddings: str | None  # None: the strategy does not use embeddings
    seed: int
    batch_size: int  # rows chosen
    requested: int  # batch size asked for
    labelled: dict[str, Any]
    pool: dict[str, Any]
    model: dict[str, Any]
    score: dict[str, Any]
    confidence: dict[str, Any]
    predicted: dict[str, int]  # predicted label counts among the chosen rows
    out: str
    summary: str
    notes: list[str] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_dict(self) -> dict[str, Any]:
        keys = ("strategy", "embeddings", "seed", "batch_size", "requested", "labelled", "pool",
                "model", "score", "confidence", "predicted", "out", "summary", "notes")
        return {key: getattr(self, key) for key in keys}


def select_rows(labelled: str | Path, pool: str | Path, *, batch_size: int = 100,
                strategy: str = "margin", embeddings: str = "tfidf", text: str | None = None,
                label: str | None = None, seed: int = 13, out: str | Path | None = None
                ) -> Selection:
    """Train the baseline on ``labelled``, choose ``batch_size`` rows of ``pool`` to label next.

    ``labelled`` is a file (any format the readers take) or a thresher run folder (its
    data/train.parquet). ``pool`` is a file of unlabelled rows; a label column in it is ignored.
    ``text``/``label`` name the columns when inference gets them wrong. Writes ``out``
    (.csv/.jsonl/.parquet; default ``to_label.csv`` in the current folder) and
    ``selection.json`` beside it. A batch larger than the usable pool takes the whole pool (a
    note says so). Pool rows without text, duplicates within the pool and rows whose text is
    already labelled are rejected and counted by reason in ``pool["rejected"]``.
    """
    _check_strategy(strategy)
    _check_batch(batch_size)
    if embeddings not in EMBEDDINGS:
        raise RecipeError(f"unknown embeddings {embeddings!r}", where="embeddings",
                          fix=f"use one of {', '.join(EMBEDDINGS)}")
    out_path = Path(out) if out is not None else Path(DEFAULT_OUT)
    output_suffix(out_path, "the selection", OUTPUT_FORMATS)  # fails before any work
    train, labelled_info = _read_labelled(labelled, text, label)
    rows, pool_info, notes = _read_pool(pool, text, set(train["text"]))
    from thresher.train.baseline import BaselineClassifier

    model = BaselineClassifier(seed=seed).fit(train["text"].tolist(), train["label"].tolist())
    probs = model.predict_proba(rows["text"].tolist())
    vectors, labelled_vectors = (None, None)
    if strategy in ("diverse", "coreset"):
        vectors, labelled_vectors = _embed(embeddings, model, rows["text"].tolist(),
                                           train["text"].tolist(), seed)
        if embeddings == "minilm" and model.language_ == "zh":
            notes.append("MiniLM is an English model (it reads most Chinese characters as "
                         "[UNK]); --embeddings tfidf suits Chinese text better")
    picks, scores = _ranked(probs, batch_size, strategy, vectors, labelled_vectors, seed,
                            POOL_FACTOR)
    if batch_size > len(rows):
        notes.append(f"batch size {batch_size} is larger than the {len(rows)} usable pool rows: "
                     "all of them were chosen")
    table = _selection_table(rows, picks, scores, probs, model.labels, strategy)
    return _finish(table, probs, model, labelled_info, pool_info, notes, out_path,
                   strategy=strategy, embeddings=embeddings, seed=seed, requested=batch_size)


def _read_labelled(source: str | Path, text: str | None, label: str | None
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from thresher.io import read_source

    run_train = Path(source) / "data" / "train.parquet"
    if run_train.is_file():  # a run folder: its own columns, whatever --text names for the pool
        where, read = str(run_train), read_source(run_train)
    else:
        where, read = str(source), read_source(source, text=text, label=label)
    table = read.table
    classes = table["label"].value_counts().sort_index()
    if len(classes) < 2:
        only = f"only {classes.index[0]!r}" if len(classes) else "no labelled rows"
        raise DataError(f"active learning needs at least two labelled classes; the labelled "
                        f"set has {only}", where=where,
                        fix="label a few rows of another class first (a random sample of the "
                        "pool is a good start)")
    info = {"source": where, "rows_read": read.info.rows, "rows_used": len(table),
            "rejected": dict(Counter(r.reason for r in read.rejects)),
            "classes": {str(k): int(v) for k, v in classes.items()}}
    return table, info


def _read_pool(source: str | Path, text: str | None, known: set[str]
               ) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Pool rows with text, not already labelled, first copy of each text; the rest counted."""
    from thresher.predict import read_unlabelled

    rows = read_unlabelled(source, text=text)  # a label is optional here, unlike read_source
    rejected: Counter[str] = Counter(rows.attrs.get("skipped") or {})
    duplicate = rows["text"].duplicated().to_numpy()
    seen = rows["text"].isin(known).to_numpy()
    rejected.update({"already_labelled": int(seen.sum()),
                     "duplicate_text": int((duplicate & ~seen).sum())})
    notes = []
    if rows.attrs.get("label_column"):
        notes.append(f"the pool's column {rows.attrs['label_column']!r} was ignored: only the "
                     "text is used to choose rows")
    kept = rows.loc[~(duplicate | seen), ["id", "text"]].reset_index(drop=True)
    rejected = Counter({k: v for k, v in rejected.items() if v})
    info = {"source": rows.attrs.get("source", str(source)),
            "rows_read": len(rows) + sum(rows.attrs.get("skipped", {}).values()),
            "rows_used": len(kept), "rejected": dict(rejected)}
    if kept.empty:
        raise DataError(f"no pool row is left to choose from ({_reasons(rejected)})",
                        where=info["source"], fix="pass a pool of rows that are not labelled yet")
    return kept, info, notes


def _reasons(counts: Counter[str] | dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()))


def _selection_table(rows: pd.DataFrame, picks: np.ndarray, scores: np.ndarray,
                     probs: np.ndarray, labels: list[str], strategy: str) -> pd.DataFrame:
    chosen = probs[picks]
    return pd.DataFrame({
        "id": rows["id"].to_numpy()[picks], "text": rows["text"].to_numpy()[picks],
        "rank": np.arange(1, len(picks) + 1), "score": np.where(np.isfinite(scores), scores, np.nan),
        "strategy": strategy, "predicted": np.asarray(labels, dtype=object)[chosen.argmax(axis=1)],
        "confidence": chosen.max(axis=1)})


def _finish(table: pd.DataFrame, probs: np.ndarray, model: Any, labelled_info: dict[str, Any],
            pool_info: dict[str, Any], notes: list[str], out: Path, *, strategy: str,
            embeddings: str, seed: int, requested: int) -> Selection:
    summary = out.parent / "selection.json"
    selection = Selection(
        strategy=strategy, embeddings=embeddings if strategy in ("diverse", "coreset") else None,
        seed=seed, batch_size=len(table), requested=requested, labelled=labelled_info,
        pool=pool_info, model={"name": "tfidf-logreg baseline", **model.describe()},
        score={"meaning": _SCORE_MEANING[strategy], "chosen": _stats(table["score"].to_numpy())},
        confidence={"pool": _stats(probs.max(axis=1)),
                    "chosen": _stats(table["confidence"].to_numpy())},
        predicted={str(k): int(v) for k, v in table["predicted"].value_counts().items()},
        out=str(out), summary=str(summary), notes=notes, rows=table)
    write_table(table, out, what="the selection", formats=OUTPUT_FORMATS,
                fix="choose an output path you can write to with -o")
    write_json(summary, selection.to_dict())
    return selection


def _stats(values: np.ndarray) -> dict[str, Any]:
    """count, mean and quartiles of the finite values; None with a why when there are none."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"count": 0, "mean": None, "why": "no finite values (the first coreset pick with "
                "no labelled rows has no distance)"}
    q = np.quantile(finite, [0, 0.25, 0.5, 0.75, 1])
    names = ("min", "p25", "median", "p75", "max")
    return {"count": int(len(finite)), "mean": float(finite.mean()),
            **{name: float(v) for name, v in zip(names, q)}}
