"""`thresher profile` through the CLI entry point: the summary, --json, the files it writes,
and one-line errors with exit code 2."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from thresher.cli.main import main

WORDS = "room staff hotel breakfast view quiet bed shower window door lift pool bar".split()


def data_file(tmp_path: Path) -> Path:
    rng = random.Random(9)
    rows = [(" ".join(rng.choice(WORDS) for _ in range(6)) + f" n{i}", "pos" if i % 4 else "neg")
            for i in range(80)]
    rows += [rows[0], ("call me on 13812345678 please", "pos")]  # an exact copy, a phone number
    path = tmp_path / "d.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_summary_warnings_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["profile", str(data_file(tmp_path)), "-o", str(out), "--tokenizer", "minilm",
                 "--max-length", "6"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "warning: personal data in 1 row (phone 1): add the pii step (mode: redact) to the " \
           "recipe's steps" in printed
    assert "tokenizer minilm: [UNK] 0.0% of tokens" in printed
    assert "warning: 100% of texts are longer than max_length=6 tokens of minilm" in printed
    assert f"written to {out}" in printed
    written = json.loads((out / "profile.json").read_text(encoding="utf-8"))
    assert written["rows"] == 82 and written["tokenizer"]["max_length"] == 6
    assert written["duplicates"]["within"]["all"]["duplicate_rows"] == 1
    assert (out / "profile.html").is_file()
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "profile_char_lengths.png", "profile_labels.png", "profile_token_lengths.png",
        "profile_top_words.png"]


def test_json_output_and_no_near_dup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["profile", str(data_file(tmp_path)), "--json", "--no-near-dup"])
    found = json.loads(capsys.readouterr().out)
    assert code == 0
    assert found["rows"] == 82 and found["splits"]["all"]["labels"]["counts"] == {"pos": 61, "neg": 21}
    assert found["duplicates"]["near"] is None and found["tokenizer"]["spec"] is None
    assert found["files"] == {}  # a data file without -o writes nothing
    assert not (tmp_path / "profile.json").exists()


def test_a_data_file_without_out_says_nothing_was_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", str(data_file(tmp_path)), "--no-near-dup"]) == 0
    printed = capsys.readouterr().out
    assert "nothing written: pass -o OUT for profile.json, plots and profile.html" in printed
    assert "82" in printed and "note:" not in printed


@pytest.mark.parametrize("args, message", [
    (["missing.csv"], "error: missing.csv: file not found. check the path (a Hugging Face Hub "
                      "dataset is written hf:NAME).\n"),
    (["{data}", "--tokenizer", "no-such-model"],
     "error: train.model: model 'no-such-model' was not found: it is not an existing folder or "
     ".gguf file, nor an offline backbone. Pass a model folder or .gguf file, or one of: "
     "gemma3-270m, minilm, smollm2.\n"),
    (["{data}", "--label", "topic"],
     "error: {data}: label column 'topic' not found; the columns are 'text', 'label'. pass "
     "label= one of 'text', 'label'.\n"),
    (["{run}"], "error: {run}: the run folder has no data/ folder, so there are no splits to "
                "profile. run the recipe first (thresher run RECIPE.yaml -o RUN_DIR), or pass a "
                "data file.\n"),
])
def test_errors_are_one_line_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, args: list[str],
                                              message: str) -> None:
    monkeypatch.chdir(tmp_path)
    data = data_file(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text("{}", encoding="utf-8")
    fill = {"data": str(data), "run": str(run)}
    code = main(["profile", *(a.format(**fill) for a in args)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == message.format(**fill)


def test_max_length_below_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["profile", str(data_file(tmp_path)), "--max-length", "0"])
    assert code == 2
    assert capsys.readouterr().err == ("error: max_length: max_length must be at least 1, got 0. "
                                       "pass the number of tokens the model reads, e.g. 128.\n")
