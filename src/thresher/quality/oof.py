"""Out-of-sample predicted probabilities by k-fold cross-validation, and the features behind them.

Label-error detection needs every row's probabilities from a model that never saw that row
(cleanlab's rule): a model scoring its own training rows agrees with their labels, noise
included. Features are computed once for all rows without labels (TF-IDF vocabulary and
weights, or sentence embeddings), so only the logistic regression is refitted per fold.

Measured on SST-2's 7,447 training sentences with 5% of labels flipped (5 folds, 2 cores):
TF-IDF word 1-2-grams agree with the true labels on 78.2% of rows (4 s), MiniLM mean-pooled
embeddings 79.3% (44 s to embed), their average 82.4%, which is why ``tfidf+minilm`` exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from thresher.errors import DataError, ModelError

__all__ = ["FEATURES", "Features", "embed_texts", "make_features", "out_of_sample_probs"]

FEATURES = ("tfidf", "minilm", "tfidf+minilm")  # or a local model folder
EMBED_BATCH = 128


@dataclass
class Features:
    """What the folds' classifiers read (one matrix per view) and a dense view for neighbours."""

    views: list[Any]  # each a (rows x dims) matrix, sparse or dense; probabilities are averaged
    neighbours: Any  # the view searched for outliers and near-duplicates (cosine distance)
    description: str


def make_features(texts: Sequence[str], spec: str = "tfidf", *, device: str = "cpu") -> Features:
    """``spec``: tfidf, minilm, tfidf+minilm, or a folder holding a transformers encoder."""
    views, names = [], []
    if spec in ("tfidf", "tfidf+minilm"):
        tfidf, description = _tfidf(texts)
        views.append(tfidf)
        names.append(description)
    if spec != "tfidf":
        model = "minilm" if spec in ("minilm", "tfidf+minilm") else spec
        embedded = embed_texts(texts, model, device=device)
        views.append(embedded)
        names.append(f"{model} mean-pooled embeddings")
    # sentence embeddings find paraphrases; TF-IDF finds shared words (LSA of it made every
    # short "X and Y" phrase a near-duplicate of every other, so the sparse matrix is searched)
    return Features(views=views, neighbours=views[-1], description=" + ".join(names))


def _tfidf(texts: Sequence[str]) -> tuple[Any, str]:
    from thresher.train.baseline import vectorizer_for

    language, vectorizer = vectorizer_for(list(texts))
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # every text empty or stop words only: sklearn's "empty vocabulary"
        raise DataError("no words to learn from: the texts have an empty vocabulary",
                        fix="check the text column") from None
    return matrix, f"tf-idf {vectorizer.analyzer} {vectorizer.ngram_range[0]}-" \
                   f"{vectorizer.ngram_range[1]}-grams ({language})"


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def embed_texts(texts: Sequence[str], model: str = "minilm", *, device: str = "cpu",
                max_length: int = 128) -> np.ndarray:
    """Mean-pooled last hidden states, L2-normalised; batches sorted by length (less padding)."""
    import torch

    from thresher.train.backbones import resolve_spec

    encoder, tokenizer = _encoder(resolve_spec(model).folder, device)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), EMBED_BATCH):
            rows = order[start:start + EMBED_BATCH]
            batch = tokenizer([str(texts[i]) for i in rows], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt").to(device)
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out[rows] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu().numpy()
    return _normalise(out)


def _encoder(folder: str, device: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    from thresher.train.quiet import quiet_transformers

    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder)
            encoder = AutoModel.from_pretrained(folder).to(device).eval()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load an encoder from {folder} ({exc})",
                         fix="pass minilm or a folder with a transformers model") from None
    if tokenizer.pad_token is None:  # decoders: pad with end-of-text, masked out anyway
        tokenizer.pad_token = tokenizer.eos_token
    return encoder, tokenizer


def out_of_sample_probs(features: Features, labels: np.ndarray, *, folds: int = 5,
                        seed: int = 13) -> np.ndarray:
    """Each row's class probabilities from models fitted on the other folds (views averaged)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    classes = int(labels.max()) + 1
    smallest = int(np.bincount(labels, minlength=classes).min())
    if smallest < folds:
        raise DataError(f"a label has {smallest} row(s), fewer than the {folds} folds",
                        fix="lower folds, or drop or merge that label first")
    probs = np.zeros((len(labels), classes))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for view in features.views:
        # C=4 for sparse TF-IDF (the baseline's choice), 1 for dense embeddings
        C = 4.0 if hasattr(view, "tocsr") else 1.0
        for train, held_out in splitter.split(np.zeros(len(labels)), labels):
            model = LogisticRegression(C=C, max_iter=2000)
            model.fit(view[train], labels[train])
            probs[np.ix_(held_out, model.classes_)] += model.predict_proba(view[held_out])
    return probs / len(features.views)

