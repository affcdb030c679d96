"""Engines run a recipe's data steps: ``local`` (worker processes) or ``ray`` (a Ray cluster).

Both run the same operator objects over the same ordered pieces and end in the same writers,
so they produce the same run folder. ``thresher.engine.ray`` is the only module importing ray.
"""

from __future__ import annotations

from thresher.engine.base import EngineResult, ShardEngine
from thresher.engine.local import LocalEngine
from thresher.errors import RecipeError

__all__ = ["ENGINES", "EngineResult", "LocalEngine", "ShardEngine", "make_engine"]

ENGINES = ("local", "ray")


def make_engine(name: str = "local", *, num_proc: int | None = None,
                address: str | None = None) -> ShardEngine:
    """The engine called ``name``; ``num_proc``: workers (CPUs for Ray); ``address``: Ray only."""
    if num_proc is not None and num_proc < 1:
        raise RecipeError(f"num_proc must be at least 1, got {num_proc}", where="num_proc",
                          fix="leave it out to use every core")
    if name == "local":
        if address is not None:
            raise RecipeError("an address is for the ray engine", where="address",
                              fix="add --engine ray, or leave the address out")
        return LocalEngine(num_proc)
    if name == "ray":
        from thresher.engine.ray import RayEngine

        return RayEngine(address=address, num_cpus=num_proc)
    raise RecipeError(f"unknown engine {name!r}", where="engine", fix=f"use one of {', '.join(ENGINES)}")
