"""data_plots: the label and length plots, with missing and empty splits."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from thresher.report import data_plots
from thresher.report._data_plots import MAX_LABELS, _label_figure
from thresher._fonts import _fontconfig_zh, cjk_font

from .conftest import write_run


def _assert_png(path: Path) -> None:
    image = imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400
    rgb = (image[..., :3] * 255).astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert colours.size > 20  # drawn, not blank


def test_writes_both_plots(data_only_run: Path) -> None:
    written = data_plots(data_only_run)
    plots = data_only_run / "plots"
    assert written == [plots / "label_distribution.png", plots / "text_lengths.png"]
    for path in written:
        _assert_png(path)
    assert sorted(p.name for p in plots.iterdir()) == ["label_distribution.png", "text_lengths.png"]


def test_missing_and_empty_splits(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", metrics=None)
    (run / "data" / "validation.parquet").unlink()
    empty = pd.DataFrame(
        {c: pd.Series([], dtype="string") for c in ("id", "text", "label", "source")}
    )
    empty.to_parquet(run / "data" / "test.parquet", index=False)
    for path in data_plots(run):
        _assert_png(path)


def test_all_splits_empty(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", metrics=None)
    empty = pd.DataFrame(
        {c: pd.Series([], dtype="string") for c in ("id", "text", "label", "source")}
    )
    for name in ("train", "validation", "test"):
        empty.to_parquet(run / "data" / f"{name}.parquet", index=False)
    assert len(data_plots(run)) == 2


def test_no_data_folder_writes_nothing(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", metrics=None)
    shutil.rmtree(run / "data")
    assert data_plots(run) == []
    assert not any((run / "plots").iterdir())


def test_many_labels_are_capped_and_the_rest_summed() -> None:
    frame = pd.DataFrame({"label": [f"l{i:02d}" for i in range(45) for _ in range(45 - i)]})
    fig = _label_figure({"train": frame})
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(ticks) == MAX_LABELS
    assert ticks[0] == "l00" and ticks[-1] == f"other ({45 - MAX_LABELS + 1} labels)"


def test_many_labels_and_dollar_signs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    labels = [f"${i} 类别" for i in range(45)]  # "$" would start matplotlib mathtext
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(450)],
            "text": ["x" * (i % 50 + 1) for i in range(450)],
            "label": [labels[i % 45] for i in range(450)],
            "source": ["f:1"] * 450,
        }
    )
    frame.to_parquet(run / "data" / "train.parquet", index=False)
    for path in data_plots(run):
        _assert_png(path)


def test_ner_splits_plot_entity_types(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "id": ["1", "2"],
            "tokens": [["张", "三", "在", "北京"], ["Paris", "is", "big"]],
            "tags": [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O", "O"]],
            "source": ["f:1", "f:2"],
        }
    )
    frame.to_parquet(run / "data" / "train.parquet", index=False)
    assert len(data_plots(run)) == 2


def test_a_cjk_font_is_found_when_fontconfig_has_one() -> None:
    if not _fontconfig_zh():
        pytest.skip("no font with Chinese glyphs installed (Debian: fonts-noto-cjk)")
    assert cjk_font() is not None


def test_without_a_cjk_font_glyph_warnings_are_silenced(data_only_run: Path, monkeypatch) -> None:
    import thresher._fonts as fonts

    monkeypatch.setattr(fonts, "cjk_font", lambda: None)  # as on a machine with no CJK font
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "Glyph ... missing" warning would fail the test
        written = data_plots(data_only_run)
    assert len(written) == 2
