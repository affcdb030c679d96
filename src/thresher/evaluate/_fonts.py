"""Find a font that can draw Chinese labels, so plots of Chinese datasets are readable.

Without one, matplotlib draws the missing glyphs as boxes and warns once per glyph; the plots
stay valid, so the warnings are silenced and nothing fails.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import warnings
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import matplotlib

__all__ = ["cjk_font", "plot_style"]

# Family names of common CJK fonts (Debian fonts-noto-cjk / fonts-wqy-*, Windows, macOS).
KNOWN_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs that matplotlib knows, or None."""
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    candidates = list(KNOWN_CJK_FAMILIES) + _fontconfig_zh_families()
    return next((name for name in candidates if name in known), None)


def _fontconfig_zh_families() -> list[str]:
    """Families fontconfig says cover Chinese (``fc-list :lang=zh``); empty where fc-list is absent."""
    if shutil.which("fc-list") is None:
        return []
    try:
        done = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return []
    # One line per font; a line may list several comma-separated names of the same family.
    return [name.strip() for line in done.stdout.splitlines() for name in line.split(",") if name.strip()]


@contextmanager
def plot_style() -> Iterator[None]:
    """Fonts with CJK coverage first, and no glyph warnings while a figure is drawn."""
    font = cjk_font()
    families = ([font] if font else []) + ["DejaVu Sans"]
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)  # "findfont: Font family ... not found" is noise here
    try:
        with warnings.catch_warnings(), matplotlib.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
        ):
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
            yield
    finally:
        font_logger.setLevel(level)
