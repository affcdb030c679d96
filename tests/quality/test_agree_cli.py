"""`thresher agree` through the CLI entry point: summary, files written, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from thresher.cli.main import main
from thresher.quality.agree import agree

# item 1: x x y; item 2: x y (a tie); item 3: y y y; item 4: x x
ROWS = [("1", "a", "x"), ("1", "b", "x"), ("1", "c", "y"), ("2", "a", "x"), ("2", "b", "y"),
        ("3", "a", "y"), ("3", "b", "y"), ("3", "c", "y"), ("4", "a", "x"), ("4", "c", "x")]


def _strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    frame = pd.DataFrame(ROWS, columns=["item", "annotator", "label"])
    frame["text"] = "text of " + frame["item"]
    frame.to_csv(tmp_path / "ann.csv", index=False)
    return tmp_path / "ann.csv"


def test_agree_prints_a_summary_and_writes_files(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["agree", str(small), "-o", str(out), "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert f"{small} (csv): 3 annotators, 4 items, 10 annotations; labels: x, y" in printed
    assert "Fleiss' kappa: " in printed and "Krippendorff's alpha (nominal): " in printed
    assert "majority-vote ties: 1 " in printed
    assert f"agreement: {out / 'agreement.json'}" in printed and f"consensus: {out / 'consensus.csv'}" in printed
    report = _strict_json((out / "agreement.json").read_text(encoding="utf-8"))
    expected = agree(small, bootstrap=200).to_dict()
    assert report["alpha"] == expected["alpha"] and report["cohen"] == expected["cohen"]
    assert report["files"] == {"agreement": str(out / "agreement.json"), "consensus": str(out / "consensus.csv")}
    consensus = pd.read_csv(out / "consensus.csv", dtype={"item": str}, keep_default_na=False)
    assert list(consensus.columns) == ["item", "text", "n_annotations", "label_majority", "tie",
                                       "tied_labels", "label_ds", "confidence"]
    assert consensus["item"].tolist() == ["1", "2", "3", "4"]
    assert consensus["text"].tolist() == ["text of 1", "text of 2", "text of 3", "text of 4"]
    assert consensus["n_annotations"].tolist() == [3, 2, 3, 2]
    assert consensus["tie"].tolist() == [False, True, False, False]
    assert consensus["tied_labels"].tolist() == ["", "x|y", "", ""]
    assert consensus.loc[[0, 2, 3], "label_majority"].tolist() == ["x", "y", "x"]
    # the tie goes to the label Dawid-Skene prefers
    assert consensus.loc[1, "label_majority"] == consensus.loc[1, "label_ds"]


def test_alpha_in_the_json_matches_the_hand_computation(small, capsys):
    # coincidences: unit 1 (x,x,y): o_xx=1, o_xy=o_yx=1; unit 2 (x,y): o_xy=o_yx=1;
    # unit 3 (y,y,y): o_yy=3; unit 4 (x,x): o_xx=2. n_x=5, n_y=5, n=10.
    # alpha = 1 - (n-1) * o_xy_total / (n_x n_y + n_y n_x) = 1 - 9 * 4 / 50 = 0.28
    assert main(["agree", str(small), "--json", "--bootstrap", "0"]) == 0
    report = _strict_json(capsys.readouterr().out)
    assert report["alpha"]["value"] == pytest.approx(0.28, abs=1e-12)
    assert report["alpha"]["ci"] == {"low": None, "high": None,
                                     "why": "no bootstrap draws were asked for (bootstrap=0)"}
    assert report["fleiss"]["items_used"] == 2 and report["fleiss"]["items_excluded"] == 2


def test_single_annotator_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("item,annotator,label\n1,alice,x\n2,alice,y\n")
    assert main(["agree", str(tmp_path / "one.csv")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: agreement needs at least two annotators; {tmp_path / 'one.csv'} has one (alice). "
                   "add the other annotators' labels to the file (one row per item, annotator and label).\n")


def test_bad_options_exit_2(small, capsys):
    assert main(["agree", str(small), "--level", "ratio"]) == 2
    assert capsys.readouterr().err == "error: level: unknown level 'ratio'. use nominal, ordinal or interval.\n"
    assert main(["agree", str(small), "--level", "ordinal"]) == 2
    assert "needs ordered labels, but these are not all numbers: x, y" in capsys.readouterr().err
    assert main(["agree", str(small), "--format", "xml"]) == 2
    assert capsys.readouterr().err.startswith("error: format: unknown annotation format 'xml'")


def test_order_items_and_one_label(small, tmp_path, capsys):
    assert main(["agree", str(small), "--level", "ordinal", "--order", "y, x", "--json", "--bootstrap", "0"]) == 0
    report = _strict_json(capsys.readouterr().out)
    assert report["labels"] == ["y", "x"] and report["alpha"]["value"] == pytest.approx(0.28, abs=1e-12)
    (tmp_path / "items.txt").write_text("1\n2\n3\n")
    assert main(["agree", str(small), "--items", str(tmp_path / "items.txt"), "--unknown-items", "drop",
                 "--bootstrap", "0"]) == 0
    assert "note: 2 annotations on 1 items not in the items file were dropped" in capsys.readouterr().out
    (tmp_path / "same.csv").write_text("item,annotator,label\n1,a,spam\n1,b,spam\n2,a,spam\n2,b,spam\n")
    assert main(["agree", str(tmp_path / "same.csv")]) == 0
    assert ("Fleiss' kappa: undefined (every annotation is 'spam': agreement is undefined without variation)"
            in capsys.readouterr().out)
