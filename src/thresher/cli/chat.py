"""`thresher chat RUN_DIR`: a small prompt to try a fine-tuned SFT model by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["command"]


def command(
    run_dir: Path = typer.Argument(..., help="Run folder of an sft/seq2seq run (its model/)."),
    message: Optional[list[str]] = typer.Option(
        None, "--message", "-m", help="Send these messages in order and exit (no prompt)."),
    system: Optional[str] = typer.Option(None, "--system", help="A system prompt to start with."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1,
                                       help="Longest answer in tokens."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Chat with the fine-tuned model (/reset starts over, /exit or Ctrl-D leaves)."""
    from thresher.train.chat import ChatSession

    session = ChatSession(run_dir, system=system, device=device,
                          max_new_tokens=max_new_tokens).load()
    if message:
        for text in message:
            print(f"you> {text}\nmodel> {session.reply(text)}")
        return
    print("chat with the fine-tuned model: /reset starts over, /exit leaves")
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text in ("/exit", "/quit"):
            return
        if text == "/reset":
            session.reset()
            continue
        if text:
            print(f"model> {session.reply(text)}")
