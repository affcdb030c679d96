"""Write a profile's files: profile.json, plots/profile_*.png and the standalone profile.html.

The page renders the same Jinja2 macro the run report's "Data health" section uses
(``report/templates/_profile.html``), in the report's environment: autoescaped, strict about
undefined names, plots inlined as base64 so the page is one file that opens offline.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["render_profile_html", "write_profile"]


def render_profile_html(p: dict[str, Any], images: dict[str, str]) -> str:
    """profile.html for the profile dict ``p``; ``images``: plot stem -> data: URI."""
    from thresher._version import __version__
    from thresher.report._build import _environment

    template = _environment().get_template("profile.html")
    return template.render(p=p, images=images, version=__version__,
                           generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write_profile(p: dict[str, Any], out: Path, *, html: bool = True) -> dict[str, str]:
    """Write the plots, profile.json and (unless ``html=False``) profile.html under ``out``.

    Returns what was written, as paths relative to ``out`` (also stored in profile.json).
    """
    from thresher._files import write_json, write_text
    from thresher.quality.profile_plots import write_profile_plots

    out = Path(out)
    plots = write_profile_plots(p, out / "plots")
    files = {stem: path.relative_to(out).as_posix() for stem, path in plots.items()}
    files["json"] = "profile.json"
    if html:
        files["html"] = "profile.html"
    p = {**p, "files": files}
    write_json(out / "profile.json", p)
    if html:
        images = {stem: "data:image/png;base64,"
                  + base64.b64encode(path.read_bytes()).decode("ascii")
                  for stem, path in plots.items()}
        write_text(out / "profile.html", render_profile_html(p, images))
    return files
