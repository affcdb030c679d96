"""`thresher.run`: one recipe -> one run folder (data steps, split, train, evaluate, report).

The data stage (read, steps, split) is skipped when the fingerprint of its input and settings
matches the manifest's, and each later stage records its fingerprint in the manifest, so a
re-run with the same recipe skips what is done, and a killed run re-does only the unfinished
stage. The engine (local processes or Ray) is a run option, not part of the recipe: the same
recipe gives the same run folder anywhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from thresher._version import __version__
from thresher._files import ensure_writable_dir, file_sha256, write_json
from thresher.engine import ShardEngine, make_engine
from thresher.engine.segment import Partial
from thresher.engine.steps import StepStats
from thresher.engine.work import Piece, WorkDir, remove_stale_work
from thresher.engine.writer import write_parts, write_rejects
from thresher.errors import DataError
from thresher.records import Reject, conversation_text, rejects_frame
from thresher.recipe import CHAT_INPUT, CHAT_TASKS, InputSpec, Recipe, load_recipe
from thresher.split import AUTO_GROUP_COLUMN, split_table

__all__ = ["RunResult", "run"]

Progress = Callable[[str], None]


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any] | None = None
    report: Path | None = None
    skipped: tuple[str, ...] = ()


HEALTH_STAGES = ("profile", "audit")  # read the splits, write reports; change no data


def run(recipe: Recipe | str | Path, out_dir: str | Path, *, progress: bool = False,
        on_stage: Progress | None = None, engine: str = "local", num_proc: int | None = None,
        address: str | None = None) -> RunResult:
    """Run every stage the recipe names; return the manifest and where things are.

    ``engine`` runs the data steps: ``"local"`` in ``num_proc`` worker processes (default: all
    cores), or ``"ray"`` on a Ray cluster (``address``: ``"auto"``, ``"ray://HOST:10001"``, or
    None for a local one). Every engine gives the same run folder.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    runner = make_engine(engine, num_proc=num_proc, address=address)
    out = Path(out_dir)
    ensure_writable_dir(out)
    _remove_stale_temp_files(out)
    say = on_stage or (lambda _msg: None)
    manifest = _new_manifest(recipe, _read_manifest(out))
    skipped: list[str] = []
    say("data: read and clean")
    fingerprint, cached = _data_stage(recipe, out, manifest, runner)
    data_fingerprint = fingerprint
    if cached:
        skipped.append("data")
    if recipe.augment is None:
        _remove_augmented(out, manifest)
    write_json(out / "manifest.json", manifest)
    result = RunResult(out, manifest)
    for stage, wanted in (("profile", recipe.profile is not None),
                          ("audit", recipe.audit is not None),
                          ("augment", recipe.augment is not None),
                          ("train", recipe.train is not None),
                          ("evaluate", recipe.evaluate is not None)):
        if not wanted:
            continue
        # profile and audit only read the data: adding one must not make the model retrain
        # the top-level seed drives these stages only (the split has its own seed), so a new
        # seed re-runs them and not read/clean/split
        seeded = (stage, "seed") if stage in (*HEALTH_STAGES, "augment") else (stage,)
        done = _hash(data_fingerprint if stage in HEALTH_STAGES else fingerprint, stage,
                     recipe.section_hash(*seeded))
        if stage not in HEALTH_STAGES:
            fingerprint = done
        if _stage_done(out, manifest, stage, done):
            skipped.append(stage)
            continue
        say(stage)
        _run_stage(stage, recipe, out, manifest, done, progress)
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
    if stage in ("profile", "audit"):
        _health_stage(stage, recipe, out)
    elif stage == "augment":
        from thresher.augment.stage import augment_run

        manifest["augment"] = augment_run(out, recipe.augment, seed=recipe.seed).to_dict()
    elif stage == "train":
        from thresher.train import train_run

        train_run(out, recipe.train, progress=progress)
    else:
        from thresher.evaluate import evaluate_run

        evaluate_run(out, split=recipe.evaluate.split, progress=progress)
    manifest.setdefault("stages", {})[stage] = {
        "fingerprint": fingerprint, "seconds": round(time.perf_counter() - start, 2)}
    manifest["versions"] = _versions()
    write_json(out / "manifest.json", manifest)


def _health_stage(stage: str, recipe: Recipe, out: Path) -> None:
    """The recipe's `profile:` or `audit:` section over the run's splits."""
    if stage == "audit":
        from thresher.quality.audit import audit

        spec = recipe.audit
        audit(out, features=spec.features, folds=spec.folds, filter_by=spec.filter_by,
              seed=recipe.seed, out_dir=out / "audit", suspects_format=f".{spec.format}")
        return
    from thresher.quality.profile import profile

    spec, train = recipe.profile, recipe.train
    tokenizer = spec.tokenizer or (train.model if train is not None else None)
    max_length = spec.max_length or (train.max_length if train is not None else None)
    profile(out, tokenizer=tokenizer, max_length=max_length, near_dup=spec.near_dup,
            out_dir=out, seed=recipe.seed)


def _remove_augmented(out: Path, manifest: dict[str, Any]) -> None:
    """A recipe without `augment:` trains on the original rows only: drop earlier variants."""
    for name in ("augmented.parquet", "augment_rejects.parquet"):
        (out / "data" / name).unlink(missing_ok=True)
    manifest.pop("augment", None)
    manifest.get("stages", {}).pop("augment", None)


def _remove_stale_temp_files(out: Path) -> None:
    """Temporary files left by a killed run (kill -9 skips cleanup); never read, so drop them."""
    for stale in out.rglob(".tmp-*"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
    remove_stale_work(out)


def _stage_done(out: Path, manifest: dict[str, Any], stage: str, fingerprint: str) -> bool:
    marker = {"profile": out / "profile.json", "audit": out / "audit" / "audit.json",
              "augment": out / "data" / "augmented.parquet",
              "train": out / "model" / "thresher_model.json", "evaluate": out / "metrics.json"}
    done = manifest.get("stages", {}).get(stage, {}).get("fingerprint") == fingerprint
    return done and marker[stage].exists()


def _data_stage(recipe: Recipe, out: Path, manifest: dict[str, Any], engine: ShardEngine
                ) -> tuple[str, bool]:
    """Read, run the steps, split; write data/, rejects.parquet and the manifest's counts.

    Rows travel as pieces (in memory for a small input, else Parquet shards under OUT/.cache)
    from the reader through the engine's passes to the writers; only ids, labels and small
    signature columns are ever held for all rows at once.
    """
    start = time.perf_counter()
    info, chunks = _open_input(recipe)
    external = recipe.split.decontaminate if recipe.split is not None else None
    fingerprint = _hash(__version__, recipe.task, info.sha256,
                        recipe.section_hash("input", "steps", "split"),
                        file_sha256(Path(external)) if external else None, *_step_files(recipe))
    if _data_cached(out, manifest, fingerprint):
        manifest.setdefault("inputs", [info.to_dict()])
        return fingerprint, True
    ops = [spec.build() for spec in recipe.steps]
    read = _Reading(chunks)
    read.seconds = time.perf_counter() - start  # a small file was read whole just now
    with WorkDir(out) as work, engine:
        result = engine.run(ops, read.pieces(work), work, many=chunks.streamed or None)
        manifest["inputs"] = [info.to_dict()]
        read_info = {"format": info.format, "encoding": info.encoding, **_chat_info(info)}
        steps = [read.partial.stats("read", read_info, read.seconds)] + result.stats
        _check_rows_left(recipe, steps)
        names, assign, split = _split(recipe, result.pieces)
        leakage = _leakage(recipe, result.pieces, names, assign, split)
        written, split_rejects = _write_data(out, names, result.pieces, assign, split)
        if split is not None:
            steps.append(split.stats)
        rejected = write_rejects(out / "rejects.parquet", [*read.rejects, *(
            piece for i in range(len(ops)) for piece in result.rejects[i]), *split_rejects])
    _record_counts(manifest, steps, dict(zip(names, written)), rejected, fingerprint)
    manifest.pop("leakage", None)
    if leakage is not None:
        manifest["leakage"] = leakage
    return fingerprint, False


def _open_input(recipe: Recipe) -> tuple[Any, Any]:
    """The source's description and its (table, rejects) chunks; large files are streamed."""
    from thresher.io import stream

    if recipe.task in CHAT_TASKS:
        return _chat_source(recipe.input, recipe.task)
    # text_pair is a column the rows keep, not a reader option
    options = {k: v for k, v in dataclasses.asdict(recipe.input).items()
               if k not in ("path", "text_pair", *CHAT_INPUT) and v is not None}
    return stream.iter_source(recipe.input.path, task=recipe.task, chunk_rows=stream.CHUNK_ROWS,
                              stream_above=stream.STREAM_ABOVE, **options)


def _chat_source(spec: InputSpec, task: str) -> tuple[Any, Any]:
    """sft / seq2seq input, read whole (a chat log's turns are grouped across the file), chunked."""
    from thresher.io import read_source
    from thresher.io.chat_reader import ChatOptions
    from thresher.io.stream import CHUNK_ROWS, Chunks

    chat = ChatOptions(**{key: getattr(spec, key) for key in CHAT_INPUT})
    result = read_source(spec.path, text=spec.text, format=spec.format, encoding=spec.encoding,
                         task=task, chat=chat)
    table, rejects = result.table, result.rejects
    chunks = ((table.iloc[i:i + CHUNK_ROWS].reset_index(drop=True), rejects if i == 0 else [])
              for i in range(0, max(len(table), 1), CHUNK_ROWS))
    return result.info, Chunks(chunks, streamed=False)


def _chat_info(info: Any) -> dict[str, Any]:
    """The chat format read and what reading changed (merged turns, dropped trailing turns)."""
    if not getattr(info, "chat_format", None):
        return {}
    return {"chat_format": info.chat_format, **({"notes": info.notes} if info.notes else {})}


def _step_files(recipe: Recipe) -> list[str]:
    """Hashes of the files steps read (a reviewed suspects file): editing one re-runs the data."""
    from thresher.ops import OPERATORS

    found = []
    for spec in recipe.steps:
        for key in getattr(OPERATORS[spec.name], "files", ()):
            value = spec.settings.get(key)
            for path in value if isinstance(value, list) else [value]:
                if isinstance(path, str) and path and Path(path).is_file():
                    found.append(file_sha256(Path(path)))
    return found


class _Reading:
    """The reader's chunks as pieces, with the read step's statistics and rejects on the side."""

    def __init__(self, chunks: Iterator[tuple[pd.DataFrame, list[Reject]]]) -> None:
        self.chunks = chunks
        self.partial = Partial()
        self.rejects: list[Piece] = []
        self.seconds = 0.0

    def pieces(self, work: WorkDir) -> Iterator[Piece]:
        while True:
            start = time.perf_counter()
            chunk = next(self.chunks, None)
            self.seconds += time.perf_counter() - start
            if chunk is None:
                return
            table, rejects = chunk
            self.partial.merge(Partial.of(len(table) + len(rejects), len(table), rejects))
            if rejects:
                self.rejects.append(work.piece(rejects_frame(rejects), "read-rejects"))
            if len(table):
                yield Piece(len(table), frame=table)


def _check_rows_left(recipe: Recipe, steps: list[StepStats]) -> None:
    emptied = next((s for s in steps if s.rows_out == 0), None)
    if emptied is not None:
        raise DataError(
            f"no rows left after step '{emptied.name}' (rejected: {emptied.rejected})",
            where=str(recipe.input.path),
            fix="loosen that step's settings, or check the input columns with `thresher inspect`")


@dataclass
class _SplitOutcome:
    """The split as positions: which rows were rejected (reason, detail), and the stats."""

    info: dict[str, Any]
    reasons: dict[int, tuple[str, str]]  # position -> (reason, detail), in the splitter's order
    stats: StepStats | None = None


def _split(recipe: Recipe, pieces: list[Piece]
           ) -> tuple[list[str], np.ndarray | None, _SplitOutcome | None]:
    """Split on the small columns (id, label, group) of all rows; rows themselves stay put."""
    if recipe.split is None:
        return ["all"], None, None
    spec = recipe.split
    group = getattr(spec, "group_by", None)
    columns = ["id", "label"] + ([AUTO_GROUP_COLUMN if group == "auto" else group] if group else [])
    small = pd.concat([_columns(p, columns) for p in pieces], ignore_index=True)
    small["_pos"] = np.arange(len(small))
    extra = {"group_by": group} if group is not None else {}
    result = split_table(small, validation=spec.validation, test=spec.test, seed=spec.seed,
                         stratify=spec.stratify, task=recipe.task, **extra)
    names = list(result.parts)
    assign = np.full(len(small), -1, dtype=np.int8)
    for k, name in enumerate(names):
        assign[result.parts[name]["_pos"].to_numpy()] = k
    reasons = {int(json.loads(r.record)["_pos"]): (r.reason, r.detail) for r in result.rejects}
    return names, assign, _SplitOutcome(result.info, reasons)


def _leakage(recipe: Recipe, pieces: list[Piece], names: list[str], assign: np.ndarray | None,
             split: _SplitOutcome | None) -> dict[str, Any] | None:
    """Exact and near-duplicate pairs across the splits and with an external evaluation set.

    Training rows that match the external set become rejects (reason ``contaminated``) when the
    recipe says ``on_contamination: drop``; the report lists every pair either way. Needs the
    texts of all kept rows at once (ids and texts only), unlike the steps before it.
    """
    spec = recipe.split
    if spec is None or assign is None or split is None or not (
            spec.leakage_check or spec.decontaminate):
        return None
    from thresher.io import read_source
    from thresher.split import EXTERNAL, check_leakage

    wanted = ["id", "text", "tokens", "messages", "input", "target"]
    small = _with_text(pd.concat([_columns(p, wanted) for p in pieces], ignore_index=True))
    small["_pos"] = np.arange(len(small))
    parts = {name: small.loc[assign == k, ["id", "text", "_pos"]] for k, name in enumerate(names)}
    external = None
    if spec.decontaminate:
        external = _with_text(read_source(spec.decontaminate, task=recipe.task).table)
    report = check_leakage(parts, external=external, threshold=spec.leakage_threshold)
    dropped = 0
    if external is not None and spec.on_contamination == "drop" and "train" in parts:
        pairs = report.pairs
        hits = pairs[(pairs["split_a"] == "train") & (pairs["split_b"] == EXTERNAL)]
        position = dict(zip(parts["train"]["id"], parts["train"]["_pos"]))
        for id_a, id_b, kind, sim in hits.drop_duplicates("id_a")[
                ["id_a", "id_b", "kind", "similarity"]].itertuples(index=False):
            p = int(position[id_a])
            assign[p] = -1
            split.reasons[p] = ("contaminated",
                                f"{kind} match of external row {id_b} (similarity {sim:.2f})")
            dropped += 1
    if dropped and isinstance(split.info.get("train"), int):
        split.info["train"] -= dropped
    summary = {**report.to_dict(), "external": spec.decontaminate, "dropped": dropped}
    return json.loads(json.dumps(summary, default=str))


def _with_text(table: pd.DataFrame) -> pd.DataFrame:
    """NER rows have tokens, sft rows messages, seq2seq rows input and target: compare those."""
    if "text" in table:
        return table
    if "tokens" in table:
        return table.assign(text=table["tokens"].map(lambda tokens: " ".join(map(str, tokens))))
    if "messages" in table:
        return table.assign(text=table["messages"].map(conversation_text))
    return table.assign(text=table["input"].astype(str) + "\n" + table["target"].astype(str))


def _columns(piece: Piece, wanted: list[str]) -> pd.DataFrame:
    if piece.frame is not None:
        return piece.frame[[c for c in wanted if c in piece.frame]]
    import pyarrow.parquet as pq

    present = set(pq.read_schema(piece.path).names)
    return pq.read_table(piece.path, columns=[c for c in wanted if c in present]).to_pandas()


def _write_data(out: Path, names: list[str], pieces: list[Piece], assign: np.ndarray | None,
                split: _SplitOutcome | None) -> tuple[list[int], list[Piece]]:
    """data/{split}.parquet by streaming over the pieces: rows per file, the split's rejects."""
    start = time.perf_counter()
    found: dict[int, Reject] = {}

    def collect(offset: int, table: Any) -> None:
        if split is None or not split.reasons:
            return
        here = [p for p in split.reasons if offset <= p < offset + len(table)]
        rows = table.take(np.array(here) - offset).to_pylist() if here else []
        for p, row in zip(here, rows):
            found[p] = Reject.of(row, "split", *split.reasons[p])

    written = write_parts([out / "data" / f"{name}.parquet" for name in names], pieces, assign,
                          collect)
    if split is None:
        return written, []
    rejects = [found[p] for p in split.reasons]
    kept = sum(written)
    split.stats = Partial.of(kept + len(rejects), kept, rejects).stats(
        "split", {"splits": split.info}, time.perf_counter() - start)
    return written, [Piece(len(rejects), frame=rejects_frame(rejects))] if rejects else []


def _record_counts(manifest: dict[str, Any], steps: list[StepStats], splits: dict[str, int],
                   rejected: int, fp: str) -> None:
    read = steps[0].rows_in
    kept = sum(splits.values())
    if read != kept + rejected:
        raise AssertionError(f"{read} rows read but {kept} kept + {rejected} rejected")
    manifest["steps"] = [s.to_dict() for s in steps]
    manifest["splits"] = splits
    manifest["rows"] = {"read": read, "kept": kept, "rejected": rejected}
    manifest["data_fingerprint"] = fp
    manifest.pop("stages", None)  # new data: later stages must run again


def _data_cached(out: Path, manifest: dict[str, Any], fingerprint: str) -> bool:
    files = [out / "rejects.parquet"] + [out / "data" / f"{n}.parquet" for n in
                                         manifest.get("splits", {})]
    return manifest.get("data_fingerprint") == fingerprint and all(f.exists() for f in files)


def _new_manifest(recipe: Recipe, previous: dict[str, Any]) -> dict[str, Any]:
    keep = {k: previous[k] for k in ("inputs", "steps", "splits", "rows", "data_fingerprint",
                                     "stages", "augment") if k in previous}
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
