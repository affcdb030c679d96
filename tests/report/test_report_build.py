"""build_report on realistic run folders: content, inlining, escaping, partial runs, errors."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from thresher.errors import OutputError
from thresher.report import build_report

from .conftest import metrics_doc, write_run


def _html(run_dir: Path) -> str:
    path = build_report(run_dir)
    assert path == run_dir / "report.html"
    return path.read_text(encoding="utf-8")


def _table(html: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def _cells(row_name: str, table: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(row_name)}</td>(.*?)</tr>", table, re.S)
    assert row, f"no row {row_name}"
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)


def test_report_has_the_metric_table_with_model_baseline_and_delta(run_dir: Path) -> None:
    table = _table(_html(run_dir), "metrics")
    assert _cells("Accuracy", table) == ["0.822", "0.733", "+0.089"]
    assert _cells("Macro F1", table) == ["0.820", "0.731", "+0.089"]
    assert _cells("Weighted F1", table) == ["0.821", "0.732", "+0.089"]
    assert _cells("McNemar p-value (model vs baseline)", table) == ["0.007"]


def test_report_shows_funnel_invariant_splits_training_and_per_class(run_dir: Path) -> None:
    html = _html(run_dir)
    assert "<td>dedup_exact</td>" in html and "<td>too_short</td>" in html
    assert ">✔ rows read 156 = kept 151 + rejected 5</p>" in html
    assert "rejects.parquet holds 5 rows." in html
    assert "太差了，用了两天就坏了。" in html  # a reject example taken from rejects.parquet
    assert '<th>Model</th><td class="text">gemma3-270m</td>' in html
    assert '<th>LoRA</th><td class="text">r=8, alpha=16</td>' in html
    assert "<td>中性</td>" in _table(html, "per-class")
    assert "No model was trained" not in html
    assert "did not beat the baseline" not in html  # 0.822 vs 0.733, p = 0.007


def test_every_image_is_an_inlined_png(run_dir: Path) -> None:
    html = _html(run_dir)
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 6  # 2 data plots + training curves, confusion matrix, ROC, PR
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="http' not in html and "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()  # the page runs no code at all


def test_text_from_the_data_is_escaped(run_dir: Path) -> None:
    html = _html(run_dir)
    assert "alert(" in html  # the XSS text is shown (rejects and worst examples) ...
    assert "<script>alert" not in html  # ... but only as text
    assert html.count("&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; great phone") == 2


def test_data_only_run_renders_with_notes(data_only_run: Path) -> None:
    html = _html(data_only_run)
    assert "No model was trained in this run." in html
    assert "No model was evaluated in this run (no metrics.json)." in html
    assert 'id="metrics"' not in html
    assert (data_only_run / "plots" / "label_distribution.png").is_file()
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2


def test_missing_manifest_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        build_report(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'manifest.json'}: no manifest.json, so this is not a thresher run folder. "
        "Pass the folder a thresher run wrote (it holds manifest.json), or run the recipe first."
    )
    assert not (tmp_path / "report.html").exists()


def test_corrupt_manifest_names_the_line(run_dir: Path) -> None:
    (run_dir / "manifest.json").write_text('{"steps": [\n  oops\n]}', encoding="utf-8")
    with pytest.raises(
        OutputError, match=re.escape(f"{run_dir / 'manifest.json'}:2: not valid JSON")
    ):
        build_report(run_dir)


def test_banner_when_the_model_does_not_beat_the_baseline(tmp_path: Path) -> None:
    metrics = metrics_doc(model_accuracy=0.70, baseline_accuracy=0.7333)
    metrics["model"]["note"] = "best honest configuration: did not beat the baseline"
    html = _html(write_run(tmp_path / "run", metrics=metrics))
    banners = re.findall(r'<div class="banner (\w+)" role="alert">(.*?)</div>', html)
    assert banners == [
        ("warn", "best honest configuration: did not beat the baseline"),
        (
            "warn",
            "The model did not beat the baseline on test accuracy: 0.700 vs 0.733 "
            "(McNemar p = 0.0071).",
        ),
    ]
    assert _cells("Accuracy", _table(html, "metrics"))[2] == "-0.033"


def test_better_but_not_significant_is_said_plainly(tmp_path: Path) -> None:
    metrics = metrics_doc(model_accuracy=0.75, baseline_accuracy=0.7333)
    metrics["comparison"]["mcnemar"]["p_value"] = 0.41
    html = _html(write_run(tmp_path / "run", metrics=metrics))
    assert (
        "The model beats the baseline on test accuracy (0.750 vs 0.733), "
        "but not significantly (McNemar p = 0.41)."
    ) in html


@pytest.mark.parametrize(
    "metrics",
    [
        {},
        {"model": {}, "splits": {}, "baseline": None, "comparison": None, "worst_examples": None},
        {"model": {"kind": "tfidf"}, "splits": {"test": {"accuracy": 0.5}}},
        {
            "splits": {"test": {"per_class": {"a": {}}, "confusion_matrix": {"labels": ["a"]}}},
            "baseline": {"splits": {"test": {"accuracy": "n/a"}}},
            "comparison": {"delta": None},
        },
        {"history": [{"epoch": 1}, "junk"], "worst_examples": [{"text": None}], "labels": None},
        {
            "splits": {
                "test": {
                    "accuracy": 0.5,
                    "n": "many",
                    "per_class": {"a": {"support": "n/a"}, "b": None},
                    "confusion_matrix": {"labels": ["a", "b"], "matrix": [["x", 1], [2, None]]},
                }
            }
        },
        {"splits": {"test": {"confusion_matrix": {"labels": ["a", "b"], "matrix": [[1, 2], 3]}}}},
    ],
)
def test_partial_metrics_render_without_errors(tmp_path: Path, metrics: dict) -> None:
    html = _html(write_run(tmp_path / "run", metrics=metrics))
    assert "</html>" in html


def test_model_without_baseline_has_no_baseline_columns(tmp_path: Path) -> None:
    metrics = metrics_doc()
    metrics["baseline"] = None
    metrics.pop("comparison")
    table = _table(_html(write_run(tmp_path / "run", metrics=metrics)), "metrics")
    assert _cells("Accuracy", table) == ["0.822"]
    assert "baseline" not in table


def test_broken_rows_invariant_is_shown_in_red(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["rows"]["kept"] = 150
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = _html(run_dir)
    assert '<p class="invariant broken" id="invariant">' in html
    assert ">✘ rows read 156 ≠ kept 150 + rejected 5</p>" in html


def test_reject_examples_fall_back_to_the_manifest(run_dir: Path) -> None:
    (run_dir / "rejects.parquet").unlink()
    html = _html(run_dir)
    assert '<ul class="examples"><li>ok</li><li>好</li><li>a</li></ul>' in html
    assert "rejects.parquet holds" not in html


def test_worst_examples_fall_back_to_predictions(tmp_path: Path) -> None:
    metrics = metrics_doc()
    metrics.pop("worst_examples")
    run = write_run(tmp_path / "run", metrics=metrics)
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "text": ["right", "wrong but unsure", "wrong and sure 很确定"],
            "label": ["pos", "neg", "neg"],
            "predicted": ["pos", "pos", "pos"],
            "confidence": [0.99, 0.55, 0.97],
        }
    ).to_parquet(run / "predictions.parquet", index=False)
    worst = _table(_html(run), "worst")
    assert worst.index("wrong and sure 很确定") < worst.index("wrong but unsure")
    assert "right" not in worst


def test_rebuilding_replaces_the_report_and_leaves_no_temporary_files(run_dir: Path) -> None:
    (run_dir / "report.html").write_text("old", encoding="utf-8")
    _html(run_dir)
    assert (run_dir / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    leftovers = [p.name for p in run_dir.rglob(".*tmp*")]
    assert leftovers == []


def test_invariant_is_summed_from_steps_when_the_manifest_has_no_totals(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    del manifest["rows"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = _html(run_dir)
    assert (
        ">✔ rows read 156 = kept 151 + rejected 5 "
        "(summed from the steps: the manifest has no row totals)</p>"
    ) in html


def test_an_unwritable_report_path_is_an_output_error(run_dir: Path) -> None:
    (run_dir / "report.html").mkdir()  # a folder where the page should go: os.replace fails
    with pytest.raises(OutputError, match=re.escape(f"{run_dir / 'report.html'}: cannot write")):
        build_report(run_dir)


def _with_intervals_calibration_and_compare(metrics: dict) -> dict:
    test, base = metrics["splits"]["test"], metrics["baseline"]["splits"]["test"]
    test["confidence_intervals"] = {"accuracy": {"estimate": 0.8222, "low": 0.7111, "high": 0.9111}}
    base["confidence_intervals"] = {"accuracy": {"estimate": 0.7333, "low": 0.6, "high": 0.8444}}
    test["calibration"] = {"ece": 0.0712, "mce": 0.2101, "method": "top-label, 10 equal-width bins"}
    base["calibration"] = {"ece": 0.1523, "mce": 0.3, "method": "top-label, 10 equal-width bins"}
    metrics["comparison"]["delta_ci"] = {"accuracy": {"delta": 0.0889, "low": 0.0222, "high": 0.1556}}
    metrics["compare"] = {
        "this": {"path": "runs/new", "split": "test", "rows": 45},
        "other": {"path": "runs/old", "split": "test", "rows": 40},
        "metrics": [{"metric": "accuracy", "this": 0.8222, "this_ci": [0.7111, 0.9111], "other": 0.75,
                     "other_ci": [0.6, 0.875], "delta": 0.0722}],
        "same_rows": False, "paired": None,
        "note": "the runs scored different rows (45 here, 40 in runs/old, 38 ids in common): no paired test",
    }
    return metrics


def test_report_shows_intervals_calibration_and_the_earlier_run(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", metrics=_with_intervals_calibration_and_compare(metrics_doc())))
    table = _table(html, "metrics")
    assert "<th class=\"n\">model 95% CI</th>" in table
    assert _cells("Accuracy", table) == ["0.822", "[0.711, 0.911]", "0.733", "[0.600, 0.844]", "+0.089"]
    assert _cells("Macro F1", table) == ["0.820", "", "0.731", "", "+0.089"]  # no interval stored
    assert _cells("Model − baseline accuracy, paired 95% CI", table) == ["[+0.022, +0.156]"]
    # ECE: lower is better, so the model's smaller error is shown as a gain (green)
    ece = re.search(r"<tr><td>Calibration error \(ECE\)</td>.*?</tr>", table, re.S).group(0)
    assert '<td class="n pos">-0.081</td>' in ece
    calibration = _table(html, "calibration-table")
    assert _cells("model", calibration) == ["0.071", "0.210", "top-label, 10 equal-width bins"]
    compare = _table(html, "compare-table")
    assert _cells("Accuracy", compare) == ["0.822", "[0.711, 0.911]", "0.750", "[0.600, 0.875]", "+0.072"]
    assert "McNemar" not in compare
    assert "no paired test</p>" in html and "<code>runs/old</code>" in html
    assert '<a href="#compare">Earlier run</a>' in html


def test_report_without_intervals_keeps_the_plain_table(run_dir: Path) -> None:
    html = _html(run_dir)
    assert "95% CI" not in html and 'id="compare"' not in html and 'id="calibration"' not in html
