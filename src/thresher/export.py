"""``thresher export RUN --onnx``: the fine-tuned model as an ONNX file, checked against torch.

The graph takes what thresher's own prediction feeds the model: ``input_ids`` and
``attention_mask`` (int64, right-padded; plus ``token_type_ids`` for a sentence-pair model),
with dynamic batch and sequence axes, and returns ``logits`` (one row per text; per token for
an NER tagger). It is exported with torch's ``torch.export``-based exporter (``dynamo=True``,
opset 18, needs ``onnxscript``): on a BERT under transformers 5.x the older TorchScript
exporter traces the attention-mask code into a graph whose logits differ by ~1e-2 from
torch's, the dynamo one by ~1e-8. An export is only trusted after a check: onnxruntime and
torch score the same real rows (all together, padded, and the first alone, so both dynamic
axes are exercised) and the largest absolute difference of the logits must stay under
``tolerance``. The result goes to ``export.json`` in the run folder either way.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from thresher._files import write_json
from thresher.errors import ModelError, OutputError

__all__ = ["CHECK_ROWS", "OPSET", "TOLERANCE", "export_onnx"]

OPSET = 18  # the dynamo exporter's own opset; asking for 17 adds a lossy version conversion
TOLERANCE = 1e-3  # fp32 logits; measured differences are ~1e-8 on BERT-like models
CHECK_ROWS = 16
INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # in this order, where present
EXTERNAL_DATA_ABOVE = 1_800_000_000  # bytes of weights; protobuf files stop at 2 GB
FALLBACK_TEXTS = [  # check rows for a run folder without data
    "The room was clean and the staff were friendly.", "电池不耐用，客服态度也很差。",
    "Delivery took three weeks.", "质量很好，非常满意！",
]


def export_onnx(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    opset: int = OPSET,
    rows: int = CHECK_ROWS,
    tolerance: float = TOLERANCE,
) -> dict[str, Any]:
    """Export ``run_dir/model`` to ``out`` (default ``run_dir/model.onnx``) and check it.

    Returns what it writes to ``run_dir/export.json``. Raises :class:`ModelError` when the run
    has no transformer model, the export packages are missing, or the check fails.
    """
    started = time.perf_counter()
    run_dir = Path(run_dir)
    versions = _require_packages()
    classifier = _load(run_dir / "model")
    out = Path(out) if out is not None else run_dir / "model.onnx"
    checked, source = _check_rows(run_dir, max(rows, 2), classifier.info)
    model = _plain_model(classifier.model)
    batch = _batch(classifier, checked)
    files = _export(model, batch, out, opset)
    check = _check(model, out, classifier, checked, tolerance)
    result = {
        "onnx": _shown(out, run_dir),
        "files": [_shown(f, run_dir) for f in files],
        "file_bytes": sum(f.stat().st_size for f in files),
        "opset": opset,
        "exporter": "torch.onnx.export(dynamo=True)",
        "inputs": list(batch),
        "outputs": ["logits"],
        "dynamic_axes": {name: ["batch", "sequence"] for name in batch},
        "labels": list(classifier.labels),
        "check": {**check, "source": source},
        "versions": versions,
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_json(run_dir / "export.json", result)
    if not check["passed"]:
        raise ModelError(
            f"the ONNX model's logits differ from torch's by up to {check['max_abs_diff']:.3g} "
            f"(tolerance {tolerance:g})", where=str(out),
            fix="report it with export.json; meanwhile predict with `thresher predict` (torch)")
    return result


def _require_packages() -> dict[str, str]:
    import torch

    versions = {"torch": torch.__version__}
    for name in ("onnx", "onnxruntime", "onnxscript"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError as exc:
            raise ModelError(f"ONNX export needs the {name} package ({exc})", where="export",
                             fix="install the export extra: pip install 'thresher[export]'") from exc
    return versions


def _load(folder: Path) -> Any:
    from thresher.train import load_classifier

    classifier = load_classifier(folder, device="cpu")
    if getattr(classifier, "kind", None) != "transformer":
        raise ModelError(
            f"only fine-tuned transformers export to ONNX, not a {type(classifier).__name__}",
            where=str(folder), fix="train a transformer model for this run first")
    return classifier


def _plain_model(model: Any) -> Any:
    """fp32, eval mode, LoRA weights merged into the base: the graph needs no peft code."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    return model.float().eval()


def _check_rows(run_dir: Path, rows: int, info: dict[str, Any]) -> tuple[Any, str]:
    """Up to ``rows`` rows of the run's own data (test split first); built-in ones without data."""
    import pandas as pd

    wanted = ["tokens"] if info.get("task") == "ner" else ["text", *filter(None, [info.get("text_pair")])]
    for split in ("test", "validation", "train"):
        path = run_dir / "data" / f"{split}.parquet"
        if path.is_file():
            frame = pd.read_parquet(path)
            if set(wanted) <= set(frame.columns) and len(frame.dropna(subset=wanted)) >= 2:
                return frame.dropna(subset=wanted).head(rows), f"data/{split}.parquet"
    texts = FALLBACK_TEXTS[:rows]
    frame = pd.DataFrame({"text": texts, "tokens": [list(t.replace(" ", "")) for t in texts]})
    if info.get("text_pair"):
        frame[info["text_pair"]] = texts[::-1]
    return frame, "built-in sentences (the run folder has no data)"


def _batch(classifier: Any, rows: Any) -> dict[str, Any]:
    """The model's inputs for ``rows``, built as thresher's own prediction builds them."""
    from thresher.train.batches import collate, encode, encode_words

    info, tokenizer, max_length = classifier.info, classifier.tokenizer, classifier.max_length
    if info.get("task") == "ner":
        data = encode_words(tokenizer, [[str(w) for w in words] for words in rows["tokens"]], max_length)
    else:
        pairs = rows[info["text_pair"]].astype(str).tolist() if info.get("text_pair") else None
        data = encode(tokenizer, rows["text"].astype(str).tolist(), max_length, pairs=pairs)
    batch = collate(data, np.arange(len(data)))
    return {name: batch[name] for name in INPUTS if name in batch}


def _export(model: Any, batch: dict[str, Any], out: Path, opset: int) -> list[Path]:
    """Write the graph next to ``out`` under a temporary name, then rename: no half files."""
    import torch

    wrapper = _logits_only(model)
    dim = torch.export.Dim.DYNAMIC
    names = list(batch)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        with _quiet():
            torch.onnx.export(
                wrapper, tuple(batch.values()), str(staging / out.name),
                input_names=names, output_names=["logits"], opset_version=opset,
                dynamo=True, external_data=weights > EXTERNAL_DATA_ABOVE, verbose=False,
                dynamic_shapes=tuple({0: dim, 1: dim} for _ in names),
            )
        written = []
        for part in sorted(staging.iterdir()):  # the graph, and its weights file when external
            os.replace(part, out.parent / part.name)
            written.append(out.parent / part.name)
        return written
    except OSError as exc:
        raise OutputError(f"cannot write the ONNX file ({exc.strerror or exc})", where=str(out),
                          fix="choose an --out path you can write to") from None
    except Exception as exc:  # the exporter raises many types; the message is what helps
        raise ModelError(f"torch could not export this model to ONNX: {type(exc).__name__}: {exc}",
                         where=str(out), fix="report it with the model's config.json") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check(model: Any, out: Path, classifier: Any, rows: Any, tolerance: float) -> dict[str, Any]:
    """Largest |logit difference| between onnxruntime and torch over two batch shapes."""
    import onnxruntime
    import torch

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    diffs, shapes, same = [], [], True
    for part in (rows, rows.head(1)):  # all rows padded together, then the first row alone
        batch = _batch(classifier, part)
        with torch.inference_mode():
            expected = model(**batch).logits.float().numpy()
        got = session.run(["logits"], {name: tensor.numpy() for name, tensor in batch.items()})[0]
        diffs.append(float(np.abs(got - expected).max()))
        shapes.append(list(batch["input_ids"].shape))
        same = same and bool((got.argmax(-1) == expected.argmax(-1)).all())
    worst = max(diffs)
    return {"rows": len(rows), "shapes": shapes, "max_abs_diff": worst, "tolerance": tolerance,
            "same_predictions": same, "passed": worst <= tolerance}


@contextlib.contextmanager
def _quiet():
    """The exporter prints progress lines and warns about optional packages: keep them out."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _shown(path: Path, run_dir: Path) -> str:
    try:
        return path.resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def _logits_only(model: Any) -> Any:
    """A module taking the inputs positionally (what the exporter traces) and returning the logits."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            pair = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **pair).logits

    return LogitsOnly().eval()
