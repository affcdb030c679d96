from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from thresher.engine.steps import run_step
from thresher.errors import RecipeError
from thresher.ops.review import ApplyReview
from thresher.recipe import parse_recipe


def table(labels: list) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(labels))],
                         "text": [f"text {i}" for i in range(len(labels))], "label": labels})


def test_inline_decisions_relabel_drop_and_keep_with_lineage():
    op = ApplyReview(decisions={"r0": "drop", "r1": {"relabel": "pos"}, "r2": "keep",
                                "gone": "drop"})
    op.check()
    out, rejects, stats = run_step(op, table(["neg", "neg", "neg", "pos"]))
    assert list(out["id"]) == ["r1", "r2", "r3"]
    assert list(out["label"]) == ["pos", "neg", "pos"]
    assert out["label_before_review"].iloc[0] == "neg"
    assert out["label_before_review"].isna().tolist() == [False, True, True]
    assert [(r.id, r.reason) for r in rejects] == [("r0", "review_drop")]
    assert stats.info["changes"] == {"neg->pos": 1} and stats.info["ids_not_in_data"] == 1


def test_integer_labels_stay_integers():
    out, _, _ = run_step(ApplyReview(decisions={"r0": {"relabel": "1"}}), table([0, 0, 1]))
    assert list(out["label"]) == [1, 0, 1]
    out, _, _ = run_step(ApplyReview(decisions={"r0": {"relabel": "pos"}}), table([0, 0, 1]))
    assert list(out["label"]) == ["pos", "0", "1"]


def test_a_reviewed_file_empty_decisions_keep_and_suggested_label_fills_in(tmp_path: Path):
    pd.DataFrame({"id": ["r0", "r1", "r2"], "suggested_label": ["pos", "neg", "pos"],
                  "decision": ["relabel", "", "DROP"], "new_label": ["", "", ""],
                  "note": ["", "", "spam"]}).to_csv(tmp_path / "rev.csv", index=False)
    out, rejects, stats = run_step(ApplyReview(file=str(tmp_path / "rev.csv")),
                                   table(["neg", "neg", "neg"]))
    assert list(out["label"]) == ["pos", "neg"]
    assert [(r.id, r.detail) for r in rejects] == [("r2", "spam")]
    assert stats.info["decisions"] == {"keep": 0, "relabel": 1, "drop": 1, "": 1}


@pytest.mark.parametrize("rows, message", [
    ({"id": ["r0"], "decision": ["maybe"]}, "rev.csv:2: decision 'maybe' is not one of keep, relabel, drop"),
    ({"id": ["r0"], "decision": ["relabel"]}, "rev.csv:2: relabel needs new_label (or suggested_label)"),
    ({"id": ["r0", "r0"], "decision": ["drop", "keep"]}, "rev.csv:3: id r0 has two different decisions"),
    ({"ident": ["r0"], "decision": ["drop"]}, "has no id column (columns: ident, decision)"),
])
def test_bad_review_files_fail_when_the_recipe_loads(tmp_path: Path, rows, message):
    pd.DataFrame(rows).to_csv(tmp_path / "rev.csv", index=False)
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]}).to_csv(tmp_path / "d.csv", index=False)
    raw = {"input": {"path": "d.csv"}, "steps": [{"apply_review": {"file": "rev.csv"}}]}
    with pytest.raises(RecipeError) as err:
        parse_recipe(raw, base_dir=tmp_path, where="r.yaml")
    assert err.value.where == "r.yaml: steps[1] apply_review" and message in err.value.what


def test_file_or_decisions_but_not_both_and_missing_file(tmp_path: Path):
    with pytest.raises(RecipeError, match="give either file"):
        parse_recipe({"input": "d.csv", "steps": [{"apply_review": {}}]})
    with pytest.raises(RecipeError, match="review file not found: .*nope.csv"):
        parse_recipe({"input": "d.csv", "steps": [{"apply_review": {"file": "nope.csv"}}]},
                     base_dir=tmp_path)


def test_editing_the_review_file_reruns_the_data_stage(tmp_path: Path):
    from thresher import run

    pd.DataFrame({"text": [f"t {i}" for i in range(10)], "label": ["a", "b"] * 5}).to_csv(
        tmp_path / "d.csv", index=False)
    ids = run_ids(tmp_path)
    (tmp_path / "rev.csv").write_text(f"id,decision\n{ids[0]},drop\n")
    (tmp_path / "r.yaml").write_text("input: d.csv\nsteps: [{apply_review: {file: rev.csv}}]\n")
    assert run(tmp_path / "r.yaml", tmp_path / "out").manifest["rows"]["rejected"] == 1
    (tmp_path / "rev.csv").write_text(f"id,decision\n{ids[0]},drop\n{ids[1]},drop\n")
    result = run(tmp_path / "r.yaml", tmp_path / "out")
    assert "data" not in result.skipped and result.manifest["rows"]["rejected"] == 2


def run_ids(tmp_path: Path) -> list[str]:
    from thresher.io import read_source

    return list(read_source(tmp_path / "d.csv").table["id"])
