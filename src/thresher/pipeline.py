"""`thresher.run`: one recipe -> one run folder (data steps, split, train, evaluate, report).

Each finished data step is cached under ``OUT/.cache`` by a fingerprint of its input and
settings, and each later stage records its fingerprint in the manifest, so a re-run with the
same recipe skips what is done, and a killed run re-does only the unfinished stage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from thresher._version import __version__
from thresher._files import ensure_writable_dir, write_json, write_parquet
from thresher.engine.local import StepStats, run_step, summarize
from thresher.errors import DataError
from thresher.records import Reject, rejects_frame
from thresher.recipe import Recipe, load_recipe
from thresher.split import split_table

__all__ = ["RunResult", "run"]

Progress = Callable[[str], None]


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any] | None = None
    report: Path | None = None
    skipped: tuple[str, ...] = ()


def run(recipe: Recipe | str | Path, out_dir: str | Path, *, progress: bool = False,
        on_stage: Progress | None = None) -> RunResult:
    """Run every stage the recipe names; return the manifest and where things are."""
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    out = Path(out_dir)
    ensure_writable_dir(out)
    _remove_stale_temp_files(out)
    say = on_stage or (lambda _msg: None)
    manifest = _new_manifest(recipe, _read_manifest(out))
    skipped: list[str] = []
    say("data: read and clean")
    fingerprint, cached = _data_stage(recipe, out, manifest)
    if cached:
        skipped.append("data")
    write_json(out / "manifest.json", manifest)
    result = RunResult(out, manifest)
    for stage, wanted in (("train", recipe.train is not None),
                          ("evaluate", recipe.evaluate is not None)):
        if not wanted:
            continue
        fingerprint = _hash(fingerprint, stage, recipe.section_hash(stage))
        if _stage_done(out, manifest, stage, fingerprint):
            skipped.append(stage)
            continue
        say(stage)
        _run_stage(stage, recipe, out, manifest, fingerprint, progress)
    if (out / "metrics.json").exists() and recipe.evaluate is not None:
        result.metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    if recipe.report:
        say("report")
        from thresher.report import build_report

        result.report = build_report(out)
    result.skipped = tuple(skipped)
    return result


def _run_stage(stage: str, recipe: Recipe, out: Path, manifest: dict[str, Any],
               fingerprint: str, progress: bool) -> None:
    start = time.perf_counter()
    if stage == "train":
        from thresher.train import train_run

        train_run(out, recipe.train, progress=progress)
    else:
        from thresher.evaluate import evaluate_run

        evaluate_run(out, split=recipe.evaluate.split, progress=progress)
    manifest.setdefault("stages", {})[stage] = {
        "fingerprint": fingerprint, "seconds": round(time.perf_counter() - start, 2)}
    manifest["versions"] = _versions()
    write_json(out / "manifest.json", manifest)


def _remove_stale_temp_files(out: Path) -> None:
    """Temporary files left by a killed run (kill -9 skips cleanup); never read, so drop them."""
    for stale in out.rglob(".tmp-*"):
        if stale.is_file():
            stale.unlink(missing_ok=True)


def _stage_done(out: Path, manifest: dict[str, Any], stage: str, fingerprint: str) -> bool:
    marker = {"train": out / "model" / "thresher_model.json", "evaluate": out / "metrics.json"}
    done = manifest.get("stages", {}).get(stage, {}).get("fingerprint") == fingerprint
    return done and marker[stage].exists()


def _data_stage(recipe: Recipe, out: Path, manifest: dict[str, Any]) -> tuple[str, bool]:
    """Read, run the steps, split; write data/, rejects.parquet and the manifest's counts."""
    from thresher.io import read_source

    start = time.perf_counter()
    source = read_source(recipe.input.path, task=recipe.task,
                         **{k: v for k, v in dataclasses.asdict(recipe.input).items()
                            if k != "path" and v is not None})
    info = source.info.to_dict()
    manifest["inputs"] = [info]
    fingerprint = _hash(__version__, recipe.task, info.get("sha256"),
                        recipe.section_hash("input", "steps", "split", "seed"))
    if _data_cached(out, manifest, fingerprint):
        return fingerprint, True
    table, rejects = source.table, list(source.rejects)
    steps = [summarize("read", info.get("rows", len(table) + len(rejects)), table, rejects,
                       {"format": info.get("format"), "encoding": info.get("encoding")})]
    steps[0].seconds = time.perf_counter() - start
    for spec in recipe.steps:
        table, step_rejects, stats = run_step(spec.build(), table)
        rejects += step_rejects
        steps.append(stats)
        if table.empty:
            break
    parts = _split(recipe, table, rejects, steps)
    _write_data(out, parts, rejects)
    _record_counts(manifest, steps, parts, rejects, fingerprint)
    return fingerprint, False


def _split(recipe: Recipe, table: pd.DataFrame, rejects: list[Reject],
           steps: list[StepStats]) -> dict[str, pd.DataFrame]:
    if table.empty:
        raise DataError(
            f"no rows left after step '{steps[-1].name}' (rejected: {steps[-1].rejected})",
            where=str(recipe.input.path),
            fix="loosen that step's settings, or check the input columns with `thresher inspect`")
    if recipe.split is None:
        return {"all": table}
    start = time.perf_counter()
    spec = recipe.split
    result = split_table(table, validation=spec.validation, test=spec.test, seed=spec.seed,
                         stratify=spec.stratify, task=recipe.task)
    rejects += result.rejects
    kept = pd.concat(result.parts.values(), ignore_index=True)
    stats = summarize("split", len(table), kept, result.rejects, {"splits": result.info})
    stats.seconds = time.perf_counter() - start
    steps.append(stats)
    return result.parts


def _write_data(out: Path, parts: dict[str, pd.DataFrame], rejects: list[Reject]) -> None:
    for name, part in parts.items():
        write_parquet(out / "data" / f"{name}.parquet", part)
    write_parquet(out / "rejects.parquet", rejects_frame(rejects))


def _record_counts(manifest: dict[str, Any], steps: list[StepStats],
                   parts: dict[str, pd.DataFrame], rejects: list[Reject], fp: str) -> None:
    read = steps[0].rows_in
    kept = sum(len(p) for p in parts.values())
    if read != kept + len(rejects):
        raise AssertionError(f"{read} rows read but {kept} kept + {len(rejects)} rejected")
    manifest["steps"] = [s.to_dict() for s in steps]
    manifest["splits"] = {name: len(part) for name, part in parts.items()}
    manifest["rows"] = {"read": read, "kept": kept, "rejected": len(rejects)}
    manifest["data_fingerprint"] = fp
    manifest.pop("stages", None)  # new data: later stages must run again


def _data_cached(out: Path, manifest: dict[str, Any], fingerprint: str) -> bool:
    files = [out / "rejects.parquet"] + [out / "data" / f"{n}.parquet" for n in
                                         manifest.get("splits", {})]
    return manifest.get("data_fingerprint") == fingerprint and all(f.exists() for f in files)


def _new_manifest(recipe: Recipe, previous: dict[str, Any]) -> dict[str, Any]:
    keep = {k: previous[k] for k in ("steps", "splits", "rows", "data_fingerprint", "stages")
            if k in previous}
    return {
        "thresher_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "name": recipe.name,
        "task": recipe.task,
        "recipe": recipe.to_dict(),
        "seed": recipe.seed,
        "versions": _versions(),
        **keep,
    }


def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, json.JSONDecodeError):
        return {}  # a foreign or broken manifest: start over rather than trust it


def _versions() -> dict[str, str]:
    import platform
    import sys

    versions = {"python": platform.python_version(), "thresher": __version__}
    for name in ("pandas", "pyarrow", "datasets", "torch", "transformers", "peft", "sklearn"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    return versions


def _hash(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
