"""thresher.predict and `thresher predict`: new files labelled by a run's saved classifiers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import thresher
from thresher.cli.main import main
from thresher.errors import DataError, InputError, ModelError, OutputError
from thresher.train import BaselineClassifier, load_classifier

POSITIVE = ["房间干净，服务热情，下次还来。", "质量很好，物流也快，非常满意。",
            "Great battery, fast delivery.", "I love this phone, the screen is superb!",
            "Works exactly as described, great value."]
NEGATIVE = ["太差了，用了两天就坏了。", "客服态度恶劣，再也不买了。",
            "Broke after two days. Avoid.", "The worst hotel I have stayed in, dirty and loud.",
            "Refund took a month; awful service."]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder with two real TF-IDF classifiers: model/ on all rows, baseline/ on a few."""
    run = tmp_path_factory.mktemp("predict") / "run"
    texts = [t + suffix for t in POSITIVE + NEGATIVE for suffix in ("", " 真的。", " Really.")]
    labels = [y for y in ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE) for _ in range(3)]
    BaselineClassifier().fit(texts, labels).save(run / "model")
    BaselineClassifier(C=0.01).fit(texts[::4], labels[::4]).save(run / "baseline")
    (run / "manifest.json").write_text(json.dumps({"recipe": {}, "steps": []}), encoding="utf-8")
    return run


def _new_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a1", "a2", "a3", "a4"],
        "review": ["服务热情，非常满意", "Awful: it broke after a day.", "太差了，再也不买了",
                   "Superb screen, great phone"],
        "posted": ["2024-01-02", "2024-01-03", "2024-01-03", "2024-02-11"],  # not a label
    })


def test_predict_a_csv_without_labels(run_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    _new_rows().to_csv(path, index=False)
    table = thresher.predict(run_dir, path)
    assert list(table.columns) == ["id", "text", "predicted", "confidence", "proba_neg", "proba_pos"]
    assert table["id"].tolist() == ["a1", "a2", "a3", "a4"]
    assert table["text"].tolist() == _new_rows()["review"].tolist()
    expected = load_classifier(run_dir / "model").predict_proba(table["text"].tolist())
    assert np.allclose(table[["proba_neg", "proba_pos"]].to_numpy(), expected)
    assert (table["confidence"] == expected.max(axis=1)).all()
    assert table["predicted"].tolist() == ["pos", "neg", "neg", "pos"]
    assert table.attrs["skipped"] == {} and table.attrs["text_column"] == "review"


def test_predict_a_jsonl_carries_labels_and_skips_rows_without_text(run_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    rows = [{"text": "服务热情，非常满意", "label": "pos"}, {"text": "   ", "label": "neg"},
            {"text": "Awful: it broke after a day.", "label": None}, {"text": "质量很好", "label": "neg"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "labelled.jsonl"
    table = thresher.predict(run_dir, path, output=out, model="baseline")
    assert table["label"].isna().tolist() == [False, True, False]
    assert table["label"][0] == "pos" and table["label"][2] == "neg"
    assert table.attrs["skipped"] == {"empty_text": 1}
    assert table["id"].is_unique and len(table["id"][0]) == 16  # content ids, as the readers make
    baseline = load_classifier(run_dir / "baseline").predict_proba(table["text"].tolist())
    assert np.allclose(table[["proba_neg", "proba_pos"]].to_numpy(), baseline)
    written = pd.read_json(out, lines=True)
    assert written.columns.tolist() == table.columns.tolist()
    assert written["text"].tolist() == table["text"].tolist()  # Chinese written as UTF-8 text
    assert "服务热情" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_output_formats_round_trip(run_dir: Path, tmp_path: Path, suffix: str) -> None:
    source = tmp_path / "new.csv"
    _new_rows().to_csv(source, index=False)
    out = tmp_path / f"out{suffix}"
    table = thresher.predict(run_dir, source, output=out)
    back = pd.read_csv(out, dtype={"id": str}) if suffix == ".csv" else pd.read_parquet(out)
    assert back["id"].tolist() == table["id"].tolist() == ["a1", "a2", "a3", "a4"]
    assert np.allclose(back["proba_pos"], table["proba_pos"])


def test_bad_output_name_and_missing_model(run_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "new.csv"
    _new_rows().to_csv(source, index=False)
    with pytest.raises(OutputError, match=r"cannot write predictions as '.xlsx'"):
        thresher.predict(run_dir, source, output=tmp_path / "out.xlsx")
    with pytest.raises(ModelError) as caught:
        thresher.predict(tmp_path, source)
    assert str(caught.value) == (f"{tmp_path / 'model'}: no trained model in this run. "
                                 f"run `thresher train {tmp_path}` first.")


def test_unusable_inputs(run_dir: Path, tmp_path: Path) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no data rows \(the file holds only a header\)"):
        thresher.predict(run_dir, header_only)
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"text": ""}\n{"text": "  "}\n', encoding="utf-8")
    with pytest.raises(DataError, match="no row has text in column 'text'"):
        thresher.predict(run_dir, blank)
    with pytest.raises(DataError, match="text column 'body' not found; the columns are 'text'"):
        thresher.predict(run_dir, blank, text="body")


def test_cli_predict_writes_and_prints(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "new.csv"
    _new_rows().to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", str(run_dir), "--input", str(source), "--output", str(out),
                 "--batch-size", "2"]) == 0
    printed = capsys.readouterr().out
    assert "predicted 4 rows" in printed and "pos: 2, neg: 2" in printed and str(out) in printed
    assert "agreement" not in printed  # the input has no label column
    assert pd.read_csv(out)["predicted"].tolist() == ["pos", "neg", "neg", "pos"]
    assert main(["predict", str(run_dir), "--input", str(source)]) == 0  # default output path
    assert (run_dir / "predict" / "new.parquet").is_file()


def test_cli_predict_bad_files_exit_2(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert main(["predict", str(run_dir), "--input", str(binary)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {binary}: looks binary") and err.count("\n") == 1
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["predict", str(run_dir), "--input", str(empty)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {empty}")
    assert main(["predict", str(run_dir), "--input", str(tmp_path / "nope.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_models_for_tasks_predict_does_not_know_are_refused(tmp_path: Path) -> None:
    # multilabel, ner and sentence-pair models are predicted too (tests/test_predict_tasks.py)
    folder = tmp_path / "run" / "model"
    folder.mkdir(parents=True)
    (folder / "thresher_model.json").write_text(json.dumps({"kind": "transformer", "task": "sft"}))
    with pytest.raises(ModelError) as caught:
        thresher.predict(tmp_path / "run", tmp_path / "never-read.csv")
    assert str(caught.value) == (f"{folder}: this model is for 'sft'; predict handles "
                                 "classification, multilabel, ner. predict with a model trained "
                                 "for one of these tasks.")
