"""The report as a browser shows it: headless Chromium loads the page offline, the DOM holds
the metric table with its numbers, nothing errors, and a screenshot shows a drawn page."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from thresher.report import build_report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian chromium not installed (make setup installs it)",
    ),
]

# Headless, offline and quiet: no sandbox (root in containers), no GPU, no network chatter.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
# What Chromium logs when a page fails: script errors, console.error, failed loads.
PAGE_ERRORS = re.compile(r"CONSOLE|Uncaught|net::ERR_|Failed to load resource|Not allowed to load")


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["chromium", *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class _TableText(HTMLParser):
    """The cell texts, row by row, of the table with a given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows = table_id, False, []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data.strip()


def _page_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PAGE_ERRORS.search(line)]


@pytest.mark.slow
def test_chromium_renders_the_metric_table_without_errors(run_dir: Path, tmp_path: Path) -> None:
    page = build_report(run_dir)
    done = _chromium(page, tmp_path / "profile", "--dump-dom")
    parser = _TableText("metrics")
    parser.feed(done.stdout)
    assert parser.rows[:2] == [
        ["metric", "model", "baseline", "delta"],
        ["Accuracy", "0.822", "0.733", "+0.089"],
    ]
    assert ["McNemar p-value (model vs baseline)", "0.007"] in parser.rows
    assert "太差了，用了两天就坏了。" in done.stdout
    assert "<script>alert" not in done.stdout  # the XSS text stayed text in the live DOM
    assert _page_errors(done.stderr) == []


@pytest.mark.slow
def test_chromium_screenshot_shows_a_drawn_page(run_dir: Path, tmp_path: Path) -> None:
    page = build_report(run_dir)
    shot = tmp_path / "report.png"
    done = _chromium(page, tmp_path / "profile", "--window-size=1200,5200", f"--screenshot={shot}")
    assert _page_errors(done.stderr) == []
    image = imread(shot)
    assert image.shape[:2] == (5200, 1200)
    rgb = (image[..., :3] * 255).astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert colours.size > 500  # text, tables and the inlined plots, not a blank or error page
    # The top of the page (header, funnel) is drawn: many rows differ from the background.
    top = rgb[:1200]
    assert (top.std(axis=1).max(axis=-1) > 10).sum() > 200


def test_the_error_check_catches_a_failing_page(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><p>x</p><script>undefinedFunction();</script>", encoding="utf-8"
    )
    done = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("undefinedFunction" in line for line in _page_errors(done.stderr))
