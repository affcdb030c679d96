"""What the report says about duplicates, personal data and leakage between splits.

Each function reads the manifest's step entries (``info`` written by the operators) and
``manifest["leakage"]``, and returns plain values for the template; a run without those steps
gets empty values and the template leaves the section out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from thresher.report._inputs import RunInputs

__all__ = ["augmentation", "duplicates", "leakage", "pii"]

EXAMPLE_CHARS = 200


def _steps(run: RunInputs, *names: str) -> list[dict[str, Any]]:
    return [s for s in run.manifest.get("steps") or []
            if isinstance(s, dict) and s.get("name") in names]


def _short(text: Any) -> str:
    text = str(text)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."


def duplicates(run: RunInputs) -> list[dict[str, Any]]:
    """One entry per dedup step: groups/clusters found, rows removed, conflicts, examples."""
    found = []
    for step in _steps(run, "dedup_exact", "dedup_near"):
        info = step.get("info") if isinstance(step.get("info"), dict) else {}
        rejected = step.get("rejected") if isinstance(step.get("rejected"), dict) else {}
        exact = step.get("name") == "dedup_exact"
        pairs = info.get("examples") if isinstance(info.get("examples"), list) else []
        found.append({
            "step": step.get("name"),
            "groups": info.get("duplicate_groups") if exact else info.get("clusters"),
            "rows_in_groups": info.get("rows_in_clusters"),
            "removed": sum(v for v in rejected.values() if isinstance(v, int)),
            "conflicts": info.get("conflict_groups") if exact
            else info.get("label_conflict_clusters"),
            "largest": info.get("largest") or [],
            "examples": [[_short(p[0]), _short(p[1])] for p in pairs
                         if isinstance(p, (list, tuple)) and len(p) == 2][:5],
            "settings": info.get("settings") or {},
        })
    return found


def pii(run: RunInputs) -> dict[str, Any] | None:
    """PII found by type: counts from ``pii`` steps, rows dropped by ``drop_pii`` by type."""
    found: Counter[str] = Counter()
    for step in _steps(run, "pii"):
        info = step.get("info") if isinstance(step.get("info"), dict) else {}
        found.update({str(k): int(v) for k, v in (info.get("counts") or {}).items()})
    dropped: Counter[str] = Counter()
    drop_steps = _steps(run, "drop_pii")
    if drop_steps and run.rejects is not None and not run.rejects.empty:
        rows = run.rejects[run.rejects["step"] == "drop_pii"]
        for detail in rows["detail"].fillna(""):
            dropped.update(k for k in str(detail).split(",") if k)
    if not found and not dropped and not _steps(run, "pii") and not drop_steps:
        return None
    kinds = sorted(set(found) | set(dropped))
    return {"rows": [{"kind": k, "found": found.get(k, 0), "dropped": dropped.get(k, 0)}
                     for k in kinds],
            "has_drop": bool(drop_steps)}


def leakage(run: RunInputs) -> dict[str, Any] | None:
    """The leakage check's pairs between splits (and the external set), with examples."""
    report = run.manifest.get("leakage")
    if not isinstance(report, dict):
        return None
    return {"pairs": report.get("pairs") or 0, "counts": report.get("counts") or {},
            "examples": report.get("examples") or {}, "settings": report.get("settings") or {},
            "external": report.get("external"), "dropped": report.get("dropped") or 0}


def augmentation(run: RunInputs) -> dict[str, Any] | None:
    """The augment stage's counts: made, kept, rejected by reason, per augmenter, examples."""
    found = run.manifest.get("augment")
    if not isinstance(found, dict):
        return None
    examples = [{"parent": _short(e.get("parent", "")), "augmented": _short(e.get("augmented", ""))}
                for e in found.get("examples") or [] if isinstance(e, dict)]
    return {**found, "examples": examples}
