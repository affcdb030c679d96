"""The report's "Augmentation ablation" section, for run folders that `thresher ablate` made.

An ablation writes ``OUT/ablation.json`` and one run folder per arm and seed,
``OUT/<arm>/seed<k>``; so a run folder's grandparent holds the file. The section is shown
only when that file lists this very folder among its runs: a stray ablation.json two levels
up from an unrelated run is ignored. The section therefore appears in the report of every
arm and seed, however the report is rebuilt later (`thresher report OUT/none/seed1`).
"""

from __future__ import annotations

import json
from typing import Any

from thresher.report._inputs import RunInputs

__all__ = ["ablation"]

ABLATION_JSON = "ablation.json"


def ablation(run: RunInputs) -> dict[str, Any] | None:
    """The arms table (mean ± std, difference with none, 95% CI, verdict), or None."""
    root = run.run_dir.resolve().parent.parent
    path = root / ABLATION_JSON
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not ours to repair; the run's own sections still render
    here = run.run_dir.resolve().relative_to(root).as_posix()
    runs = found.get("runs") if isinstance(found, dict) else None
    if not isinstance(runs, list) or here not in {r.get("folder") for r in runs
                                                  if isinstance(r, dict)}:
        return None
    return {"metric": found.get("metric"), "split": found.get("split"),
            "seeds": found.get("seeds") or [], "this": here, "path": str(path),
            "seed_meaning": found.get("seed_meaning"), "notes": _notes(found),
            "rows": [_row(arm) for arm in found.get("arms") or [] if isinstance(arm, dict)]}


def _notes(found: dict[str, Any]) -> list[str]:
    arms = [a for a in found.get("arms") or [] if isinstance(a, dict) and a.get("note")]
    return [str(n) for n in found.get("notes") or []] + [f"{a.get('name')}: {a['note']}"
                                                          for a in arms]


def _row(arm: dict[str, Any]) -> dict[str, Any]:
    ci = arm.get("ci95")
    kept = arm.get("kept") or []
    return {"name": arm.get("name"), "augmenters": ", ".join(arm.get("augmenters") or []) or "—",
            "mean": arm.get("mean"), "std": arm.get("std"),
            "difference": arm.get("mean_difference"),
            "ci": tuple(ci) if isinstance(ci, list) and len(ci) == 2 else None,
            "verdict": arm.get("verdict"),
            "kept": round(sum(kept) / len(kept)) if kept and None not in kept else None}
