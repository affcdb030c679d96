from __future__ import annotations

import subprocess
import sys

import thresher


def test_all_is_sorted_unique_and_resolvable():
    assert thresher.__all__ == sorted(thresher.__all__)
    assert len(set(thresher.__all__)) == len(thresher.__all__)
    for name in thresher.__all__:
        assert getattr(thresher, name) is not None, name


def test_inspect_and_run_are_the_functions():
    assert callable(thresher.inspect) and callable(thresher.run)


def test_import_is_light():
    code = "import sys, thresher; print(int('torch' in sys.modules), int('matplotlib' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
