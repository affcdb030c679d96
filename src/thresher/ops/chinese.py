"""Chinese text helpers (script detection, jieba words) and the traditional -> simplified mapper.

Operators that treat Chinese differently from space-separated text share these helpers, so that
"what counts as Chinese" and "how jieba is loaded" are decided in one place. The optional
Chinese dependencies (jieba, OpenCC) live in the ``zh`` extra and are imported lazily; a missing
one gives an error that says which package to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from types import ModuleType
from typing import Any, Literal

from thresher.errors import RecipeError
from thresher.ops.base import COUNTS, Batch, Mapper

__all__ = [
    "CJK_CHARS",
    "ToSimplified",
    "cjk_ratio",
    "has_cjk",
    "jieba_words",
    "missing_zh",
    "require_zh",
]

# Han ideographs (basic, extension A, compatibility) and Japanese kana: scripts written without
# spaces, where one character is the smallest sensible token. Hangul is space-separated: excluded.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_CHARS}]")
_WORDLIKE = re.compile(r"[^\W_]")  # a letter or digit: jieba also returns spaces and punctuation
_JIEBA: ModuleType | None = None


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK (0.0 for an empty text)."""
    visible = len(text) - sum(map(str.isspace, text))
    return len(_CJK.findall(text)) / visible if visible else 0.0


def require_zh(module: str, step: str) -> ModuleType:
    """Import an optional Chinese dependency, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RecipeError(f"step '{step}' needs the package '{module}', which is not installed",
                          fix="pip install 'thresher[zh]'") from None


def missing_zh(module: str, step: str) -> str | None:
    """The message for check() when an optional dependency is absent (cheap: no import)."""
    if importlib.util.find_spec(module) is None:
        return f"step '{step}' needs the package '{module}': pip install 'thresher[zh]'"
    return None


def jieba_words(text: str) -> list[str]:
    """jieba's words of ``text`` without spaces and punctuation (jieba loaded once, quietly)."""
    global _JIEBA
    if _JIEBA is None:
        import logging

        jieba = require_zh("jieba", "jieba word counting")
        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines are noise here
        jieba.initialize()
        _JIEBA = jieba
    return [w for w in _JIEBA.lcut(text) if _WORDLIKE.search(w)]


OpenCCConfig = Literal["t2s", "tw2s", "tw2sp", "hk2s"]


class ToSimplified(Mapper):
    """Convert traditional Chinese to simplified with OpenCC (dictionaries ship in the wheel).

    ``config`` picks OpenCC's conversion: ``t2s`` (generic), ``tw2s``/``hk2s`` (Taiwan/Hong Kong
    variants), ``tw2sp`` (Taiwan, with phrase conversion such as 軟體 -> 软件). Texts without any
    CJK character are returned untouched without calling OpenCC.
    """

    name = "to_simplified"

    def __init__(self, *, config: OpenCCConfig = "t2s") -> None:
        self.config = config

    def check(self) -> None:
        if self.config not in ("t2s", "tw2s", "tw2sp", "hk2s"):
            raise ValueError(f"config must be one of t2s, tw2s, tw2sp, hk2s, got {self.config!r}")
        problem = missing_zh("opencc", self.name)
        if problem:
            raise ValueError(problem)

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()  # the OpenCC converter is rebuilt lazily in each worker

    def map_batch(self, batch: Batch) -> Batch:
        convert = self._converter().convert
        texts, counts = [], []
        for text in batch["text"]:
            new = convert(text) if _CJK.search(text) else text
            texts.append(new)
            counts.append({"converted": 1} if new != text else {})
        batch["text"] = texts
        batch[COUNTS] = counts
        return batch

    def _converter(self) -> Any:
        converter = getattr(self, "_opencc", None)
        if converter is None:
            converter = require_zh("opencc", self.name).OpenCC(self.config)
            self._opencc = converter
        return converter
