"""The profile's plots, drawn from the profile dict alone (what profile.json holds).

Drawing from the JSON rather than from the rows means the report, or anyone holding a
profile.json, can redraw the same figures. Figures use matplotlib's object API on the Agg
canvas (no pyplot state), a CJK-capable font (:mod:`thresher._fonts`), and are written
atomically as ``plots/profile_*.png``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PLOTS", "write_profile_plots"]

# stem -> caption, in the order the page shows them
PLOTS = {
    "profile_labels": "Share of rows per label, per split",
    "profile_char_lengths": "Characters per text",
    "profile_token_lengths": "Tokens per text (with the model's special tokens)",
    "profile_length_cdf": "Characters per text, cumulative, per split (what the KS test compares)",
    "profile_top_words": "Most frequent words per label (share of the label's rows)",
}
MAX_BARS = 20  # labels in the label chart; the rest are left out (the table lists them)
MAX_CURVES = 8  # labels drawn in the length histograms
MAX_PANELS = 6  # labels in the top-words grid
WORDS_PER_PANEL = 10
DPI = 100


def write_profile_plots(p: dict[str, Any], plots: Path) -> dict[str, Path]:
    """Draw every plot the profile has data for; returns stem -> path written."""
    from matplotlib.figure import Figure  # noqa: F401  (fails early when matplotlib is absent)

    from thresher._files import write_bytes
    from thresher._fonts import plot_style

    drawers = {"profile_labels": _labels, "profile_char_lengths": _char_lengths,
               "profile_token_lengths": _token_lengths, "profile_length_cdf": _length_cdf,
               "profile_top_words": _top_words}
    written: dict[str, Path] = {}
    with plot_style():
        for stem, draw in drawers.items():
            fig = draw(p)
            if fig is None:
                continue
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI)
            written[stem] = write_bytes(plots / f"{stem}.png", buffer.getvalue())
    return written


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _tick(text: object, limit: int = 22) -> str:
    """A label for an axis: shortened, and ``$`` escaped so it is not read as math."""
    text = str(text)
    return (text if len(text) <= limit else text[:limit - 1] + "…").replace("$", r"\$")


def _labels(p: dict[str, Any]) -> Any:
    if not p["labels"]:
        return None
    names = list(p["labels"]["counts"])[:MAX_BARS]
    splits = [s for s, v in p["splits"].items() if v["labels"]]
    fig = _figure(min(14.0, max(6.0, 0.45 * len(names) * len(splits) + 2)), 4.4)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(splits))
    x = np.arange(len(names))
    for k, split in enumerate(splits):
        shares = [p["splits"][split]["labels"]["shares"].get(n, 0.0) for n in names]
        ax.bar(x + (k - (len(splits) - 1) / 2) * width, shares, width,
               label=f"{split} (n={p['splits'][split]['rows']:,})")
    ax.set_xticks(x, [_tick(n) for n in names], rotation=30 if len(names) > 4 else 0,
                  ha="right" if len(names) > 4 else "center")
    ax.set_ylabel("share of rows")
    title = "Share of rows per label"
    if len(p["labels"]["counts"]) > MAX_BARS:
        title += f" (the {MAX_BARS} largest of {len(p['labels']['counts'])})"
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _groups(p: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, stats) to draw: the largest labels, or the splits when there are no labels."""
    if p["labels"]:
        per_label = p["labels"]["lengths"]
        return [(name, per_label[name][kind]) for name in list(p["labels"]["counts"])[:MAX_CURVES]
                if kind in per_label[name]]
    return [(split, v[kind]) for split, v in p["splits"].items() if kind in v]


def _histograms(title: str, unit: str, groups: list[tuple[str, dict[str, Any]]],
                limit: float | None = None) -> Any:
    groups = [(name, s) for name, s in groups if s.get("histogram")]
    if not groups:
        return None
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    edges = np.asarray(groups[0][1]["histogram"]["edges"], dtype=float)
    for name, s in groups:
        counts = np.asarray(s["histogram"]["counts"], dtype=float)
        ax.stairs(counts / max(counts.sum(), 1.0), edges, linewidth=1.6,
                  label=f"{_tick(name)} (median {s['median']:,.0f})")
    if _geometric(edges):
        _log_x(ax)
    if limit is not None:
        ax.axvline(limit, color="#cf222e", linestyle="--", linewidth=1.2,
                   label=f"max_length {limit:,.0f}")
    ax.set_xlabel(unit)
    ax.set_ylabel("share of rows")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _log_x(ax: Any) -> None:
    """A log axis read in plain numbers (20, 50, 200), not powers of ten."""
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:,.0f}" if f"{v:.0f}"[0] in "25" else ""))


def _geometric(edges: np.ndarray) -> bool:
    """Were these edges spaced on a log scale (profile_stats.length_edges)?"""
    if len(edges) < 3 or edges[0] <= 0:
        return False
    steps = np.diff(edges)
    return bool(steps[-1] > 3 * steps[0])


def _char_lengths(p: dict[str, Any]) -> Any:
    by = "label" if p["labels"] else "split"
    return _histograms(f"Characters per text, per {by}", "characters", _groups(p, "chars"))


def _token_lengths(p: dict[str, Any]) -> Any:
    tok = p["tokenizer"]
    if tok.get("spec") is None:
        return None
    by = "label" if p["labels"] else "split"
    title = f"Tokens per text ({tok['backbone']}), per {by}"
    return _histograms(title, "tokens", _groups(p, "tokens"), limit=tok["max_length"])


def _length_cdf(p: dict[str, Any]) -> Any:
    splits = [(s, v["chars"]) for s, v in p["splits"].items() if v["chars"].get("histogram")]
    if len(splits) < 2:
        return None
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    edges = np.asarray(splits[0][1]["histogram"]["edges"], dtype=float)
    for split, s in splits:
        counts = np.asarray(s["histogram"]["counts"], dtype=float)
        ax.step(edges, np.r_[0.0, np.cumsum(counts) / max(counts.sum(), 1.0)], where="post",
                linewidth=1.6, label=f"{split} (n={s['n']:,})")
    if _geometric(edges):
        _log_x(ax)
    ax.set_xlabel("characters")
    ax.set_ylabel("share of rows at most this long")
    ax.set_title("Text length per split, cumulative")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _top_words(p: dict[str, Any]) -> Any:
    if not p["words"]:
        return None
    labels = [lab for lab in p["labels"]["counts"] if p["words"]["top"].get(lab)][:MAX_PANELS]
    if not labels:
        return None
    cols = min(3, len(labels))
    rows = math.ceil(len(labels) / cols)
    fig = _figure(4.2 * cols, 3.3 * rows)
    for k, label in enumerate(labels):
        ax = fig.add_subplot(rows, cols, k + 1)
        top = p["words"]["top"][label][:WORDS_PER_PANEL][::-1]  # largest at the top
        ax.barh([_tick(w, 16) for w, _, _ in top], [share for _, _, share in top],
                color="#4C72B0")
        ax.set_title(_tick(label, 30), fontsize=10)
        ax.set_xlabel("share of rows", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    return fig
