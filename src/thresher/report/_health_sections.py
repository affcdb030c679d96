"""What the report's "Data health" section shows: the profile and the label audit.

Both are optional files in the run folder (``profile.json`` from `thresher profile` or the
recipe's ``profile:``, ``audit/audit.json`` from `thresher audit` or ``audit:``); a run
without them has no such section. A file that cannot be parsed is named, not fatal: the rest
of the report still renders.
"""

from __future__ import annotations

import json
from typing import Any

from thresher.report._inputs import RunInputs

__all__ = ["audit", "profile"]

TOP_SUSPECTS = 10
TEXT_CHARS = 160


def _load(run: RunInputs, relative: str) -> dict[str, Any] | None:
    path = run.run_dir / relative
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        return {"unreadable": f"{relative} could not be read ({exc}); re-run the command "
                              "that writes it"}
    return found if isinstance(found, dict) else {"unreadable": f"{relative} is not an object"}


def profile(run: RunInputs) -> dict[str, Any] | None:
    """profile.json as written (the template's profile macro reads it)."""
    return _load(run, "profile.json")


def audit(run: RunInputs) -> dict[str, Any] | None:
    """audit.json's counts, settings and its most likely label errors, shortened for display."""
    found = _load(run, "audit/audit.json")
    if found is None or "unreadable" in found:
        return found
    top = []
    for row in found.get("top") or []:
        if not isinstance(row, dict):
            continue
        text = str(row.get("text", ""))
        top.append({**row, "text": text if len(text) <= TEXT_CHARS else
                    text[:TEXT_CHARS - 3] + "..."})
    counts = found.get("counts") or {}
    rows = found.get("rows") or 0
    return {**found, "top": top[:TOP_SUSPECTS],
            "error_share": (counts.get("label_error", 0) / rows) if rows else None}
