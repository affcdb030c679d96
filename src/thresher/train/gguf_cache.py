"""Convert a GGUF file once into an ordinary transformers folder, cached on disk.

transformers reads GGUF by de-quantising every tensor and rebuilding the tokenizer from the
file's vocabulary; for Gemma-3-270M that is ~1.5 minutes each time. Saved once as safetensors
(fp32, exactly the de-quantised weights, without any classification head) plus a fast
tokenizer, later loads take seconds. The cache lives in ``$THRESHER_CACHE`` (default
``~/.cache/thresher``) and is written under a temporary name, then renamed.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

__all__ = ["cache_root", "cached_gguf_folder"]

_HEADS = ("score.", "classifier.")  # a classification head is made fresh for every task


def cache_root() -> Path:
    """``$THRESHER_CACHE``, else ``$XDG_CACHE_HOME/thresher``, else ``~/.cache/thresher``."""
    if os.environ.get("THRESHER_CACHE"):
        return Path(os.environ["THRESHER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "thresher"


def cached_gguf_folder(gguf: Path, key: str) -> Path:
    """The converted folder for ``gguf`` (converting it on first use)."""
    target = cache_root() / "backbones" / f"{key}-{gguf.stat().st_size}"
    if (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared like ~/.cache
    try:
        _convert(gguf, staging)
        if target.exists():  # a half-written folder from an older crash, or a concurrent winner
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    from safetensors.torch import save_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from thresher.train.quiet import quiet_transformers

    # transformers' GGUF reader draws a plain tqdm bar on stderr; a library stays silent.
    with quiet_transformers(), contextlib.redirect_stderr(io.StringIO()), _one_reader():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForSequenceClassification.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, num_labels=2
        )
    config = model.config
    if hasattr(config, "quantization_config"):  # the weights below are plain fp32 now
        del config.quantization_config
    config.architectures = None
    config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    weights = {
        name: tensor.detach().contiguous()
        for name, tensor in model.state_dict().items()
        if not name.startswith(_HEADS)
    }
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})


@contextlib.contextmanager
def _one_reader() -> Iterator[None]:
    """Parse the GGUF file once instead of once per tokenizer/config/weights call.

    transformers builds a fresh ``gguf.GGUFReader`` for each of them; for Gemma's 262k-token
    vocabulary each parse takes ~13 s on 2 cores. The reader is read-only, so sharing it is safe.
    """
    import gguf

    original = gguf.GGUFReader
    readers: dict[tuple[str, str], Any] = {}

    def shared(path: Any, mode: str = "r") -> Any:
        key = (str(path), mode)
        if key not in readers:
            readers[key] = original(path, mode)
        return readers[key]

    gguf.GGUFReader = shared  # type: ignore[misc]
    try:
        yield
    finally:
        gguf.GGUFReader = original  # type: ignore[misc]
