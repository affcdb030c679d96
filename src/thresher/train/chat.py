"""Talk to a fine-tuned SFT model: a conversation that keeps its turns, greedy or sampled."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ChatSession"]


@dataclass
class ChatSession:
    """The model of ``run_dir/model`` with the conversation so far (``system`` first, if set)."""

    run_dir: Path
    system: str | None = None
    device: str = "auto"
    max_new_tokens: int = 256
    messages: list[dict[str, str]] = field(default_factory=list)
    _loaded: Any = None

    def load(self) -> "ChatSession":
        from thresher.train.sft import load_sft_model

        self._loaded = load_sft_model(Path(self.run_dir) / "model", self.device)
        self.reset()
        return self

    def reset(self) -> None:
        self.messages = [{"role": "system", "content": self.system}] if self.system else []

    def reply(self, text: str) -> str:
        """The model's answer to ``text`` after the turns so far; both join the conversation."""
        from thresher.train.device import resolve_device, resolve_precision
        from thresher.train.sft import generate

        if self._loaded is None:
            self.load()
        model, tokenizer, info = self._loaded
        device = resolve_device(self.device)
        precision = resolve_precision(info.get("precision", "auto"), device)
        self.messages.append({"role": "user", "content": text})
        answer = generate(model, tokenizer, [self.messages], device, precision,
                          max_new_tokens=self.max_new_tokens)[0]
        self.messages.append({"role": "assistant", "content": answer})
        return answer
