from __future__ import annotations

from pathlib import Path

import pytest

from thresher.errors import RecipeError
from thresher.ops import OPERATORS
from thresher.recipe import load_recipe, parse_recipe

BASE = {"task": "classification", "input": {"path": "data.csv"}}


def err(raw) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(raw)
    return info.value.message


def test_minimal_recipe_and_steps():
    r = parse_recipe({**BASE, "steps": [{"normalize": {}}, "dedup_exact",
                                        {"filter_length": {"min_chars": 2, "max_chars": 50}}],
                      "split": {"validation": 0.1, "test": 0.2}})
    assert [s.name for s in r.steps] == ["normalize", "dedup_exact", "filter_length"]
    assert r.steps[2].build().max_chars == 50
    assert r.split.test == 0.2 and r.split.stratify is True and r.train is None


def test_unknown_section_names_the_allowed_ones():
    assert err({**BASE, "trian": {}}) == (
        "recipe: unknown section 'trian'. allowed sections: name, task, seed, input, steps, "
        "split, profile, audit, augment, train, evaluate, report.")


def test_unknown_step_and_setting_and_bad_value():
    assert err({**BASE, "steps": [{"normalise": {}}]}) == (
        "recipe: steps[1]: unknown step 'normalise'. "
        f"known steps: {', '.join(sorted(OPERATORS))}.")
    assert {"dedup_exact", "filter_length", "normalize"} <= set(OPERATORS)
    assert err({**BASE, "steps": [{"filter_length": {"min_char": 2}}]}) == (
        "recipe: steps[1] filter_length: unknown setting 'min_char'. "
        "allowed settings: max_chars, max_words, min_chars, min_words, unit.")
    assert err({**BASE, "steps": [{"dedup_exact": {"conflicts": "vote"}}]}) == (
        "recipe: steps[1] dedup_exact.conflicts: 'conflicts' must be one of 'drop_all', "
        "'majority', 'keep_first', got 'vote'. set conflicts to one of 'drop_all', "
        "'majority', 'keep_first'.")
    assert "max_chars must be >= min_chars" in err(
        {**BASE, "steps": [{"filter_length": {"min_chars": 9, "max_chars": 3}}]})


def test_bad_task_split_and_input():
    assert "unknown task 'summarize'" in err({**BASE, "task": "summarize"})
    assert "validation + test must leave rows" in err({**BASE, "split": {"validation": 0.5,
                                                                         "test": 0.5}})
    assert "the input section needs a path" in err({"task": "classification"})
    assert "'stratify' must be true or false, got 'yes'" in err(
        {**BASE, "split": {"stratify": "yes"}})


def test_train_needs_split():
    assert "training needs a split section" in err({**BASE, "train": {}})


def test_load_recipe_resolves_input_relative_to_file(tmp_path: Path):
    (tmp_path / "r.yaml").write_text("input: {path: sub/data.csv}\nsteps: [normalize]\n")
    r = load_recipe(tmp_path / "r.yaml")
    assert Path(r.input.path) == (tmp_path / "sub" / "data.csv").resolve()


def test_yaml_error_names_the_line(tmp_path: Path):
    (tmp_path / "r.yaml").write_text("input:\n  path: a.csv\n steps: [\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(tmp_path / "r.yaml")
    assert info.value.where.startswith(f"{tmp_path / 'r.yaml'}:")
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.yaml")


def test_split_leakage_settings_defaults_and_checks():
    s = parse_recipe({**BASE, "split": {}}).split
    assert (s.group_by, s.leakage_check, s.leakage_threshold, s.decontaminate,
            s.on_contamination) == ("auto", True, 0.8, None, "report")
    assert parse_recipe({**BASE, "split": {"group_by": None, "leakage_threshold": 1}}).split \
        .group_by is None
    assert err({**BASE, "split": {"leakage_threshold": 0}}) == (
        "recipe: split.leakage_threshold: leakage_threshold must be in (0, 1], got 0. "
        "e.g. leakage_threshold: 0.8.")
    assert "leakage_threshold must be in (0, 1], got 1.5" in err(
        {**BASE, "split": {"leakage_threshold": 1.5}})
    assert "'on_contamination' must be one of 'report', 'drop', got 'delete'" in err(
        {**BASE, "split": {"on_contamination": "delete"}})


def test_decontaminate_path_is_relative_to_the_recipe_and_must_exist(tmp_path: Path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "test.csv").write_text("text,label\nok,a\n")
    (tmp_path / "r.yaml").write_text(
        "input: data.csv\nsplit: {decontaminate: eval/test.csv, on_contamination: drop}\n")
    r = load_recipe(tmp_path / "r.yaml")
    assert Path(r.split.decontaminate) == (tmp_path / "eval" / "test.csv").resolve()
    assert r.split.on_contamination == "drop"
    (tmp_path / "r.yaml").write_text("input: data.csv\nsplit: {decontaminate: eval/gone.csv}\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(tmp_path / "r.yaml")
    gone = (tmp_path / "eval" / "gone.csv").resolve()
    assert info.value.message == (
        f"{tmp_path / 'r.yaml'}: split.decontaminate: decontaminate file not found: {gone}. "
        "give the path of an evaluation set, relative to the recipe file.")


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "examples").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_example_recipes_load(path):
    """Every shipped example is a valid recipe (steps, split and train settings checked)."""
    recipe = load_recipe(path)
    assert recipe.steps and recipe.input.path
