"""Resumable training: a checkpoint at every epoch end and every ``checkpoint_every`` steps.

A checkpoint holds all the loop needs to go on exactly where it stopped, so a run killed
mid-way and started again ends with the same weights and metrics as one never interrupted
(on CPU; GPU kernels may differ in the last bits): the trainable weights, AdamW's moments, the
schedule's position, the step and epoch, the random states (torch per process, numpy, python,
and the batch-order generators as they were when the epoch began, so the epoch's batches are
drawn again), the best-so-far weights and score, and the early-stopping counter.

Layout under the run folder::

    checkpoints/latest.json             names the newest complete checkpoint
    checkpoints/step-00000120-XXXX/     state.json, weights.safetensors, optimizer.pt,
                                        best.safetensors (the best epoch's weights, if any)

A checkpoint folder is filled under its own unique name; only then does ``latest.json`` (written
to a temporary file and renamed) point at it, and older folders are removed after that. A kill
at any moment leaves ``latest.json`` naming a complete folder, or no ``latest.json`` (a fresh
start). A checkpoint is used only when its fingerprint (settings that change the result, the
encoded data, the backbone, the number of processes) matches the run's.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from thresher.train.files import read_json, write_json

__all__ = ["CHECKPOINTS", "Checkpoints", "TrainState", "data_digest", "fingerprint"]

CHECKPOINTS = "checkpoints"  # the folder inside the run folder
# settings that change how training is recorded, not what it computes
_NOT_FINGERPRINTED = ("checkpoint_every", "keep_checkpoints", "mlflow")


@dataclass
class TrainState:
    """The loop's counters, saved in every checkpoint (``state.json``)."""

    epoch: int = 1  # the epoch in progress, from 1
    epoch_steps: int = 0  # optimiser steps already done in it
    step: int = 0  # optimiser steps done in all
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = -1.0
    bad_epochs: int = 0  # epochs since the best one (early stopping)
    done: bool = False  # stopped early or reached max_steps: nothing left to train
    loss_sum: float = 0.0  # the epoch in progress: summed training loss of this process's rows
    seen: int = 0  # ... and how many rows that sum covers
    batch_rngs: list[dict[str, Any]] = field(default_factory=list)  # epoch-start generator states


def fingerprint(config: Any, **parts: Any) -> str:
    """A short hash of the settings that change the result, plus ``parts`` (data, model...)."""
    settings = {f.name: getattr(config, f.name) for f in fields(config)
                if f.name not in _NOT_FINGERPRINTED}
    blob = json.dumps({"settings": settings, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def data_digest(*encoded: Any) -> str:
    """A hash of encoded splits: token ids, pair segments and labels, row by row."""
    h = hashlib.sha256()
    for data in encoded:
        h.update(np.asarray(data.lengths, dtype=np.int64).tobytes())
        for rows in (data.input_ids, data.token_type_ids):
            if rows is not None:
                h.update(np.fromiter((t for row in rows for t in row), dtype=np.int64).tobytes())
        labels = data.labels
        if isinstance(labels, np.ndarray):
            h.update(labels.tobytes())
        elif labels is not None:  # per-token labels (ner)
            h.update(np.fromiter((t for row in labels for t in row), dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()[:16]


@dataclass
class Found:
    """A checkpoint that matches this run: its folder and its state (tensors not yet read)."""

    folder: Path
    state: TrainState
    extra: dict[str, Any]


class Checkpoints:
    """Reads and writes the run's checkpoints; ``cluster`` decides who writes (process 0)."""

    def __init__(self, folder: Path, fingerprint: str, every: int, cluster: Any) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.every = every  # optimiser steps between mid-epoch checkpoints; 0 = epoch ends only
        self.cluster = cluster
        self.found: Found | None = None
        self.note: str | None = None  # what load() decided, in words (resumed / started fresh)
        self.extra: dict[str, Any] = {}  # saved along (e.g. the MLflow run to log into again)
        self._best: tuple[int, Path] | None = None  # (best epoch, file) written last, to link

    def load(self) -> Found | None:
        """The matching checkpoint, if any; ``note`` says whether it is used, and why."""
        pointer = self.folder / "latest.json"
        if not pointer.is_file():
            return None
        try:
            folder = self.folder / str(read_json(pointer)["folder"])
            saved = read_json(folder / "state.json")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.note = f"checkpoint in {self.folder} unreadable ({exc}): training starts fresh"
            return None
        if saved.get("fingerprint") != self.fingerprint:
            self.note = (f"the checkpoint in {self.folder} was written with other settings, data "
                         "or backbone: training starts fresh")
            return None
        state = TrainState(**saved["state"])
        self.found = Found(folder, state, saved.get("extra", {}))
        where = (f"after epoch {state.epoch - 1}" if state.epoch_steps == 0 else
                 f"epoch {state.epoch}, {state.epoch_steps} steps into it")
        self.note = f"resuming from the checkpoint at step {state.step} ({where})"
        return self.found

    def restore(self, model: Any, optimizer: Any, schedule: Any) -> tuple[TrainState, Any]:
        """Put the found checkpoint's weights, optimiser, schedule and random states back;
        returns its counters and the best-so-far weights (or None)."""
        import torch
        from safetensors.torch import load_file

        assert self.found is not None
        folder = self.found.folder
        _copy_into(model, load_file(str(folder / "weights.safetensors")))
        best = None
        if (folder / "best.safetensors").is_file():
            best = load_file(str(folder / "best.safetensors"))
        tensors = torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(tensors["optimizer"])
        schedule.load_state_dict(tensors["schedule"])
        torch.set_rng_state(tensors["torch_rng"][self.cluster.rank])
        if torch.cuda.is_available() and tensors.get("cuda_rng"):
            torch.cuda.set_rng_state(tensors["cuda_rng"][self.cluster.rank])
        saved = read_json(folder / "state.json")
        _set_python_rngs(saved["python_rng"], saved["numpy_rng"])
        return self.found.state, best

    def save(self, state: TrainState, model: Any, optimizer: Any, schedule: Any,
             best: dict[str, Any] | None) -> None:
        """Write a checkpoint of ``state`` (every process calls this; process 0 writes)."""
        import torch

        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        torch_rngs = self.cluster.gather(torch.get_rng_state())
        cuda_rngs = self.cluster.gather(torch.cuda.get_rng_state()) if cuda else []
        if not self.cluster.is_main:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"step-{state.step:08d}-", dir=self.folder))
        _save_weights(_trainable_state(model), folder / "weights.safetensors")
        if best is not None:
            self._save_best(best, state.best_epoch, folder / "best.safetensors")
        torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                    "torch_rng": torch_rngs, "cuda_rng": cuda_rngs}, folder / "optimizer.pt")
        python_rng, numpy_rng = _python_rngs()
        write_json(folder / "state.json", {
            "fingerprint": self.fingerprint, "state": asdict(state), "extra": self.extra,
            "python_rng": python_rng, "numpy_rng": numpy_rng})
        write_json(self.folder / "latest.json", {"folder": folder.name, "step": state.step})
        self._remove_all_but(folder.name)

    def remove(self) -> None:
        """Delete every checkpoint (after a successful finish)."""
        if self.cluster.is_main:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _save_best(self, best: dict[str, Any], epoch: int, path: Path) -> None:
        """The best weights change only when an epoch beats them: otherwise hard-link the file
        the last checkpoint wrote instead of writing the same bytes again."""
        if self._best is not None and self._best[0] == epoch and self._best[1].is_file():
            try:
                os.link(self._best[1], path)
                self._best = (epoch, path)
                return
            except OSError:
                pass  # a file system without hard links: write it
        _save_weights(best, path)
        self._best = (epoch, path)

    def _remove_all_but(self, keep: str) -> None:
        for path in self.folder.iterdir():
            if path.is_dir() and path.name != keep:
                shutil.rmtree(path, ignore_errors=True)


def _trainable_state(model: Any) -> dict[str, Any]:
    return {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}


def _save_weights(tensors: dict[str, Any], path: Path) -> None:
    from safetensors.torch import save_file

    save_file({n: t.detach().cpu().contiguous() for n, t in tensors.items()}, str(path))


def _copy_into(model: Any, tensors: dict[str, Any]) -> None:
    """Overwrite the trainable weights with a checkpoint's (the frozen rest never changes)."""
    import torch

    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in tensors]
    if missing or any(n not in params for n in tensors):
        example = (missing or [n for n in tensors if n not in params])[0]
        raise ValueError(f"checkpoint weights do not fit the model (e.g. {example})")
    with torch.no_grad():
        for name, value in tensors.items():
            params[name].copy_(value)


def _python_rngs() -> tuple[list[Any], list[Any]]:
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return [version, list(internal), gauss], [name, keys.tolist(), pos, has_gauss, cached]


def _set_python_rngs(python_rng: list[Any], numpy_rng: list[Any]) -> None:
    random.setstate((python_rng[0], tuple(python_rng[1]), python_rng[2]))
    name, keys, pos, has_gauss, cached = numpy_rng
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
