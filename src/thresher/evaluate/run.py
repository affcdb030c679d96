"""Evaluate a run folder: score model/ (and baseline/) on a split, write metrics.json,
predictions.parquet and plots/; optionally compare with an earlier run (``compare``).

Reads ``data/{split}.parquet`` and ``data/validation.parquet``; every file is written
atomically, so a killed evaluation leaves the previous results or none, never half of them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from thresher.errors import DataError, ModelError
from thresher._files import write_json, write_parquet
from thresher.evaluate.bootstrap import paired_bootstrap_delta
from thresher.evaluate.compare import ScoredRun, compare_runs, scored_run
from thresher.evaluate.plots import (
    plot_confusion_matrix,
    plot_pr,
    plot_reliability,
    plot_roc,
    plot_training_curves,
)
from thresher.evaluate.scoring import (SplitScores, default_loader, score_split, unseen_note,
                                       worst_examples)
from thresher.evaluate.significance import paired_mcnemar
from thresher.records import make_id
from thresher.train.tracking import log_test_metrics

if TYPE_CHECKING:
    from thresher.train.classifier import Classifier

__all__ = ["Loader", "evaluate_run"]

Loader = Callable[..., "Classifier"]  # called as loader(folder, device=...)
WORST_EXAMPLES = 20


def evaluate_run(
    run_dir: Path,
    split: str = "test",
    progress: bool = False,
    *,
    batch_size: int = 64,
    device: str = "auto",
    loader: Loader | None = None,
    compare: Path | None = None,
) -> dict[str, Any]:
    """Score the run's model on ``split``, write the results into ``run_dir``, return metrics.json.

    Scores ``model/`` on ``data/{split}.parquet`` (and on ``data/validation.parquet`` when it
    exists), and ``baseline/`` on the same rows when present, with a paired McNemar test.
    Rows whose label the model never saw are predicted but left out of the metrics and
    counted in ``unseen_labels``. ``loader(folder, device=...)`` loads a classifier; it defaults
    to :func:`thresher.train.load_classifier`. ``compare``: an earlier evaluated run folder;
    metrics.json then holds ``compare`` (see :func:`~thresher.evaluate.compare.compare_runs`).
    """
    run_dir = Path(run_dir)
    model_dir = _require_model(run_dir)
    card = _read_json(model_dir / "thresher_model.json", {})
    task = card.get("task", "classification")
    if task in ("sft", "seq2seq"):  # a causal LM: loss, perplexity and generated answers
        from thresher.evaluate.sft import evaluate_sft

        metrics = evaluate_sft(run_dir, split, device=device)
    elif task in ("multilabel", "ner"):  # scored as label sets / entity spans, in their own modules
        from thresher.evaluate.multilabel import evaluate_multilabel
        from thresher.evaluate.ner import evaluate_ner

        scorer = evaluate_multilabel if task == "multilabel" else evaluate_ner
        metrics = scorer(run_dir, split, progress, batch_size=batch_size, device=device,
                         loader=loader)
    else:
        metrics = _evaluate_classification(run_dir, card, split, progress, batch_size, device,
                                           loader, compare)
    log_test_metrics(run_dir, metrics)  # into the model's MLflow run, when it was trained with one
    return metrics


def _evaluate_classification(run_dir: Path, card: dict[str, Any], split: str, progress: bool,
                             batch_size: int, device: str, loader: Loader | None,
                             compare: Path | None) -> dict[str, Any]:
    """metrics.json and predictions.parquet of a (single-label) classifier and its baseline."""
    started = time.perf_counter()
    frame = read_split(run_dir, split)
    earlier = None if compare is None else scored_run(Path(compare))  # fail before the slow part
    load = loader or default_loader()
    model = load(run_dir / "model", device=device)
    main = _scored(model, frame, split, batch_size, progress)
    metrics: dict[str, Any] = {
        "labels": main.labels,
        "model": {**card, "path": "model", "labels": main.labels, "class": type(model).__name__},
        "history": _read_json(run_dir / "model" / "training_history.json", []),
        "split": split,
        "splits": {split: main.metrics},
    }
    notes = [unseen_note(main.unseen_labels, len(frame))] if main.unseen_labels else []
    metrics["splits"].update(_validation_metrics(run_dir, split, model, batch_size, progress, notes))
    baseline = _baseline(run_dir, frame, split, batch_size, device, load)
    metrics["baseline"] = None if baseline is None else baseline[0]
    metrics["comparison"] = None if baseline is None else _comparison(main, baseline[1])
    metrics["compare"] = (None if earlier is None
                          else compare_runs(_as_scored(run_dir, split, main), earlier))
    metrics["worst_examples"] = worst_examples(main, WORST_EXAMPLES)
    metrics["unseen_labels"] = main.unseen_labels
    metrics["plots"] = _write_plots(run_dir, main, None if baseline is None else baseline[1],
                                    metrics["history"])
    metrics["notes"] = notes
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    write_parquet(run_dir / "predictions.parquet", main.table)
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _require_model(run_dir: Path) -> Path:
    model_dir = run_dir / "model"
    if not model_dir.is_dir():
        raise ModelError("no trained model found", where=str(model_dir),
                         fix=f"run `thresher train {run_dir}` first")
    return model_dir


def read_split(run_dir: Path, split: str) -> pd.DataFrame:
    """``data/{split}.parquet`` with string ``id``, ``text`` and ``label`` columns; never empty."""
    path = run_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        present = sorted(p.stem for p in (run_dir / "data").glob("*.parquet"))
        fix = (f"choose one of the splits present ({', '.join(present)})" if present else
               "prepare the data first: it writes data/train.parquet, validation.parquet and test.parquet")
        raise DataError(f"the {split!r} split does not exist", where=str(path), fix=fix)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise DataError(f"cannot read the split: {exc}", where=str(path),
                        fix="prepare the data again to rewrite it") from exc
    missing = [column for column in ("text", "label") if column not in frame.columns]
    if missing:
        raise DataError(f"the split has no column {missing}", where=str(path),
                        fix="a classification split needs 'text' and 'label' columns")
    if frame.empty:
        raise DataError(f"the {split!r} split has no rows", where=str(path),
                        fix="prepare the data again with a larger share of rows for this split")
    out = _normalised(frame)
    from thresher.train.run import run_task

    _, pair = run_task(run_dir, None, None)
    if pair and pair in frame.columns:  # sentence pairs: the model reads (text, pair)
        out["text_pair"] = frame[pair].fillna("").astype(str).to_numpy()
    return out


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    # Labels are strings everywhere in thresher ("1" from CSV and 1 from JSON are one class).
    out = pd.DataFrame({"text": frame["text"].fillna("").astype(str), "label": frame["label"].astype(str)})
    ids = frame["id"].astype(str) if "id" in frame.columns else None
    out.insert(0, "id", ids if ids is not None else [make_id(i, t) for i, t in enumerate(out["text"])])
    return out.reset_index(drop=True)


def _scored(
    model: Classifier, frame: pd.DataFrame, split: str, batch_size: int, progress: bool
) -> SplitScores:
    scores = score_split(model, frame, batch_size, progress)
    if scores.metrics is None:
        raise DataError(
            f"no row of the {split!r} split has a label the model knows (model labels "
            f"{scores.labels}, split labels {sorted(scores.unseen_labels)})",
            where=split, fix="evaluate the model on data labelled like its training data",
        )
    return scores


def _validation_metrics(run_dir: Path, split: str, model: Classifier, batch_size: int,
                        progress: bool, notes: list[str]) -> dict[str, Any]:
    if split == "validation" or not (run_dir / "data" / "validation.parquet").is_file():
        return {}
    try:
        frame = read_split(run_dir, "validation")
    except DataError as exc:  # an empty or unreadable validation split must not stop the rest
        notes.append(f"validation metrics skipped: {exc.message}")
        return {"validation": None}
    scores = score_split(model, frame, batch_size, progress)
    if scores.metrics is None:
        notes.append("validation metrics skipped: no row has a label the model knows "
                     f"{scores.unseen_labels}")
    return {"validation": scores.metrics}


def _baseline(run_dir: Path, frame: pd.DataFrame, split: str, batch_size: int, device: str,
              load: Loader) -> tuple[dict[str, Any], SplitScores] | None:
    folder = run_dir / "baseline"
    if not folder.is_dir():
        return None
    model = load(folder, device=device)
    scores = score_split(model, frame, batch_size, progress=False)
    info = {**_read_json(folder / "thresher_model.json", {}), "path": "baseline",
            "labels": scores.labels, "class": type(model).__name__}
    return {"model": info, "splits": {split: scores.metrics}}, scores


def _comparison(model: SplitScores, baseline: SplitScores) -> dict[str, Any] | None:
    """Accuracy and macro F1 of model minus baseline, and whether the difference is significant."""
    if model.metrics is None or baseline.metrics is None:
        return None
    both = model.seen & baseline.seen  # the rows both label spaces can judge
    truth, ours, theirs = (model.table["label"][both], model.table["predicted"][both],
                           baseline.table["predicted"][both])
    mcnemar = paired_mcnemar(truth, ours, theirs)
    mcnemar.update({"a": "model", "b": "baseline"})
    delta_ci = paired_bootstrap_delta(truth, ours, theirs) if both.any() else None
    m, b = model.metrics, baseline.metrics
    return {
        "metric": "accuracy",
        "model": m["accuracy"],
        "baseline": b["accuracy"],
        "delta": m["accuracy"] - b["accuracy"],
        "macro_f1": {"model": m["macro_f1"], "baseline": b["macro_f1"],
                     "delta": m["macro_f1"] - b["macro_f1"]},
        "mcnemar": mcnemar,
        "delta_ci": delta_ci,  # paired bootstrap interval of model minus baseline
    }


def _as_scored(run_dir: Path, split: str, scores: SplitScores) -> ScoredRun:
    table = scores.table[scores.seen][["id", "label", "predicted"]].astype(str).reset_index(drop=True)
    return ScoredRun(str(run_dir), split, scores.metrics or {}, table)


def _write_plots(run_dir: Path, scores: SplitScores, baseline: SplitScores | None,
                 history: list[dict[str, Any]]) -> dict[str, str]:
    """Draw the plots; returns {name: path relative to run_dir} for the report."""
    folder = run_dir / "plots"
    seen = scores.seen
    y, proba = scores.table["label"][seen].tolist(), scores.proba[seen]
    matrix = scores.metrics["confusion_matrix"]["matrix"] if scores.metrics else []
    calibrations = {"model": scores.metrics["calibration"]} if scores.metrics else {}
    if baseline is not None and baseline.metrics is not None:
        calibrations["baseline"] = baseline.metrics["calibration"]
    paths = [
        plot_confusion_matrix(matrix, scores.labels, folder / "confusion_matrix.png"),
        plot_roc(y, proba, scores.labels, folder / "roc.png"),
        plot_pr(y, proba, scores.labels, folder / "pr.png"),
        plot_reliability(calibrations, folder / "reliability.png"),
    ]
    if history:  # a model trained without epochs (the TF-IDF baseline) has no curves to draw
        paths.append(plot_training_curves(history, folder / "training_curves.png"))
    return {path.stem: path.relative_to(run_dir).as_posix() for path in paths}


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path.name}: {exc}", where=str(path),
                         fix="train the model again to rewrite it") from exc
