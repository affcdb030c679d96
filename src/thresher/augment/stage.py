"""The augment stage: variants of the training rows only, with lineage, checked before use.

Runs after the split on ``data/train.parquet`` and writes ``data/augmented.parquet`` (training
reads both); validation and test are never augmented. Every candidate row carries
``parent_id``, ``augmenter`` and its settings, and keeps its parent's label only if it passes,
in order: not an exact copy of any original row or earlier candidate (``duplicate``), not a
near-duplicate of a validation or test row (``near_eval``: it would leak), similar enough to
its parent but not a copy (``too_similar`` / ``too_different``, Jaccard of shingles), and a
reference classifier trained on the original training rows still gives the parent's label
probability >= ``min_prob`` (``label_changed``). Candidates that fail go to
``data/augment_rejects.parquet`` with the reason; the counts go to the manifest.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher._files import atomic_path
from thresher.augment.backtranslate import BackTranslate
from thresher.augment.base import Augmenter
from thresher.augment.eda import Eda, eda_defaults
from thresher.augment.llm import LlmParaphrase
from thresher.augment.masked_lm import MaskedLM
from thresher.augment.noise import CharNoise
from thresher.augment.sentences import SentenceMix
from thresher.errors import DataError, RecipeError

__all__ = ["AUGMENTERS", "AugmentResult", "augment_run", "build_augmenter"]

AUGMENTERS: dict[str, type[Augmenter]] = {
    cls.name: cls for cls in (Eda, CharNoise, SentenceMix, BackTranslate, MaskedLM, LlmParaphrase)}
AUGMENTED = "augmented.parquet"
AUGMENT_REJECTS = "augment_rejects.parquet"


@dataclass
class AugmentResult:
    generated: int
    kept: int
    rejected: dict[str, int]
    by_augmenter: dict[str, dict[str, int]]
    settings: dict[str, Any]
    examples: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"generated": self.generated, "kept": self.kept, "rejected": self.rejected,
                "by_augmenter": self.by_augmenter, "settings": self.settings,
                "examples": self.examples}


def build_augmenter(name: str, settings: dict[str, Any], train_rows: int) -> Augmenter:
    """One augmenter from its recipe entry; EDA's alphas default to the paper's for the size."""
    if name not in AUGMENTERS:
        raise RecipeError(f"unknown augmenter {name!r}", where="augment.augmenters",
                          fix=f"known augmenters: {', '.join(sorted(AUGMENTERS))}")
    settings = dict(settings)
    if name == "eda":
        alpha, _ = eda_defaults(train_rows)
        for key in ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd"):
            settings.setdefault(key, alpha)
    augmenter = AUGMENTERS[name](**settings)
    check = getattr(augmenter, "check", None)
    if check is not None:
        try:
            check()
        except ValueError as exc:
            raise RecipeError(str(exc), where=f"augment.augmenters.{name}") from None
    return augmenter


def augment_run(run_dir: Path, spec: Any, *, seed: int = 13) -> AugmentResult:
    """Augment ``run_dir/data/train.parquet`` as the recipe's ``augment:`` section (spec) says."""
    data = Path(run_dir) / "data"
    train = _read(data / "train.parquet")
    candidates = _candidates(train, spec, seed)
    reasons = _filter(candidates, train, data, spec, seed)
    kept = candidates[reasons == ""].reset_index(drop=True)
    dropped = candidates[reasons != ""].assign(reason=reasons[reasons != ""])
    _write(data / AUGMENTED, kept)
    _write(data / AUGMENT_REJECTS, dropped.drop(columns=["detail"], errors="ignore"))
    by_augmenter = {name: {"generated": int(len(group)),
                           "kept": int((reasons[group.index] == "").sum())}
                    for name, group in candidates.groupby("augmenter", sort=True)}
    return AugmentResult(
        generated=len(candidates), kept=len(kept),
        rejected=dict(sorted(Counter(reasons[reasons != ""]).items())),
        by_augmenter=by_augmenter, settings=_settings(spec),
        examples=[{"parent": p, "augmented": a} for p, a in
                  zip(kept["parent_text"].head(5), kept["text"].head(5))])


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("augmentation needs the training split", where=str(path),
                        fix="run the recipe's data stage (with a split section) first")
    frame = pd.read_parquet(path)
    if "text" not in frame.columns or "label" not in frame.columns:
        raise RecipeError("augment applies to classification data (text and label columns)",
                          where="augment", fix="remove the augment section for this task")
    return frame.assign(id=frame["id"].astype(str), text=frame["text"].astype(str))


def _candidates(train: pd.DataFrame, spec: Any, seed: int) -> pd.DataFrame:
    rows = []
    for entry in spec.augmenters:
        (name, settings), = entry.items()
        augmenter = build_augmenter(name, settings or {}, len(train))
        n_aug = eda_defaults(len(train))[1] if spec.n_aug == "auto" else int(spec.n_aug)
        made = augmenter.augment(train["text"].tolist(), n_aug, seed=seed)
        described = json.dumps(augmenter.settings(), sort_keys=True, default=str)
        for parent, variants in zip(train.itertuples(index=False), made.texts):
            for k, text in enumerate(variants):
                rows.append({"id": f"{parent.id}~{name}{k}", "text": text, "label": parent.label,
                             "parent_id": parent.id, "parent_text": parent.text,
                             "augmenter": name, "augment_settings": described})
    columns = ["id", "text", "label", "parent_id", "parent_text", "augmenter", "augment_settings"]
    return pd.DataFrame(rows, columns=columns)


def _filter(candidates: pd.DataFrame, train: pd.DataFrame, data: Path, spec: Any,
            seed: int) -> pd.Series:
    """The first reason each candidate fails, or "" for a kept one."""
    reasons = pd.Series("", index=candidates.index, dtype=object)
    if candidates.empty:
        return reasons
    originals = [train] + [pd.read_parquet(data / f"{s}.parquet")
                           for s in ("validation", "test") if (data / f"{s}.parquet").is_file()]
    seen = {_key(t) for frame in originals for t in frame["text"].astype(str)}
    keys = candidates["text"].map(_key)
    reasons[keys.isin(seen) | keys.duplicated()] = "duplicate"
    reasons[(reasons == "") & _near_eval(candidates, originals[1:], spec.near_threshold)] = "near_eval"
    similarity = _similarity(candidates)
    reasons[(reasons == "") & (similarity > spec.max_similarity)] = "too_similar"
    reasons[(reasons == "") & (similarity < spec.min_similarity)] = "too_different"
    if spec.min_prob > 0:
        reasons[(reasons == "") & ~_label_kept(candidates, train, spec.min_prob, seed)] = \
            "label_changed"
    return reasons


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _near_eval(candidates: pd.DataFrame, evaluation: list[pd.DataFrame],
               threshold: float) -> pd.Series:
    from thresher.split.leakage import check_leakage

    flagged = pd.Series(False, index=candidates.index)
    if not evaluation:
        return flagged
    parts = {"augmented": candidates[["id", "text"]],
             "evaluation": pd.concat([f[["id", "text"]].astype({"id": str}) for f in evaluation],
                                     ignore_index=True)}
    pairs = check_leakage(parts, threshold=threshold).pairs
    hits = set(pairs.loc[pairs["split_a"] == "augmented", "id_a"]) | \
        set(pairs.loc[pairs["split_b"] == "augmented", "id_b"])
    return candidates["id"].isin(hits)


def _similarity(candidates: pd.DataFrame) -> pd.Series:
    from thresher.ops.minhash import jaccard, shingle_set

    return pd.Series([jaccard(shingle_set(a), shingle_set(b)) for a, b in
                      zip(candidates["text"], candidates["parent_text"])], index=candidates.index)


def _label_kept(candidates: pd.DataFrame, train: pd.DataFrame, min_prob: float,
                seed: int) -> pd.Series:
    """Whether the baseline trained on the original rows still gives the parent's label."""
    from thresher.train.baseline import BaselineClassifier

    labels = train["label"].astype(str)
    reference = BaselineClassifier(seed=seed).fit(train["text"].tolist(), labels.tolist())
    probs = reference.predict_proba(candidates["text"].tolist())
    column = {y: i for i, y in enumerate(reference.labels)}
    wanted = candidates["label"].astype(str).map(column).to_numpy()
    return pd.Series(probs[np.arange(len(candidates)), wanted] >= min_prob,
                     index=candidates.index)


def _write(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _settings(spec: Any) -> dict[str, Any]:
    return {"augmenters": list(spec.augmenters), "n_aug": spec.n_aug,
            "min_prob": spec.min_prob, "min_similarity": spec.min_similarity,
            "max_similarity": spec.max_similarity, "near_threshold": spec.near_threshold}
