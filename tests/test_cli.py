from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from thresher.cli.main import main


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path, capsys):
    code = main(["inspect", str(tmp_path / "nope.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'nope.csv'}") and err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_recipe_exit_2(tmp_path: Path, capsys):
    (tmp_path / "r.yaml").write_text("input: {path: x.csv}\nsteps: [{normalise: {}}]\n")
    assert main(["run", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "out")]) == 2
    assert "unknown step 'normalise'" in capsys.readouterr().err


def test_run_prints_the_funnel(tmp_path: Path, capsys):
    rows = [("pos" if i % 2 else "neg", f"review number {i} text") for i in range(40)]
    pd.DataFrame(rows, columns=["label", "text"]).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "r.yaml").write_text(
        "input: {path: d.csv}\nsteps: [normalize, dedup_exact]\nsplit: {validation: 0.1, test: 0.1}\n")
    assert main(["run", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "data funnel" in out and "dedup_exact" in out and "read 40 = kept 40" in out


def test_entry_point_exit_code_and_debug_traceback(tmp_path: Path):
    exe = [sys.executable, "-m", "thresher.cli.main"]
    plain = subprocess.run(exe + ["report", str(tmp_path)], capture_output=True, text=True)
    assert plain.returncode == 2 and "not a run folder" in plain.stderr
    debug = subprocess.run(exe + ["--debug", "report", str(tmp_path)], capture_output=True,
                           text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_an_option_out_of_range_is_a_usage_error_exit_2(tmp_path: Path, capsys):
    assert main(["predict", str(tmp_path), "--input", "x.csv", "--batch-size", "0"]) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--batch-size'" in err and "internal error" not in err
