"""Plots of the split data: label counts per split and text lengths per split.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, so no global
backend or figure state is touched) and written atomically as PNG under ``plots/``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from thresher._files import write_bytes
from thresher._fonts import plot_style

__all__ = [
    "SPLITS",
    "data_plots",
    "read_splits",
    "split_labels",
    "split_texts",
    "write_data_plots",
]

SPLITS = ("train", "validation", "test")
SPLIT_COLORS = {"train": "#4C72B0", "validation": "#DD8452", "test": "#55A868"}
MAX_LABELS = 30  # beyond this a bar chart is unreadable; the rest are summed as "other"


def data_plots(run_dir: Path) -> list[Path]:
    """Write ``plots/label_distribution.png`` and ``plots/text_lengths.png`` from ``data/``.

    A split whose file is missing is left out; an empty split is drawn as zero. Returns the
    paths written (none when the run has no split files).
    """
    return write_data_plots(read_splits(Path(run_dir)), Path(run_dir) / "plots")


def write_data_plots(splits: dict[str, pd.DataFrame], plots: Path) -> list[Path]:
    """The two data plots of already-read splits, written under ``plots``."""
    if not splits:
        return []
    labelled = any({"label", "tags"} & set(frame.columns) for frame in splits.values())
    with plot_style():  # sft/seq2seq rows have no labels: their lengths only
        written = [_save(_label_figure(splits), plots / "label_distribution.png")] if labelled else []
        return written + [_save(_length_figure(splits), plots / "text_lengths.png")]


def read_splits(run_dir: Path) -> dict[str, pd.DataFrame]:
    """The split tables that exist under ``data/``, in train/validation/test order."""
    found = {}
    for name in SPLITS:
        path = run_dir / "data" / f"{name}.parquet"
        if path.is_file():
            found[name] = pd.read_parquet(path)
    return found


def split_labels(frame: pd.DataFrame) -> pd.Series:
    """One label per row (classification) or one entity type per entity tag (ner)."""
    if "label" in frame.columns:
        return frame["label"].astype(str)
    if "tags" in frame.columns:
        tags = frame["tags"].explode().dropna().astype(str)
        entities = tags[tags.str.startswith(("B-", "S-", "U-"))]
        return entities.str.slice(2)
    return pd.Series([], dtype=str)


def split_texts(frame: pd.DataFrame) -> pd.Series:
    if "text" in frame.columns:
        return frame["text"].fillna("").astype(str)
    if "tokens" in frame.columns:
        return frame["tokens"].map(lambda tokens: " ".join(map(str, tokens)))
    if "messages" in frame.columns:  # sft: the whole conversation
        from thresher.records import conversation_text

        return frame["messages"].map(conversation_text)
    if {"input", "target"} <= set(frame.columns):  # seq2seq
        return frame["input"].astype(str) + "\n" + frame["target"].astype(str)
    return pd.Series([], dtype=str)


def _label_figure(splits: dict[str, pd.DataFrame]) -> Figure:
    counts = pd.DataFrame(
        {name: split_labels(frame).value_counts() for name, frame in splits.items()}
    )
    counts = counts.fillna(0).astype(int)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    if len(counts) > MAX_LABELS:
        rest = counts.iloc[MAX_LABELS - 1 :]
        counts = counts.iloc[: MAX_LABELS - 1]
        counts.loc[f"other ({len(rest)} labels)"] = rest.sum()
    width = min(16.0, max(6.0, 0.6 * len(counts) * len(splits) + 2))
    fig = Figure(figsize=(width, 4.6), layout="constrained")
    ax = fig.add_subplot()
    bar_width = 0.8 / max(1, len(splits))
    x = np.arange(len(counts))
    for i, name in enumerate(splits):
        column = counts[name] if name in counts.columns else pd.Series(0, index=counts.index)
        bars = ax.bar(
            x + (i - (len(splits) - 1) / 2) * bar_width,
            column.to_numpy(),
            bar_width,
            label=f"{name} (n={len(splits[name]):,})",
            color=SPLIT_COLORS[name],
        )
        if len(counts) <= 10:
            ax.bar_label(bars, fmt="{:,.0f}", fontsize=8, padding=1)
    ax.set_xticks(
        x,
        [_plain(label, 24) for label in counts.index],
        rotation=30 if len(counts) > 4 else 0,
        ha="right" if len(counts) > 4 else "center",
    )
    ax.set_ylabel("rows")
    ax.margins(y=0.08)
    ax.set_title("Rows per label and split")
    if counts.empty:
        ax.text(0.5, 0.5, "no rows", ha="center", va="center", transform=ax.transAxes)
    # Below the axes, so the legend never hides a bar.
    fig.legend(loc="outside lower center", ncol=len(splits), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _length_figure(splits: dict[str, pd.DataFrame]) -> Figure:
    lengths = {name: split_texts(frame).str.len().to_numpy() for name, frame in splits.items()}
    everything = np.concatenate([v for v in lengths.values()] or [np.array([])])
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    if everything.size == 0:
        ax.text(0.5, 0.5, "no rows", ha="center", va="center", transform=ax.transAxes)
        return fig
    log_x = _long_tailed(everything)
    bins = _bins(everything, log_x)
    for name, values in lengths.items():
        if values.size == 0:
            continue
        # Share of rows per bin, so a small test split is comparable to a large train split.
        ax.hist(
            np.clip(values, 1, None) if log_x else values,
            bins=bins,
            histtype="step",
            linewidth=1.8,
            weights=np.full(values.size, 1 / values.size),
            color=SPLIT_COLORS[name],
            label=f"{name} (n={values.size:,}, median {np.median(values):,.0f})",
        )
    if log_x:
        ax.set_xscale("log")
        # Plain numbers (20, 50, 200) rather than 2x10^1: readers count characters, not powers.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(_minor_label))
    ax.set_xlabel("characters per text" + (" (log scale)" if log_x else ""))
    ax.set_ylabel("share of rows")
    ax.set_title("Text length per split")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _long_tailed(values: np.ndarray) -> bool:
    """A log axis when the longest texts dwarf the typical one (reviews, articles)."""
    median = max(float(np.median(values)), 1.0)
    return float(np.percentile(values, 99)) / median > 8 or float(values.max()) / median > 30


def _minor_label(value: float, _: object) -> str:
    return f"{value:,.0f}" if f"{value:.0f}"[0] in "25" else ""


def _bins(values: np.ndarray, log_x: bool) -> np.ndarray:
    low, high = max(float(values.min()), 1.0), max(float(values.max()), 2.0)
    if log_x:
        return np.geomspace(low, high, 40)
    return np.linspace(float(values.min()), high, min(40, int(high - values.min()) + 1) + 1)


def _plain(text: object, limit: int) -> str:
    """A tick label: shortened, with ``$`` escaped so matplotlib does not read it as math."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _save(fig: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return write_bytes(path, buffer.getvalue())
