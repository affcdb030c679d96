"""Check a mapping of settings against a constructor's signature before anything runs.

Operators and config dataclasses declare their settings as typed keyword arguments; this module
turns a recipe's mapping into checked keyword arguments or a RecipeError that names the key,
the value, and what is allowed.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal

from thresher.errors import RecipeError

__all__ = ["check_settings"]


def check_settings(target: Any, settings: Any, where: str) -> dict[str, Any]:
    """Validate ``settings`` for ``target(**settings)``; return them unchanged if valid."""
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise RecipeError(f"expected a mapping of settings, got {_show(settings)}", where=where,
                          fix="write settings as `key: value` lines, or `{}` for the defaults")
    params = _params(target)
    for key, value in settings.items():
        if key not in params:
            allowed = ", ".join(sorted(params)) or "(none)"
            raise RecipeError(f"unknown setting '{key}'", where=where,
                              fix=f"allowed settings: {allowed}")
        if not _fits(value, params[key]):
            raise RecipeError(f"'{key}' must be {_describe(params[key])}, got {_show(value)}",
                              where=f"{where}.{key}", fix=f"set {key} to {_describe(params[key])}")
    return dict(settings)


def _params(target: Any) -> dict[str, Any]:
    init = target.__init__ if inspect.isclass(target) else target
    hints = typing.get_type_hints(init)
    sig = inspect.signature(init)
    return {n: hints.get(n, Any) for n, p in sig.parameters.items()
            if n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple))
    if origin is dict:
        return isinstance(value, dict)
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
