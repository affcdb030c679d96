"""The plot functions write valid PNG files, also for Chinese labels and degenerate inputs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from thresher.evaluate import plot_confusion_matrix, plot_pr, plot_roc, plot_training_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1000
    assert not list(path.parent.glob(".tmp-*")), "a temporary file was left behind"


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    # Missing CJK glyphs must be silenced, not warned about once per character.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("labels", [["负面", "正面"], ["neg", "pos"]])
def test_binary_plots_are_pngs(tmp_path: Path, labels: list[str]) -> None:
    y = [labels[0], labels[1], labels[1], labels[0]]
    proba = np.asarray([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]])
    for path in (
        plot_confusion_matrix([[1, 1], [1, 1]], labels, tmp_path / "plots" / "cm.png"),
        plot_roc(y, proba, labels, tmp_path / "plots" / "roc.png"),
        plot_pr(y, proba, labels, tmp_path / "plots" / "pr.png"),
    ):
        _assert_png(path)


def test_multiclass_plots_skip_a_missing_class(tmp_path: Path) -> None:
    labels = ["体育", "财经", "科技"]
    y = ["体育", "财经", "体育", "财经"]  # 科技 has no rows: its curve is skipped
    proba = np.asarray([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.1, 0.8]])
    _assert_png(plot_roc(y, proba, labels, tmp_path / "roc.png"))
    _assert_png(plot_pr(y, proba, labels, tmp_path / "pr.png"))
    _assert_png(plot_confusion_matrix([[2, 0, 0], [0, 1, 1], [0, 0, 0]], labels, tmp_path / "cm.png"))


def test_single_label_split_still_plots(tmp_path: Path) -> None:
    proba = np.asarray([[0.2, 0.8], [0.6, 0.4]])
    _assert_png(plot_roc(["pos", "pos"], proba, ["neg", "pos"], tmp_path / "roc.png"))


def test_training_curves_one_epoch_and_gaps(tmp_path: Path) -> None:
    one = [{"epoch": 1, "train_loss": 0.6, "val_loss": 0.5, "val_accuracy": 0.8, "val_macro_f1": 0.79}]
    _assert_png(plot_training_curves(one, tmp_path / "one.png"))
    gaps = [{"epoch": 1, "train_loss": 0.7}, {"epoch": 2, "train_loss": 0.5, "val_loss": None}]
    _assert_png(plot_training_curves(gaps, tmp_path / "gaps.png"))


def test_plot_overwrites_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "cm.png"
    target.write_bytes(b"old")
    plot_confusion_matrix([[3]], ["only"], target)
    _assert_png(target)


def test_plot_style_puts_a_cjk_font_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    from thresher import _fonts

    found = _fonts.cjk_font.__wrapped__()  # the real search, uncached
    assert found is None or found in {font.name for font in matplotlib.font_manager.fontManager.ttflist}
    monkeypatch.setattr(_fonts, "cjk_font", lambda: "Noto Sans CJK SC")
    with _fonts.plot_style():
        assert matplotlib.rcParams["font.sans-serif"][:2] == ["Noto Sans CJK SC", "DejaVu Sans"]
