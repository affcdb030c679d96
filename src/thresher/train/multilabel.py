"""Multi-label classification: label sets, per-label decision thresholds, one-vs-rest baseline.

A row may carry any number of labels: a list, or one string such as ``"sports,politics"``
split on the recipe's ``label_separator``. Each label gets its own sigmoid and its own decision
threshold, tuned on validation to maximise that label's F1: a rare label's best cut is often
far below 0.5, and one global threshold would never predict it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from thresher.train.baseline import CJK_THRESHOLD, MIN_ROWS_FOR_MIN_DF, _vectorizer, cjk_share
from thresher.train.distributed import is_main_process
from thresher.train.files import read_json, replace_folder, write_json

__all__ = [
    "DEFAULT_THRESHOLD",
    "MultiLabelBaseline",
    "label_matrix",
    "label_sets",
    "read_thresholds",
    "split_labels",
    "tune_thresholds",
]

DEFAULT_THRESHOLD = 0.5  # for a label without positive validation rows: nothing to tune on


def split_labels(value: Any, separator: str = ",") -> list[str]:
    """The labels of one cell: a list as is, a JSON list string parsed, else split on
    ``separator``; blanks dropped, repeats kept once, order kept."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        parsed = None
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        value = parsed if isinstance(parsed, list) else text.split(separator)
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    return list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def label_matrix(sets: Sequence[Sequence[str]], labels: list[str]) -> np.ndarray:
    """0/1 targets, shape (rows, labels); a label outside ``labels`` is ignored."""
    index = {label: i for i, label in enumerate(labels)}
    out = np.zeros((len(sets), len(labels)), dtype=np.float32)
    for row, found in enumerate(sets):
        for label in found:
            if label in index:
                out[row, index[label]] = 1.0
    return out


def tune_thresholds(proba: np.ndarray, truth: np.ndarray) -> list[float]:
    """Per label, the cut that maximises F1 on these rows (midway between two scores)."""
    thresholds = []
    for j in range(truth.shape[1]):
        y, p = truth[:, j] > 0.5, proba[:, j]
        positives = int(y.sum())
        if positives == 0:
            thresholds.append(DEFAULT_THRESHOLD)
            continue
        order = np.argsort(-p, kind="stable")
        ranked, hits = p[order], y[order]
        tp = np.cumsum(hits)
        f1 = 2 * tp / (2 * tp + np.cumsum(~hits) + (positives - tp))
        cut_here = np.r_[ranked[:-1] > ranked[1:], True]  # never split rows of equal score
        best = int(np.argmax(np.where(cut_here, f1, -1.0)))
        below = ranked[best + 1] if best + 1 < len(ranked) else ranked[best] - 1e-6
        thresholds.append(float((ranked[best] + below) / 2))
    return thresholds


def label_sets(proba: np.ndarray, labels: list[str], thresholds: Sequence[float]
               ) -> list[list[str]]:
    """The predicted labels of each row: those whose probability reaches its threshold."""
    chosen = np.asarray(proba) >= np.asarray(thresholds, dtype=float)[None, :]
    return [[labels[j] for j in np.flatnonzero(row)] for row in chosen]


class MultiLabelBaseline:
    """TF-IDF features + one logistic regression per label (one-vs-rest); ``fit`` learns
    ``language_`` and ``pipeline_``; ``thresholds`` come from validation like the model's."""

    kind = "baseline"

    def __init__(self, labels: list[str], C: float = 4.0, seed: int = 13,
                 class_weight: str | None = None) -> None:
        self.labels = list(labels)
        self.C = C
        self.seed = seed
        self.class_weight = class_weight
        self.thresholds = [DEFAULT_THRESHOLD] * len(self.labels)

    def fit(self, texts: Sequence[str], sets: Sequence[Sequence[str]]) -> "MultiLabelBaseline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline

        texts = [str(t) for t in texts]
        self.language_ = "zh" if cjk_share(texts) >= CJK_THRESHOLD else "other"
        min_df = 2 if len(texts) >= MIN_ROWS_FOR_MIN_DF else 1
        model = OneVsRestClassifier(LogisticRegression(
            C=self.C, solver="liblinear", class_weight=self.class_weight, random_state=self.seed))
        self.pipeline_ = make_pipeline(_vectorizer(self.language_, min_df), model)
        with warnings.catch_warnings():  # a label on every (or no) row: a constant, by design
            warnings.filterwarnings("ignore", message="Label .*present in all training")
            self.pipeline_.fit(texts, label_matrix(sets, self.labels))
        return self

    def predict_proba(self, texts: Sequence[Any], batch_size: int = 64) -> np.ndarray:
        """One independent probability per label, shape (len(texts), len(labels))."""
        from thresher.train.baseline import as_text

        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return np.asarray(self.pipeline_.predict_proba([as_text(t) for t in texts]), dtype=float)

    def info(self) -> dict[str, Any]:
        vectorizer = self.pipeline_.steps[0][1]
        return {"kind": "baseline", "task": "multilabel", "backbone": "tfidf-logreg-ovr",
                "load": "joblib", "labels": self.labels, "C": self.C, "seed": self.seed,
                "class_weight": self.class_weight, "language": self.language_,
                "features": f"tf-idf {vectorizer.analyzer} {vectorizer.ngram_range[0]}-"
                f"{vectorizer.ngram_range[1]}-grams", "vocabulary": len(vectorizer.vocabulary_)}

    def save(self, folder: Path, info: dict[str, Any] | None = None,
             extra_json: dict[str, Any] | None = None) -> None:
        import joblib

        with replace_folder(Path(folder)) as staging:
            joblib.dump(self.pipeline_, staging / "baseline.joblib")
            write_json(staging / "label_map.json", {y: i for i, y in enumerate(self.labels)})
            write_json(staging / "thresholds.json", dict(zip(self.labels, self.thresholds)))
            write_json(staging / "thresher_model.json", {**self.info(), **(info or {})})
            for name, data in (extra_json or {}).items():
                write_json(staging / name, data)

    @classmethod
    def load(cls, folder: Path) -> "MultiLabelBaseline":
        import joblib

        folder = Path(folder)
        info = read_json(folder / "thresher_model.json")
        model = cls(info["labels"], C=info.get("C", 4.0), seed=info.get("seed", 13),
                    class_weight=info.get("class_weight"))
        model.pipeline_ = joblib.load(folder / "baseline.joblib")
        model.language_ = info.get("language", "other")
        model.thresholds = read_thresholds(folder, model.labels)
        return model


def read_thresholds(folder: Path, labels: list[str]) -> list[float]:
    """thresholds.json of a saved multilabel model, in label order."""
    saved = read_json(Path(folder) / "thresholds.json")
    return [float(saved.get(label, DEFAULT_THRESHOLD)) for label in labels]


def train_multilabel(run_dir: Path, train: Any, val: Any, config: Any, progress: bool,
                     started: float, text_pair: str | None) -> Any:
    """``train_run`` for multilabel rows: the one-vs-rest baseline, then the fine-tuned model."""
    import time

    from thresher.errors import DataError
    from thresher.train.run import TrainResult, resolve_model, stratified_subsample

    sep = config.label_separator
    if config.max_train_rows is not None:  # keep the share of each label set
        keyed = train.assign(_set=[sep.join(sorted(split_labels(v, sep))) for v in train["label"]])
        train = stratified_subsample(keyed, config.max_train_rows, config.seed, key="_set")
        train = train.drop(columns="_set")
    sets = {name: [split_labels(v, sep) for v in frame["label"]]
            for name, frame in (("train", train), ("validation", val))}
    seen = {label for row in sets["train"] for label in row}
    if not seen:
        raise DataError("the train split has no labels",
                        where=str(run_dir / "data" / "train.parquet"),
                        fix=f"Check the label column and train.label_separator ({sep!r})")
    labels = sorted(seen | {label for row in sets["validation"] for label in row})
    ids = train["id"].tolist()
    if config.model == "baseline":
        info, history = _fit_baseline(train, val, sets, labels, config, run_dir / "model",
                                      text_pair)
        return TrainResult(history, 1, ids, time.perf_counter() - started, info)
    resolved = resolve_model(config, train["text"].tolist(), "multilabel")
    baseline_info, _ = _fit_baseline(train, val, sets, labels, config, run_dir / "baseline",
                                     text_pair)
    from thresher.train.finetune import finetune
    from thresher.train.tasks import make_task

    task = make_task("multilabel", labels, train, imbalance=config.imbalance,
                     text_pair=text_pair, separator=sep)
    info, history, best = finetune(train, val, labels, config, resolved, run_dir, progress,
                                   task=task)
    return TrainResult(history, best, ids, time.perf_counter() - started, info, baseline_info)


def _fit_baseline(train: Any, val: Any, sets: dict[str, list[list[str]]], labels: list[str],
                  config: Any, folder: Path, text_pair: str | None
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit on train, tune thresholds on validation, one history row, save to ``folder``."""
    import time

    from thresher.train.run import texts_of
    from thresher.train.tasks import multilabel_scores

    started = time.perf_counter()
    weight = "balanced" if config.imbalance != "none" else None
    model = MultiLabelBaseline(labels, seed=config.seed, class_weight=weight)
    model.fit(texts_of(train, text_pair), sets["train"])
    seconds = time.perf_counter() - started
    truth = label_matrix(sets["validation"], labels)
    proba = np.clip(model.predict_proba(texts_of(val, text_pair)), 1e-7, 1 - 1e-7)
    model.thresholds = tune_thresholds(proba, truth)
    train_proba = np.clip(model.predict_proba(texts_of(train, text_pair)), 1e-7, 1 - 1e-7)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    row = {"epoch": 1,
           "train_loss": multilabel_scores(logit(train_proba), label_matrix(sets["train"], labels))[
               "val_loss"],
           **multilabel_scores(logit(proba), truth, model.thresholds),
           "seconds": seconds, "learning_rate": None, "eval_seconds": 0.0}
    pair = {"text_pair": text_pair} if text_pair else {}
    info = {**model.info(), **pair, "label_separator": config.label_separator,
            "train_rows": len(train), "seconds": round(seconds, 2), "precision": "fp64"}
    if is_main_process():  # several training processes: one writes
        model.save(folder, info=info, extra_json={"training_history.json": [row]})
    return info, [row]
