"""Hugging Face datasets: a folder written by ``save_to_disk``, or ``hf:NAME[:CONFIG][@SPLIT]``.

A saved ``DatasetDict`` gives its ``train`` split unless ``folder#split`` names another.
``ClassLabel`` columns (and sequences of them, for NER tags) are turned into their names, since
those are what the dataset declares its classes to be. The row number (1-based) stands in for
the line. The Hub is only asked for ``hf:`` names; when it cannot be reached the error says how
to bring the data over as a saved folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from thresher.errors import DataError, InputError
from thresher.io.result import RawTable
from thresher.io.values import is_missing

__all__ = ["HF_MARKERS", "dataset_fingerprint", "parse_hub_spec", "read_hf_disk", "read_hf_hub"]

HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


def _datasets() -> Any:
    try:
        import datasets
    except ImportError as err:
        raise InputError("reading Hugging Face datasets needs the 'datasets' package",
                         where="datasets", fix="pip install datasets") from err
    return datasets


def _class_names(feature: Any) -> list[str] | None:
    names = getattr(feature, "names", None)
    return list(names) if names else None


def _name_of(names: list[str], value: Any) -> Any:
    """A ClassLabel index -> its name; -1 (HF's "no label") -> None."""
    if is_missing(value) or isinstance(value, str):
        return None if is_missing(value) else value
    index = int(value)
    return names[index] if 0 <= index < len(names) else None


def _to_raw(dataset: Any) -> RawTable:
    frame = dataset.to_pandas().astype(object)
    for column, feature in dataset.features.items():
        inner = feature[0] if isinstance(feature, list) and feature else getattr(feature, "feature", None)
        names, inner_names = _class_names(feature), _class_names(inner)
        if names:
            frame[column] = [_name_of(names, v) for v in frame[column]]
        elif inner_names:
            frame[column] = [None if v is None else [_name_of(inner_names, t) for t in list(v)]
                             for v in frame[column]]
    return RawTable(frame=frame, lines=list(range(1, len(frame) + 1)))


def dataset_fingerprint(dataset_or_path: Any) -> str:
    """sha256 over the dataset's Arrow cache files (empty when it has none)."""
    files = [c["filename"] for c in getattr(dataset_or_path, "cache_files", [])]
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest() if files else ""


def _pick_split(loaded: Any, split: str | None, where: str) -> Any:
    datasets = _datasets()
    if not isinstance(loaded, datasets.DatasetDict):
        return loaded
    chosen = split or "train"
    if chosen not in loaded:
        shown = ", ".join(sorted(loaded))
        raise DataError(f"the dataset has no split {chosen!r}; its splits are {shown}", where=where,
                        fix=f"pass {where.split('#')[0]}#<split>, one of {shown}")
    return loaded[chosen]


def read_hf_disk(path: Path, split: str | None, where: str) -> RawTable:
    """A dataset saved with ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``)."""
    datasets = _datasets()
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as err:
        raise InputError(f"not a readable saved dataset ({err})", where=where,
                         fix="pass the folder written by Dataset.save_to_disk") from err
    dataset = _pick_split(loaded, split, where)
    if len(dataset) == 0:
        raise InputError("the dataset has no rows", where=where, fix="pass a dataset with data")
    return _to_raw(dataset)


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """``hf:NAME[:CONFIG][@SPLIT]`` -> (name, config, split); the split defaults to train."""
    body = spec[3:]
    body, _, split = body.partition("@")
    name, _, config = body.partition(":")
    if not name:
        raise InputError("no dataset name after 'hf:'", where=spec, fix="write hf:NAME[:CONFIG][@SPLIT]")
    return name, config or None, split or "train"


def _hub_error(name: str, spec: str, err: Exception) -> InputError:
    offline = any(os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
    why = "offline mode is on (HF_HUB_OFFLINE)" if offline else "the Hub is unreachable or has no such dataset"
    return InputError(f"cannot load {name!r} from the Hugging Face Hub: {why} ({type(err).__name__}: {err})",
                      where=spec,
                      fix=f"on a machine with internet run datasets.load_dataset({name!r})"
                          ".save_to_disk(FOLDER), copy FOLDER here and pass its path")


def read_hf_hub(spec: str) -> tuple[RawTable, str]:
    """Load from the Hub (or its local cache); returns the rows and a fingerprint."""
    datasets = _datasets()
    name, config, split = parse_hub_spec(spec)
    try:
        dataset = datasets.load_dataset(name, config, split=split)
    except (OSError, ValueError) as err:
        raise _hub_error(name, spec, err) from err
    if len(dataset) == 0:
        raise InputError("the dataset split has no rows", where=spec, fix="choose another split with @SPLIT")
    return _to_raw(dataset), dataset_fingerprint(dataset)
