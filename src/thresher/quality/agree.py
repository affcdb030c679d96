"""`agree`: how far annotators agree, and one label per item from their answers.

Before training on crowd or team labels, a person needs to know whether the labels mean
anything (agreement well above chance), which annotators to trust, and a single label per item.
This module ties the pieces together: read any annotation export into one table
(:mod:`~thresher.quality.annotations`), agreement statistics with bootstrap intervals
(:mod:`~thresher.quality.agreement`), majority vote and Dawid–Skene
(:mod:`~thresher.quality.aggregate`), and a report that says what was set aside and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from thresher._files import ensure_writable_dir, write_json, write_text
from thresher.errors import DataError, InputError
from thresher.quality.aggregate import TIE_RULE, DawidSkene, MajorityVote, dawid_skene, majority_vote
from thresher.quality.agreement import LEVELS, agreement_statistics, label_counts, order_labels
from thresher.quality.annotations import AnnotationSet, read_annotations, read_item_ids, tidy

__all__ = ["AgreementReport", "agree"]

SMOOTHING = 0.01  # Dawid–Skene additive smoothing of confusion and prior counts


@dataclass
class AgreementReport:
    """Agreement statistics, per-annotator figures and the consensus labels of one annotation file."""

    source: str
    format: str
    level: str
    labels: list[str]
    annotators: list[str]
    idle_annotators: list[str]
    n_items: int
    n_annotations: int
    columns: dict[str, str | None]
    skipped: dict[str, int]
    unknown_items: dict[str, Any] | None
    unannotated_items: int | None
    label_counts: dict[str, int]
    fleiss: dict[str, Any]
    alpha: dict[str, Any]
    cohen: dict[str, Any]
    per_annotator: list[dict[str, Any]]
    aggregation: dict[str, Any]
    bootstrap: dict[str, Any]
    notes: list[str]
    consensus: pd.DataFrame = field(repr=False)
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-item consensus table (that is consensus.csv), JSON safe."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "consensus"}
        out["consensus"] = {"items": int(len(self.consensus)), "ties": int(self.consensus["tie"].sum()),
                            "columns": list(self.consensus.columns), "file": self.files.get("consensus")}
        return out


def agree(path: str | Path, *, format: str | None = None, item: str | None = None,
          annotator: str | None = None, label: str | None = None, text: str | None = None,
          level: str = "nominal", order: Sequence[Any] | None = None, items: str | Path | None = None,
          unknown_items: str = "error", bootstrap: int = 1000, seed: int = 13,
          out_dir: str | Path | None = None) -> AgreementReport:
    """Read annotations, measure agreement, aggregate labels; with ``out_dir`` write
    ``agreement.json`` and ``consensus.csv`` there.

    ``format`` forces a reader (see :mod:`~thresher.quality.annotations`); ``item``,
    ``annotator``, ``label`` and ``text`` name columns (for Label Studio: ``label`` is the control,
    ``item``/``text`` keys of the task data). ``level`` is nominal, ordinal or interval, with
    ``order`` listing the labels from lowest to highest (numeric labels sort by value without
    it). ``items`` is a file of known item ids; annotations on other items are an error, or
    with ``unknown_items="drop"`` dropped and counted. ``bootstrap`` draws of items (0: none)
    give the 95% intervals, reproducibly for one ``seed``.
    """
    start = time.perf_counter()
    _check_options(level, unknown_items, bootstrap)
    if out_dir is not None:
        ensure_writable_dir(Path(out_dir))
    raw = read_annotations(path, format=format, item=item, annotator=annotator, label=label, text=text)
    known = read_item_ids(items) if items is not None else None
    data = tidy(raw, known_items=known, unknown_items=unknown_items)
    _require_two_annotators(data, str(path))
    coded = _Coded.build(data, level, order)
    stats = agreement_statistics(coded.matrix, coded.labels, data.annotators, level=level,
                                 values=coded.values, bootstrap=bootstrap, seed=seed)
    model, vote = _aggregate(coded)
    report = AgreementReport(
        source=str(path), format=data.format, level=level, labels=coded.labels,
        annotators=data.annotators, idle_annotators=data.idle_annotators, n_items=len(coded.items),
        n_annotations=len(data.table), columns=data.columns, skipped=data.counts,
        unknown_items=data.unknown_items, unannotated_items=data.unannotated_items,
        label_counts=coded.label_totals(), fleiss=stats["fleiss"], alpha=stats["alpha"], cohen=stats["cohen"],
        per_annotator=_per_annotator(coded, data.annotators, model, vote),
        aggregation=_aggregation_summary(coded, data.annotators, model, vote),
        bootstrap=stats["bootstrap"], notes=_notes(data), consensus=_consensus(coded, model, vote))
    report.seconds = round(time.perf_counter() - start, 3)
    if out_dir is not None:
        _write(report, Path(out_dir))
    return report


def _check_options(level: str, unknown_items: str, bootstrap: int) -> None:
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", where="level", fix="use nominal, ordinal or interval")
    if unknown_items not in ("error", "drop"):
        raise InputError(f"unknown_items must be 'error' or 'drop', not {unknown_items!r}",
                         where="unknown_items", fix="use error (the default) or drop")
    if not isinstance(bootstrap, int) or bootstrap < 0:
        raise InputError(f"bootstrap must be a whole number of draws (0 or more), not {bootstrap!r}",
                         where="bootstrap", fix="use 1000 (the default), or 0 for no intervals")


def _require_two_annotators(data: AnnotationSet, source: str) -> None:
    if len(data.annotators) >= 2:
        return
    idle = f" ({', '.join(data.idle_annotators)} labelled nothing)" if data.idle_annotators else ""
    if not data.annotators:
        raise DataError(f"no annotation has a label{idle}", where=source,
                        fix="check that the label column (label=) holds the answers")
    raise DataError(f"agreement needs at least two annotators; {source} has one ({data.annotators[0]})"
                    f"{idle}", fix="add the other annotators' labels to the file "
                    "(one row per item, annotator and label)")


@dataclass
class _Coded:
    """The annotations as integer codes: an (items, annotators) matrix with -1 for missing."""

    items: list[str]
    texts: list[Any] | None
    labels: list[str]
    values: np.ndarray | None
    matrix: np.ndarray
    item: np.ndarray  # per annotation: item, annotator and label codes
    annotator: np.ndarray
    label: np.ndarray

    @classmethod
    def build(cls, data: AnnotationSet, level: str, order: Sequence[Any] | None) -> _Coded:
        table = data.table
        labels, values = order_labels(table["label"].unique().tolist(), level, order)
        item, names = pd.factorize(table["item"])  # file order
        who = table["annotator"].map({a: i for i, a in enumerate(data.annotators)}).to_numpy()
        code = table["label"].map({v: i for i, v in enumerate(labels)}).to_numpy()
        matrix = np.full((len(names), len(data.annotators)), -1, dtype=np.int64)
        matrix[item, who] = code
        texts = None
        if table["text"].notna().any():
            first = table.dropna(subset=["text"]).drop_duplicates("item").set_index("item")["text"]
            texts = [first.get(name) for name in names]
        return cls(list(names), texts, labels, values, matrix, item, who.astype(np.int64), code.astype(np.int64))

    @property
    def text_rank(self) -> np.ndarray:
        rank = np.empty(len(self.labels), dtype=np.int64)
        rank[np.argsort(np.array(self.labels, dtype=object), kind="stable")] = np.arange(len(self.labels))
        return rank

    def label_totals(self) -> dict[str, int]:
        totals = np.bincount(self.label, minlength=len(self.labels))
        return {name: int(n) for name, n in zip(self.labels, totals)}


def _aggregate(coded: _Coded) -> tuple[DawidSkene, MajorityVote]:
    model = dawid_skene(coded.item, coded.annotator, coded.label, n_items=len(coded.items),
                        n_annotators=coded.matrix.shape[1], n_labels=len(coded.labels), smoothing=SMOOTHING)
    vote = majority_vote(label_counts(coded.matrix, len(coded.labels)), coded.text_rank, model.posterior)
    return model, vote


def _per_annotator(coded: _Coded, annotators: list[str], model: DawidSkene,
                   vote: MajorityVote) -> list[dict[str, Any]]:
    """Each annotator against the consensus, on items someone else labelled too."""
    shared = (coded.matrix >= 0).sum(1) >= 2
    ds_label = model.label(coded.text_rank)
    rows = []
    for r, name in enumerate(annotators):
        mine = coded.matrix[:, r] >= 0
        compared = mine & shared
        row: dict[str, Any] = {"annotator": name, "items": int(mine.sum()), "items_compared": int(compared.sum())}
        if compared.any():
            given = coded.matrix[compared, r]
            row["agreement_majority"] = float((given == vote.label[compared]).mean())
            row["agreement_ds"] = float((given == ds_label[compared]).mean())
        else:
            row["agreement_majority"] = row["agreement_ds"] = None
            row["why"] = "no item this annotator labelled was labelled by anyone else"
        row["ds_accuracy"] = float((model.priors * np.diag(model.confusion[r])).sum())
        rows.append(row)
    return rows


def _aggregation_summary(coded: _Coded, annotators: list[str], model: DawidSkene,
                         vote: MajorityVote) -> dict[str, Any]:
    ds_label = model.label(coded.text_rank)
    return {
        "majority": {"ties": int(vote.tie.sum()), "tie_rule": TIE_RULE},
        "dawid_skene": {
            "iterations": model.iterations, "converged": model.converged,
            "log_likelihood": model.log_likelihood, "smoothing": SMOOTHING,
            "priors": {name: float(p) for name, p in zip(coded.labels, model.priors)},
            "confusion": {name: model.confusion[r].round(6).tolist() for r, name in enumerate(annotators)},
            "confusion_note": "rows: true label, columns: the annotator's label, both in the order of labels",
            "mean_confidence": float(model.confidence.mean()),
        },
        "majority_equals_ds": float((vote.label == ds_label).mean()),
    }


def _consensus(coded: _Coded, model: DawidSkene, vote: MajorityVote) -> pd.DataFrame:
    labels = np.array(coded.labels, dtype=object)
    table = pd.DataFrame({"item": coded.items})
    if coded.texts is not None:
        table["text"] = coded.texts
    table["n_annotations"] = (coded.matrix >= 0).sum(1)
    table["label_majority"] = labels[vote.label]
    table["tie"] = vote.tie
    table["tied_labels"] = ["|".join(labels[t]) for t in vote.tied]
    table["label_ds"] = labels[model.label(coded.text_rank)]
    table["confidence"] = model.confidence.round(6)
    return table


def _notes(data: AnnotationSet) -> list[str]:
    notes = list(data.notes)
    if data.idle_annotators:
        idle = len(data.idle_annotators)
        notes.append(f"{idle} annotator{'s' if idle != 1 else ''} labelled nothing, left out of the "
                     f"statistics: {', '.join(data.idle_annotators)}")
    if data.unknown_items:
        notes.append(f"{data.unknown_items['annotations']} annotations on {data.unknown_items['items']} "
                     "items not in the items file were dropped")
    return notes


def _write(report: AgreementReport, out_dir: Path) -> None:
    report.files = {"agreement": str(out_dir / "agreement.json"), "consensus": str(out_dir / "consensus.csv")}
    write_text(out_dir / "consensus.csv", report.consensus.to_csv(index=False))
    write_json(out_dir / "agreement.json", report.to_dict())
