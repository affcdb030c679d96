"""`thresher.ablate`: does the recipe's augmentation help, beyond seed-to-seed noise?

One augmented run that scores higher than one plain run says little: training and
augmentation are random, and a small test split moves by a point or two between seeds. This
module trains the same recipe in several *arms* — ``none`` (no augmentation), ``all`` (the
recipe's ``augment:`` section) and, with two or more augmenters, each augmenter alone — over
several seeds, and compares every augmented arm with ``none`` seed by seed (a paired design:
the same seed gives both arms the same training seed).

The data stage (read, steps, split) runs once, in ``OUT/base``; every arm and seed gets its
own run folder ``OUT/<arm>/seed<k>`` seeded with hard links to that data and its manifest, so
:func:`thresher.run` finds its data stage done and skips it. The split therefore stays fixed:
the intervals cover training and augmentation randomness, not the choice of split.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from thresher._files import write_json
from thresher.errors import DataError, RecipeError
from thresher.pipeline import RunResult, run
from thresher.recipe import Recipe, load_recipe

__all__ = ["AblationResult", "ArmResult", "ablate"]

BASE = "base"
NONE, ALL = "none", "all"
ABLATION_JSON = "ablation.json"
# The headline metric when none is asked for, and the other ones kept beside it.
DEFAULT_METRIC = {"classification": "accuracy", "multilabel": "micro_f1", "ner": "micro_f1"}
ALSO_RECORDED = ("accuracy", "macro_f1")
SEED_MEANING = ("seed k sets train.seed = k and the augment stage's seed = k; the split is the "
                "same for every run, so the intervals cover training and augmentation "
                "randomness, not the choice of split")
OnRun = Callable[[str, int], None]


@dataclass
class ArmResult:
    """One arm over the seeds: the metric per seed and, for augmented arms, the paired test."""

    name: str
    augmenters: list[str]
    values: list[float]  # the headline metric, one per seed (the seeds' order)
    mean: float
    std: float | None  # sample standard deviation (n - 1); None with one seed
    also: dict[str, list[float]] = field(default_factory=dict)  # other metrics, per seed
    differences: list[float] | None = None  # this arm - none, per seed; None for none
    mean_difference: float | None = None
    ci95: tuple[float, float] | None = None  # t interval over the paired differences
    verdict: str | None = None  # helped, hurt, no clear effect; None for none
    kept: list[int] | None = None  # augmented rows added to training, per seed
    generated: list[int] | None = None  # augmented rows made before the checks, per seed
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["ci95"] = list(self.ci95) if self.ci95 is not None else None
        found["also"] = {k: {"values": v, "mean": _mean(v), "std": _std(v)}
                         for k, v in self.also.items()}
        return found


@dataclass
class AblationResult:
    """Every arm's numbers; ``path`` is the ablation.json written from :meth:`to_dict`."""

    out_dir: Path
    metric: str
    split: str
    seeds: list[int]
    arms: list[ArmResult]
    runs: list[dict[str, Any]]  # one per arm and seed: folder, metric, rows, data reused
    data: dict[str, Any]  # where the data stage ran, its row counts, how many runs reused it
    notes: list[str] = field(default_factory=list)
    path: Path | None = None
    report: Path | None = None

    def arm(self, name: str) -> ArmResult:
        return next(a for a in self.arms if a.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "split": self.split, "seeds": self.seeds,
                "seed_meaning": SEED_MEANING, "arms": [a.to_dict() for a in self.arms],
                "runs": self.runs, "data": self.data, "notes": self.notes,
                "report": str(self.report) if self.report else None}


def ablate(recipe: Recipe | str | Path, out_dir: str | Path, *, seeds: Sequence[int] = (0, 1, 2),
           per_augmenter: bool = True, metric: str | None = None,
           on_run: OnRun | None = None) -> AblationResult:
    """Train the recipe without, with, and per augmenter, over ``seeds``; write ablation.json.

    The recipe needs ``augment:``, ``train:`` and ``evaluate:``. ``metric`` is a key of
    metrics.json's scores on the evaluated split (default: accuracy for classification, with
    macro F1 recorded too; micro F1 for multilabel and NER). ``on_run(arm, seed)`` is called
    before each run. Seeds vary training and augmentation only: the split is fixed.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    _check_recipe(recipe)
    seeds = _check_seeds(seeds)
    out = Path(out_dir)
    metric = metric or DEFAULT_METRIC.get(recipe.task)
    if metric is None:
        raise RecipeError(f"no default metric for task {recipe.task!r}", where="metric",
                          fix="pass metric: a key of metrics.json's scores on the evaluated split")
    base = run(_base_recipe(recipe), out / BASE)
    arms = _arms(recipe, per_augmenter)
    runs: list[dict[str, Any]] = []
    for name, entries in arms.items():
        for seed in seeds:
            if on_run is not None:
                on_run(name, seed)
            folder = out / name / f"seed{seed}"
            _reuse_data(out / BASE, folder, base.manifest)
            done = run(_arm_recipe(recipe, entries, seed), folder)
            runs.append(_run_entry(done, name, seed, metric, recipe.evaluate.split, out))
    result = _summarise(out, recipe, arms, seeds, metric, runs, base)
    result.path = write_json(out / ABLATION_JSON, result.to_dict())
    if recipe.report:
        from thresher.report import build_report

        result.report = build_report(out / ALL / f"seed{seeds[0]}")
        result.path = write_json(out / ABLATION_JSON, result.to_dict())
    return result


def _check_recipe(recipe: Recipe) -> None:
    fixes = {"augment": "add e.g. `augment: {augmenters: [{eda: {}}]}`",
             "train": "add e.g. `train: {model: baseline}`",
             "evaluate": "add `evaluate: {}`"}
    for section, fix in fixes.items():
        if getattr(recipe, section) is None:
            raise RecipeError(f"the recipe has no {section} section, which an ablation needs",
                              where=section, fix=f"{fix} to the recipe")


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    found = list(seeds)
    fix = "give distinct non-negative integers, e.g. 0,1,2"
    if not found:
        raise RecipeError("no seeds given", where="seeds", fix=fix)
    for seed in found:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise RecipeError(f"seed {seed!r} is not a non-negative integer", where="seeds",
                              fix=fix)
    if len(set(found)) != len(found):
        raise RecipeError(f"seeds repeat: {found}", where="seeds", fix=fix)
    return found


def _arms(recipe: Recipe, per_augmenter: bool) -> dict[str, tuple[dict[str, Any], ...] | None]:
    """Arm name -> its augmenters (None: no augmentation); one arm per augmenter from two on."""
    entries = recipe.augment.augmenters
    arms: dict[str, tuple[dict[str, Any], ...] | None] = {NONE: None, ALL: entries}
    if per_augmenter and len(entries) >= 2:
        for entry in entries:
            name = next(iter(entry))
            unique, k = name, 2
            while unique in arms:  # the same augmenter twice, with other settings
                unique, k = f"{name}_{k}", k + 1
            arms[unique] = (entry,)
    return arms


def _without(raw: dict[str, Any], *sections: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in sections}


def _base_recipe(recipe: Recipe) -> Recipe:
    """The recipe's data stage alone: no health checks, augmentation, training or report."""
    raw = _without(recipe.raw, "profile", "audit", "augment", "train", "evaluate", "report")
    return dataclasses.replace(recipe, profile=None, audit=None, augment=None, train=None,
                               evaluate=None, report=False, raw=raw)


def _arm_recipe(recipe: Recipe, entries: tuple[dict[str, Any], ...] | None, seed: int) -> Recipe:
    """One arm at one seed: the top-level seed (the augment stage's) and train.seed. Neither
    is part of the data stage's fingerprint, so the shared data stays valid."""
    raw = _without(recipe.raw, "profile", "audit", "report", "augment")
    raw["seed"] = seed
    raw["train"] = {**(recipe.raw.get("train") or {}), "seed": seed}
    augment = None
    if entries is not None:
        raw["augment"] = {**recipe.raw["augment"], "augmenters": [dict(e) for e in entries]}
        augment = dataclasses.replace(recipe.augment, augmenters=entries)
    return dataclasses.replace(recipe, profile=None, audit=None, report=False, augment=augment,
                               train=dataclasses.replace(recipe.train, seed=seed), seed=seed,
                               raw=raw)


def _reuse_data(base: Path, folder: Path, manifest: dict[str, Any]) -> None:
    """Seed ``folder`` with the base run's data files and manifest, so its data stage is skipped.

    Hard links (a copy across file systems) are safe: every thresher write goes to a temporary
    file renamed over the target, which replaces the link instead of writing through it. A
    folder already seeded with the same data keeps its manifest, and so its finished stages.
    """
    files = [f"data/{name}.parquet" for name in manifest.get("splits", {})] + ["rejects.parquet"]
    present = [f for f in files if (base / f).is_file()]
    mine = _read_manifest(folder / "manifest.json")
    if mine.get("data_fingerprint") == manifest.get("data_fingerprint") and all(
            (folder / f).is_file() for f in present):
        return
    for relative in present:
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(base / relative, target)
        except OSError:
            shutil.copy2(base / relative, target)
    write_json(folder / "manifest.json", manifest)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _run_entry(done: RunResult, arm: str, seed: int, metric: str, split: str,
               out: Path) -> dict[str, Any]:
    """One run's numbers: the headline metric, the others recorded, augmented rows, reuse."""
    folder = done.out_dir.relative_to(out).as_posix()
    scores = ((done.metrics or {}).get("splits") or {}).get(split) or {}
    available = sorted(k for k, v in scores.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)
                       and k not in ("n", "rows"))
    where = f"{done.out_dir / 'metrics.json'}: splits.{split}"
    if metric not in available:
        raise DataError(f"metric {metric!r} is not among the scores", where=where,
                        fix=f"choose one of: {', '.join(available) or '(none: nothing scored)'}")
    kept, generated = _augmented_rows(done.out_dir / "data")
    return {"arm": arm, "seed": seed, "folder": folder, "metric": float(scores[metric]),
            "also": {k: float(scores[k]) for k in ALSO_RECORDED if k != metric and k in available},
            "kept": kept, "generated": generated,
            "data_reused": "data" in done.skipped, "skipped": list(done.skipped)}


def _augmented_rows(data: Path) -> tuple[int | None, int | None]:
    """Rows kept and made, counted in the files: a cached augment stage's counts are not in the
    manifest that ``run`` returns."""
    from thresher.augment.stage import AUGMENT_REJECTS, AUGMENTED

    if not (data / AUGMENTED).is_file():
        return None, None
    import pyarrow.parquet as pq

    kept = pq.ParquetFile(data / AUGMENTED).metadata.num_rows
    rejects = data / AUGMENT_REJECTS
    return kept, kept + (pq.ParquetFile(rejects).metadata.num_rows if rejects.is_file() else 0)


def _summarise(out: Path, recipe: Recipe, arms: dict[str, Any], seeds: list[int], metric: str,
               runs: list[dict[str, Any]], base: RunResult) -> AblationResult:
    by_arm = {name: [r for r in runs if r["arm"] == name] for name in arms}
    reference = [r["metric"] for r in by_arm[NONE]]
    results = [_arm_result(name, arms[name], by_arm[name], reference) for name in arms]
    reused = sum(r["data_reused"] for r in runs)
    notes = []
    if len(seeds) == 1:
        notes.append("one seed: no spread and no interval; run two or more seeds to tell an "
                     "effect from noise")
    if reused < len(runs):
        notes.append(f"{len(runs) - reused} of {len(runs)} runs re-ran the data stage instead "
                     "of reusing base/ (same data, slower)")
    data = {"folder": BASE, "rows": base.manifest.get("rows"),
            "splits": base.manifest.get("splits"), "split_seed": recipe.split.seed,
            "runs": len(runs), "reused_by": reused}
    return AblationResult(out, metric, recipe.evaluate.split, seeds, results, runs, data, notes)


def _arm_result(name: str, entries: tuple[dict[str, Any], ...] | None,
                runs: list[dict[str, Any]], reference: list[float]) -> ArmResult:
    values = [r["metric"] for r in runs]
    also = {k: [r["also"][k] for r in runs] for k in runs[0]["also"]}
    arm = ArmResult(name, [next(iter(e)) for e in entries or ()], values, _mean(values),
                    _std(values), also)
    if entries is None:
        return arm
    arm.differences = [v - w for v, w in zip(values, reference)]
    arm.mean_difference = _mean(arm.differences)
    arm.ci95 = paired_interval(arm.differences)
    arm.verdict = verdict(arm.ci95)
    arm.kept = [r["kept"] for r in runs]
    arm.generated = [r["generated"] for r in runs]
    if arm.ci95 is None:
        arm.note = "one seed: no interval, so no verdict beyond 'no clear effect'"
    elif arm.ci95[0] == arm.ci95[1]:
        arm.note = ("every seed gave the same difference, so the t interval has no width; "
                    "with few seeds that understates the noise: run more seeds")
    return arm


def paired_interval(differences: Sequence[float], level: float = 0.95
                    ) -> tuple[float, float] | None:
    """Student-t interval for the mean of paired differences; None below two of them."""
    n = len(differences)
    if n < 2:
        return None
    from scipy import stats

    mean = _mean(differences)
    half = float(stats.t.ppf(0.5 + level / 2, df=n - 1)) * _std(differences) / math.sqrt(n)
    return (mean - half, mean + half)


def verdict(ci: tuple[float, float] | None) -> str:
    if ci is not None and ci[0] > 0:
        return "helped"
    if ci is not None and ci[1] < 0:
        return "hurt"
    return "no clear effect"


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _std(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = _mean(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
