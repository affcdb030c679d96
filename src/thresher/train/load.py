"""Load a saved model of either kind (transformer, baseline) and any task from the folder
``train_run`` wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thresher.errors import ModelError
from thresher.train.classifier import Classifier
from thresher.train.files import read_json

__all__ = ["load_classifier"]


def load_classifier(folder: Path, device: str = "auto") -> Classifier:
    """The classifier saved in ``folder`` (``model/`` or ``baseline/`` of a run folder)."""
    folder = Path(folder)
    info_path = folder / "thresher_model.json"
    if not info_path.is_file():
        raise ModelError(
            "no trained model here (thresher_model.json is missing)",
            where=str(folder),
            fix="Pass the model/ or baseline/ folder of a run that finished training",
        )
    info = read_json(info_path)
    kind, task = info.get("kind"), info.get("task", "classification")
    try:
        if kind == "baseline":
            return _baseline_class(task).load(folder)
        if kind == "transformer" and task == "ner":
            from thresher.train.ner import TokenTagger

            return TokenTagger.load(folder, device=device)
        if kind == "transformer":
            from thresher.train.transformer import TransformerClassifier

            return TransformerClassifier.load(folder, device=device)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ModelError(
            f"the saved {kind} model cannot be loaded: {exc}",
            where=str(folder),
            fix="The folder is incomplete or from another version; train again",
        ) from exc
    raise ModelError(
        f"unknown model kind {kind!r} in thresher_model.json",
        where=str(info_path),
        fix='Expected "transformer" or "baseline"; retrain with this version of thresher',
    )


def _baseline_class(task: str) -> Any:
    if task == "multilabel":
        from thresher.train.multilabel import MultiLabelBaseline

        return MultiLabelBaseline
    if task == "ner":
        from thresher.train.ner import FrequentTagBaseline

        return FrequentTagBaseline
    from thresher.train.baseline import BaselineClassifier

    return BaselineClassifier
