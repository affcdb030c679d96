"""A font that draws Chinese, so the data plots of a Chinese dataset are readable.

matplotlib caches its font list the first time it runs; a CJK font installed afterwards
(``apt-get install fonts-noto-cjk``) is invisible to it until the cache is rebuilt. So the
files fontconfig reports for ``:lang=zh`` are registered explicitly when matplotlib does not
know any CJK family yet. Without any such font the plots stay valid (missing glyphs are
drawn as boxes) and the per-glyph warnings are silenced.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import matplotlib

__all__ = ["cjk_font", "plot_style"]

# Family names of common CJK fonts (Debian fonts-noto-cjk / fonts-wqy-*, Windows, macOS),
# best first: sans-serif Simplified Chinese faces suit chart labels.
KNOWN_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None when there is none."""
    from matplotlib import font_manager

    found = _pick(font_manager.fontManager.ttflist)
    if found is None:
        for file, _ in _fontconfig_zh():
            try:
                font_manager.fontManager.addfont(file)
            except (OSError, RuntimeError, ValueError):
                continue  # an unreadable font file must not break a report
        found = _pick(font_manager.fontManager.ttflist)
    return found


def _pick(fonts: list) -> str | None:
    known = {font.name for font in fonts}
    zh_families = [family for _, family in _fontconfig_zh()]
    return next((name for name in (*KNOWN_CJK_FAMILIES, *zh_families) if name in known), None)


@lru_cache(maxsize=1)
def _fontconfig_zh() -> tuple[tuple[str, str], ...]:
    """(file, family) pairs fontconfig says cover Chinese; empty where fc-list is absent."""
    if shutil.which("fc-list") is None:
        return ()
    try:
        done = subprocess.run(
            ["fc-list", ":lang=zh", "file", "family"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    pairs = []
    for line in done.stdout.splitlines():
        file, _, families = line.partition(":")
        # A line may list several comma-separated names of one family; the first is canonical.
        family = families.split(",")[0].strip()
        if file.strip() and family:
            pairs.append((file.strip(), family))
    return tuple(pairs)


@contextmanager
def plot_style() -> Iterator[None]:
    """CJK-capable fonts first, plain text (no mathtext), and no glyph warnings while drawing."""
    font = cjk_font()
    families = ([font] if font else []) + ["DejaVu Sans"]
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)  # "findfont: Font family ... not found" is noise here
    settings = {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        "axes.unicode_minus": False,
        "text.usetex": False,
    }
    try:
        with warnings.catch_warnings(), matplotlib.rc_context(settings):
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
            yield
    finally:
        font_logger.setLevel(level)
