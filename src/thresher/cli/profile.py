"""`thresher profile`: know a dataset before training on it (a thin wrapper over
:func:`thresher.quality.profile.profile`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

__all__ = ["command"]


def command(
    path: str = typer.Argument(
        ..., help="A run folder (manifest.json + data/), or a data file or folder."),
    out: Optional[Path] = typer.Option(
        None, "-o", "--out",
        help="Folder for profile.json, plots/ and profile.html [default: the run folder; "
             "nothing is written for a data file]."),
    text: Optional[str] = typer.Option(None, "--text", help="Text column (inferred when omitted)."),
    label: Optional[str] = typer.Option(None, "--label",
                                        help="Label column (inferred when omitted)."),
    tokenizer: Optional[str] = typer.Option(
        None, "--tokenizer",
        help="minilm, gemma3-270m, smollm2, DEFAULT, a model folder or hub id "
             "[default: the run's train.model]."),
    max_length: Optional[int] = typer.Option(
        None, "--max-length", help="Tokens a model sees [default: the run's, else 128]."),
    no_near_dup: bool = typer.Option(False, "--no-near-dup",
                                     help="Skip the MinHash near-duplicate search."),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
) -> None:
    """Know a dataset before training: labels, lengths, tokens, languages, duplicates, PII,
    giveaway words, and shift between splits."""
    from thresher.quality.profile import profile

    found = profile(path, text=text, label=label, tokenizer=tokenizer, max_length=max_length,
                    out_dir=out, near_dup=not no_near_dup)
    if as_json:
        print(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
        return
    _print_summary(found.to_dict(), out or (Path(path) if found.kind == "run" else None))


def _print_summary(p: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    console.print(_split_table(p))
    tok = p["tokenizer"]
    lines = []
    if tok["spec"] is not None:
        unk = "-" if tok["unk_share"] is None else _share(tok["unk_share"])
        lines.append(f"tokenizer {tok['backbone']}: [UNK] {unk} of tokens, "
                     f"{_share(tok['truncated_share'])} of texts over {tok['max_length']} tokens")
    shown = [f"{k} {_share(v)}" for k, v in p["languages"]["shares"].items() if v >= 0.001][:4]
    lines.append(f"{p['vocabulary']['words']:,} distinct words; languages: {', '.join(shown)}")
    lines += [f"warning: {w}" for w in p["warnings"]] or ["no warnings"]
    lines += [f"note: {n}" for n in p["notes"]]
    lines.append("nothing written: pass -o OUT for profile.json, plots and profile.html"
                 if out is None else f"written to {out}: {', '.join(_written(p, out))}")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _split_table(p: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"profile of {p['source']}",
                  caption="chars, tokens: medians; dups: rows repeating another row's text")
    for column in ("split", "rows", "labels", "imbalance", "chars", "tokens", "dups"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, s in p["splits"].items():
        labels = s["labels"]
        ratio = labels["imbalance"]["ratio"] if labels else None
        table.add_row(split, f"{s['rows']:,}", str(len(labels["counts"])) if labels else "-",
                      "-" if ratio is None else f"{ratio:.1f}", _num(s["chars"]["median"]),
                      _num((s.get("tokens") or {}).get("median")),
                      _share(p["duplicates"]["within"][split]["rate"]))
    return table


def _written(p: dict[str, Any], out: Path) -> list[str]:
    files = p.get("files") or {}
    return [files[k] for k in ("html", "json") if k in files] + [
        f"{sum(1 for k in files if k.startswith('profile_'))} plots in {out / 'plots'}"]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
