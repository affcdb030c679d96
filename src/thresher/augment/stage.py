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

NER rows (``tokens`` and ``tags`` columns) take only the ``ner`` augmenter (``EntityAugment``),
which takes no other rows. Their candidates carry ``tokens`` and ``tags`` (no label; their
sentence as ``text``, for reading) and are checked, in order, for tags that are not a valid
BIO tagging of the tokens (``bad_tags``), the same token sequence as an original row or an
earlier candidate (``duplicate``), then ``near_eval`` and the similarity band on the tokens
joined as text (``ner_text``: characters without spaces, words with). The reference-classifier
check (``label_changed``) does not apply: a tagged sentence has no sentence label to keep, and
the augmenter only makes changes it can tag; the result's settings say so.
"""

from __future__ import annotations

import inspect
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
from thresher.augment.ner_augment import EntityAugment, bio_problem, ner_text
from thresher.augment.noise import CharNoise
from thresher.augment.sentences import SentenceMix
from thresher.errors import DataError, RecipeError

__all__ = ["AUGMENTERS", "AugmentResult", "augment_run", "build_augmenter",
           "check_task_augmenters"]

AUGMENTERS: dict[str, type[Augmenter]] = {
    cls.name: cls for cls in (Eda, CharNoise, SentenceMix, BackTranslate, MaskedLM, LlmParaphrase,
                              EntityAugment)}
AUGMENTED = "augmented.parquet"
AUGMENT_REJECTS = "augment_rejects.parquet"
NER_COLUMNS = ["tokens", "tags"]
NO_LABEL_CHECK = ("not applied to ner rows: a tagged sentence has no sentence label, and the ner "
                  "augmenter only makes changes it can tag")


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
    known = list(inspect.signature(AUGMENTERS[name]).parameters)
    unknown = sorted(set(settings) - set(known))
    if unknown:  # a TypeError from the constructor would not say where or what is allowed
        raise RecipeError(f"unknown setting(s) {', '.join(map(repr, unknown))} for augmenter "
                          f"{name!r}", where=f"augment.augmenters.{name}",
                          fix=f"known settings: {', '.join(known)}")
    if name in ("eda", "ner"):  # ner's synonym replacement is EDA's: the same alpha table
        alpha, _ = eda_defaults(train_rows)
        alphas = ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd") if name == "eda" else ("alpha_sr",)
        for key in alphas:
            settings.setdefault(key, alpha)
    augmenter = AUGMENTERS[name](**settings)
    check = getattr(augmenter, "check", None)
    if check is not None:
        try:
            check()
        except ValueError as exc:
            raise RecipeError(str(exc), where=f"augment.augmenters.{name}") from None
    return augmenter


def check_task_augmenters(names: list[str], task: str,
                          where: str = "augment.augmenters") -> None:
    """NER rows take only the ``ner`` augmenter, and ``ner`` takes only NER rows."""
    for name in names:
        if name not in AUGMENTERS:
            continue  # build_augmenter names the known ones
        if task == "ner" and name != EntityAugment.name:
            raise RecipeError(f"augmenter {name!r} does not apply to ner rows (tokens and tags)",
                              where=where, fix="ner rows take only the augmenter ner: "
                                               "augmenters: [ner]")
        if task != "ner" and name == EntityAugment.name:
            others = ", ".join(sorted(n for n in AUGMENTERS if n != EntityAugment.name))
            raise RecipeError("the augmenter 'ner' applies to ner rows (tokens and tags) only",
                              where=where, fix=f"for {task} rows use one of: {others}")


def augment_run(run_dir: Path, spec: Any, *, seed: int = 13) -> AugmentResult:
    """Augment ``run_dir/data/train.parquet`` as the recipe's ``augment:`` section (spec) says."""
    data = Path(run_dir) / "data"
    train = _read(data / "train.parquet")
    ner = "tokens" in train.columns
    check_task_augmenters([next(iter(entry)) for entry in spec.augmenters],
                          "ner" if ner else "classification")
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
        by_augmenter=by_augmenter, settings=_settings(spec, ner),
        examples=[{"parent": p, "augmented": a} for p, a in
                  zip(kept["parent_text"].head(5), kept["text"].head(5))])


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("augmentation needs the training split", where=str(path),
                        fix="run the recipe's data stage (with a split section) first")
    frame = pd.read_parquet(path)
    if set(NER_COLUMNS) <= set(frame.columns):
        return _with_text(frame)
    if "text" not in frame.columns or "label" not in frame.columns:
        raise RecipeError("augment applies to classification data (text and label columns) "
                          "and ner data (tokens and tags columns)",
                          where="augment", fix="remove the augment section for this task")
    return frame.assign(id=frame["id"].astype(str), text=frame["text"].astype(str))


def _with_text(frame: pd.DataFrame) -> pd.DataFrame:
    """NER rows with string tokens and tags, and their sentence as ``text`` (for the filters)."""
    strings = lambda values: [str(v) for v in values]  # noqa: E731
    tokens = frame["tokens"].map(strings)
    return frame.assign(id=frame["id"].astype(str), tokens=tokens,
                        tags=frame["tags"].map(strings), text=tokens.map(ner_text))


def _candidates(train: pd.DataFrame, spec: Any, seed: int) -> pd.DataFrame:
    ner = "tokens" in train.columns
    rows = []
    for entry in spec.augmenters:
        (name, settings), = entry.items()
        augmenter = build_augmenter(name, settings or {}, len(train))
        n_aug = eda_defaults(len(train))[1] if spec.n_aug == "auto" else int(spec.n_aug)
        made = _made(augmenter, train, n_aug, seed, ner)
        described = json.dumps(augmenter.settings(), sort_keys=True, default=str)
        for parent, variants in zip(train.itertuples(index=False), made):
            for k, variant in enumerate(variants):
                rows.append({"id": f"{parent.id}~{name}{k}", **variant,
                             "parent_id": parent.id, "parent_text": parent.text,
                             "augmenter": name, "augment_settings": described})
    payload = [*NER_COLUMNS, "text"] if ner else ["text", "label"]
    columns = ["id", *payload, "parent_id", "parent_text", "augmenter", "augment_settings"]
    return pd.DataFrame(rows, columns=columns)


def _made(augmenter: Augmenter, train: pd.DataFrame, n_aug: int, seed: int, ner: bool
          ) -> list[list[dict[str, Any]]]:
    """Per training row, its variants as the columns they fill."""
    if ner:
        made = augmenter.augment_tokens(  # type: ignore[attr-defined]
            train["tokens"].tolist(), train["tags"].tolist(), n_aug, seed=seed)
        return [[{"tokens": tokens, "tags": tags, "text": ner_text(tokens)}
                 for tokens, tags in variants] for variants in made]
    texts = augmenter.augment(train["text"].tolist(), n_aug, seed=seed).texts
    return [[{"text": text, "label": label} for text in variants]
            for label, variants in zip(train["label"], texts)]


def _filter(candidates: pd.DataFrame, train: pd.DataFrame, data: Path, spec: Any,
            seed: int) -> pd.Series:
    """The first reason each candidate fails, or "" for a kept one."""
    reasons = pd.Series("", index=candidates.index, dtype=object)
    if candidates.empty:
        return reasons
    ner = "tokens" in candidates.columns
    originals = [train] + [_evaluation(data / f"{s}.parquet", ner)
                           for s in ("validation", "test") if (data / f"{s}.parquet").is_file()]
    column, key = ("tokens", "\x1f".join) if ner else ("text", _key)
    seen = {key(t) for frame in originals for t in frame[column]}
    keys = candidates[column].map(key)
    if ner:
        reasons[np.array([bio_problem(w, t) is not None for w, t in
                          zip(candidates["tokens"], candidates["tags"])])] = "bad_tags"
    alive = reasons == ""  # a candidate dropped for its tags is no earlier copy to keep out
    repeated = keys[alive].duplicated().reindex(keys.index, fill_value=False)
    reasons[alive & (keys.isin(seen) | repeated)] = "duplicate"
    reasons[(reasons == "") & _near_eval(candidates, originals[1:], spec.near_threshold)] = "near_eval"
    similarity = _similarity(candidates)
    reasons[(reasons == "") & (similarity > spec.max_similarity)] = "too_similar"
    reasons[(reasons == "") & (similarity < spec.min_similarity)] = "too_different"
    if spec.min_prob > 0 and not ner:  # see the module docstring
        reasons[(reasons == "") & ~_label_kept(candidates, train, spec.min_prob, seed)] = \
            "label_changed"
    return reasons


def _evaluation(path: Path, ner: bool) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    return _with_text(frame) if ner else frame.assign(text=frame["text"].astype(str))


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


def _settings(spec: Any, ner: bool = False) -> dict[str, Any]:
    found = {"augmenters": list(spec.augmenters), "n_aug": spec.n_aug,
             "min_prob": spec.min_prob, "min_similarity": spec.min_similarity,
             "max_similarity": spec.max_similarity, "near_threshold": spec.near_threshold}
    if ner:
        found.update(task="ner", min_prob=None, label_check=NO_LABEL_CHECK)
    return found
