"""The recipe's `profile:` and `audit:` sections, and the report's Data health section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thresher import run
from thresher.errors import RecipeError
from thresher.recipe import parse_recipe


def write(tmp_path: Path, extra: str, make_reviews) -> Path:
    frame, _ = make_reviews(n=300, flips=15)
    frame.drop(columns="id").to_csv(tmp_path / "d.csv", index=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("input: {path: d.csv}\nsplit: {validation: 0.1, test: 0.1}\n" + extra)
    return recipe


def test_audit_section_runs_after_the_split_and_is_skipped_when_unchanged(make_reviews, tmp_path: Path):
    recipe = write(tmp_path, "audit: {folds: 4}\nreport: {}\n", make_reviews)
    result = run(recipe, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "audit" / "audit.json").read_text())
    assert summary["settings"]["folds"] == 4 and summary["counts"]["label_error"] >= 10
    assert set(summary["by_split"]) <= {"train", "validation", "test"}
    html = result.report.read_text(encoding="utf-8")
    assert "Data health" in html and "Label audit" in html and "likely label errors" in html
    assert "audit" in result.manifest["stages"]
    again = run(recipe, tmp_path / "out")
    assert {"data", "audit"} <= set(again.skipped)
    recipe.write_text(recipe.read_text().replace("folds: 4", "folds: 3"))
    third = run(recipe, tmp_path / "out")
    assert "audit" not in third.skipped and "data" in third.skipped


def test_a_run_without_health_files_has_no_health_section(make_reviews, tmp_path: Path):
    result = run(write(tmp_path, "report: {}\n", make_reviews), tmp_path / "out")
    assert 'id="health"' not in result.report.read_text(encoding="utf-8")


def test_an_unreadable_audit_file_is_named_in_the_report(make_reviews, tmp_path: Path):
    from thresher.report import build_report

    run(write(tmp_path, "", make_reviews), tmp_path / "out")
    (tmp_path / "out" / "audit").mkdir()
    (tmp_path / "out" / "audit" / "audit.json").write_text("{not json")
    html = build_report(tmp_path / "out").read_text(encoding="utf-8")
    assert "audit/audit.json could not be read" in html


def test_bad_health_settings_fail_when_the_recipe_loads():
    with pytest.raises(RecipeError, match="unknown setting 'fold'"):
        parse_recipe({"input": "d.csv", "audit": {"fold": 3}})
    with pytest.raises(RecipeError, match="'format' must be"):
        parse_recipe({"input": "d.csv", "audit": {"format": "xlsx"}})
    with pytest.raises(RecipeError, match="'filter_by' must be one of"):
        parse_recipe({"input": "d.csv", "audit": {"filter_by": "best"}})
    with pytest.raises(RecipeError, match="folds must be at least 2, got 1"):
        parse_recipe({"input": "d.csv", "audit": {"folds": 1}})


def test_profile_and_audit_sections_together_in_the_report(make_reviews, tmp_path: Path):
    recipe = write(tmp_path, "profile: {tokenizer: baseline, near_dup: false}\naudit: {}\n"
                             "report: {}\n", make_reviews)
    result = run(recipe, tmp_path / "out")
    html = result.report.read_text(encoding="utf-8")
    assert (tmp_path / "out" / "profile.json").is_file()
    assert html.count('id="health"') == 1 and "Shift between splits" in html
    assert "Label audit" in html and 'href="#health"' in html
    # the profile's plots are shown once, in Data health, not again among "other plots"
    assert html.count('alt="Share of rows per label, per split"') == 1
    assert {"profile", "audit"} <= set(result.manifest["stages"])
