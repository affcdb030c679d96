"""``thresher audit``: rank likely label errors, outliers and near-duplicates for review.

Out-of-sample probabilities come from k-fold cross-validation (:mod:`thresher.quality.oof`);
cleanlab turns them into label issues (confident learning, ranked by self-confidence) and,
with the dense features, into outlier and near-duplicate issues (``Datalab``). The suspects
go to a CSV or JSONL file with empty ``decision`` / ``new_label`` columns for a reviewer; the
recipe step ``apply_review`` reads the file back and applies keep / relabel / drop with lineage.

How good the flags are depends on the classifier: a row is flagged when a model that never
saw it is confident in another label, so rows the model gets confidently wrong are flagged
too. ``bench/label_noise.py`` measures precision and recall against injected flips.
"""

from __future__ import annotations

import time
from collections import Counter
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thresher._files import atomic_path, write_json
from thresher.errors import DataError, InputError
from thresher.quality.oof import FEATURES, make_features, out_of_sample_probs

__all__ = ["AuditReport", "FILTERS", "SUSPECT_FORMATS", "audit", "read_rows"]

# cleanlab's find_label_issues methods; prune_by_noise_rate is its default
FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
           "predicted_neq_given", "low_self_confidence", "low_normalized_margin")
SUSPECT_FORMATS = (".csv", ".jsonl")
SPLITS = ("train", "validation", "test")
ISSUES = ("label_error", "outlier", "near_duplicate")
NEIGHBOURS = 10  # k of the nearest-neighbour graph behind outliers and near-duplicates
REVIEW_COLUMNS = ("decision", "new_label")  # what the reviewer fills in: keep | relabel | drop


@dataclass
class AuditReport:
    """Counts and settings (``to_dict``) and the suspects table (written, not in JSON)."""

    rows: int
    labels: list[str]
    settings: dict[str, Any]
    oof_accuracy: float  # out-of-sample predictions that agree with the given labels
    counts: dict[str, int]
    by_split: dict[str, dict[str, int]]
    by_label: dict[str, dict[str, int]]
    not_audited: dict[str, int]  # rows the reader rejected, by reason
    seconds: float
    suspects: pd.DataFrame = field(repr=False)
    label_scores: pd.Series = field(repr=False, default_factory=pd.Series)  # every row, by id
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        top = self.suspects.head(20)
        return {"rows": self.rows, "labels": self.labels, "settings": self.settings,
                "oof_accuracy": round(self.oof_accuracy, 4), "counts": self.counts,
                "by_split": self.by_split, "by_label": self.by_label,
                "not_audited": self.not_audited, "seconds": round(self.seconds, 2),
                "suspects": len(self.suspects), "files": self.files,
                "top": _json_rows(top.drop(columns=list(REVIEW_COLUMNS), errors="ignore"))}


def audit(source: str | Path, *, text: str | None = None, label: str | None = None,
          features: str = "tfidf", folds: int = 5, filter_by: str = "prune_by_noise_rate",
          seed: int = 13, out_dir: str | Path | None = None, suspects_format: str = ".csv",
          device: str = "cpu") -> AuditReport:
    """Audit a thresher run folder (all its splits) or a labelled data file.

    ``features``: tfidf (default), minilm, tfidf+minilm, or a local encoder folder.
    With ``out_dir`` (default ``RUN_DIR/audit`` for a run) writes ``audit.json`` and
    ``suspects.csv`` (or ``.jsonl``).
    """
    _check_settings(features, folds, filter_by, suspects_format)
    start = time.perf_counter()
    rows, not_audited = read_rows(source, text=text, label=label)
    names = sorted(rows["label"].unique().tolist())
    if len(names) < 2:
        raise DataError(f"every row has the label {names[0]!r}: there is nothing to audit",
                        where=str(source), fix="audit data with at least two labels")
    given = rows["label"].map({n: i for i, n in enumerate(names)}).to_numpy()
    view = make_features(rows["text"].tolist(), features, device=device)
    probs = out_of_sample_probs(view, given, folds=folds, seed=seed)
    scores = _label_scores(given, probs)
    suspects = _suspects(rows, names, given, probs, scores, view.neighbours, filter_by)
    report = AuditReport(
        rows=len(rows), labels=names,
        settings={"features": view.description, "folds": folds, "filter_by": filter_by,
                  "seed": seed, "method": "cleanlab confident learning on k-fold probabilities"},
        oof_accuracy=float((probs.argmax(1) == given).mean()),
        counts={k: int(suspects["issues"].str.contains(k).sum()) for k in ISSUES},
        by_split=_tally(suspects, "split"), by_label=_tally(suspects, "label"),
        not_audited=not_audited, seconds=time.perf_counter() - start, suspects=suspects,
        label_scores=pd.Series(scores, index=rows["id"].to_numpy()))
    if out_dir is None and _is_run(source):
        out_dir = Path(source) / "audit"
    if out_dir is not None:
        _write(report, Path(out_dir), suspects_format)
    return report


def _check_settings(features: str, folds: int, filter_by: str, suffix: str) -> None:
    if features not in FEATURES and not Path(features).expanduser().is_dir():
        raise DataError(f"unknown features {features!r}",
                        fix=f"use one of {', '.join(FEATURES)}, or a local model folder")
    if folds < 2:
        raise DataError(f"folds must be at least 2, got {folds}", fix="e.g. folds=5")
    if filter_by not in FILTERS:
        raise DataError(f"unknown filter_by {filter_by!r}", fix=f"use one of {', '.join(FILTERS)}")
    if suffix not in SUSPECT_FORMATS:
        raise DataError(f"suspects can be written as {' or '.join(SUSPECT_FORMATS)}, not {suffix}")


def _is_run(source: str | Path) -> bool:
    return (Path(source) / "manifest.json").is_file()


def read_rows(source: str | Path, *, text: str | None = None, label: str | None = None
              ) -> tuple[pd.DataFrame, dict[str, int]]:
    """id, text, label (as strings) and split ("" for a file); plus rows not read, by reason."""
    if _is_run(source):
        parts = []
        for split in SPLITS:
            path = Path(source) / "data" / f"{split}.parquet"
            if path.is_file():
                parts.append(pd.read_parquet(path).assign(split=split))
        if not parts:
            raise InputError("the run folder has no data/*.parquet", where=str(source),
                             fix="run the recipe's data stage first (`thresher run`)")
        frame, not_read = pd.concat(parts, ignore_index=True), {}
    else:
        from thresher.io import read_source

        result = read_source(source, text=text, label=label)
        frame, not_read = result.table.assign(split=""), _reasons(result.rejects)
    if "label" not in frame.columns or "text" not in frame.columns:
        raise DataError("auditing labels needs a text and a label column", where=str(source),
                        fix="name them with --text and --label")
    frame = frame[["id", "text", "label", "split"]].copy()
    frame["label"] = frame["label"].astype(str)
    frame["text"] = frame["text"].astype(str)
    return frame.reset_index(drop=True), not_read


def _reasons(rejects: list[Any]) -> dict[str, int]:
    return dict(sorted(Counter(str(r.reason) for r in rejects).items()))


def _suspects(rows: pd.DataFrame, names: list[str], given: np.ndarray, probs: np.ndarray,
              label_score: np.ndarray, neighbours: Any, filter_by: str) -> pd.DataFrame:
    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cleanlab warns on tiny classes; the counts say it
        is_error = find_label_issues(given, probs, filter_by=filter_by)
    outlier, near = _neighbour_issues(given, probs, neighbours)
    table = rows.assign(
        suggested_label=[names[i] for i in probs.argmax(1)],
        label_score=label_score.round(4),
        given_label_probability=probs[np.arange(len(given)), given].round(4),
        outlier_score=outlier["outlier_score"].to_numpy().round(4),
        near_duplicate_of=[",".join(rows["id"].iloc[list(s)].astype(str)) for s in
                           near["near_duplicate_sets"]],
    )
    flags = pd.DataFrame({"label_error": is_error, "outlier": outlier["is_outlier_issue"].to_numpy(),
                          "near_duplicate": near["is_near_duplicate_issue"].to_numpy()})
    table["issues"] = flags.apply(lambda r: ",".join(k for k in ISSUES if r[k]), axis=1)
    table = table[table["issues"] != ""]
    # label errors first (most confident first), then outliers, then duplicates
    order = np.lexsort((table["outlier_score"], table["label_score"],
                        ~table["issues"].str.contains("label_error")))
    table = table.iloc[order].reset_index(drop=True)
    for column in REVIEW_COLUMNS:
        table[column] = ""
    return table


def _label_scores(given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """cleanlab's label quality (self-confidence): low means the label looks wrong."""
    from cleanlab.rank import get_label_quality_scores

    return get_label_quality_scores(given, probs)


def _neighbour_issues(given: np.ndarray, probs: np.ndarray, features: Any
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """cleanlab's outlier and near-duplicate issues over a cosine k-nearest-neighbour graph
    (built here, because Datalab's own search needs dense features)."""
    from cleanlab import Datalab
    from sklearn.neighbors import NearestNeighbors

    k = min(NEIGHBOURS, len(given) - 1)
    graph = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(features)
    lab = Datalab(data={"label": given}, label_name="label", verbosity=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.find_issues(pred_probs=probs, knn_graph=graph.kneighbors_graph(mode="distance"),
                        issue_types={"outlier": {}, "near_duplicate": {}})
    return lab.get_issues("outlier"), lab.get_issues("near_duplicate")


def _tally(suspects: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for key, group in suspects.groupby(column, sort=True):
        found[str(key) or "all"] = {k: int(group["issues"].str.contains(k).sum()) for k in ISSUES}
    return found


def _write(report: AuditReport, out_dir: Path, suffix: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"suspects{suffix}"
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            report.suspects.to_csv(tmp, index=False)
        else:
            report.suspects.to_json(tmp, orient="records", lines=True, force_ascii=False)
    report.files = {"suspects": str(path), "summary": str(out_dir / "audit.json")}
    write_json(out_dir / "audit.json", report.to_dict())


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]
