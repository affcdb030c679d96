"""Back-translation: source -> pivot -> source with two MarianMT-style seq2seq models.

A paraphrase that went through another language keeps the meaning and changes the wording,
which word-level edits cannot do. The models come from local folders (nothing on PyPI ships a
Marian model) or from the hub when it is reachable. Texts are sorted by length and translated in
batches, so padding stays small and a GPU is kept busy; the way back asks for several outputs
per text (sampling or beams) and keeps the distinct ones that differ from the original.

The loading, device and "distinct variants" helpers here are shared by the masked-LM and LLM
augmenters.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from thresher.augment.base import Augmenter, Variants
from thresher.errors import ModelError, RecipeError

__all__ = ["BackTranslate", "translate"]

SPARE = 2  # ask the model for n_aug * SPARE outputs: some repeat, some equal the original
LENGTH_FACTOR, LENGTH_SLACK = 1.5, 10  # a translation is rarely longer than 1.5x its source


@dataclass
class Loaded:
    """A model on its device with its tokenizer (kept by an augmenter after the first use)."""

    model: Any
    tokenizer: Any
    device: str


class BackTranslate(Augmenter):
    """Paraphrases by translating to a pivot language (``forward``) and back (``backward``).

    ``forward``/``backward`` are model folders or hub ids; ``decoding`` is "sample" (top-p
    sampling at ``temperature`` on the way back) or "beam" (the best ``num_beams`` hypotheses);
    the way there always uses beam search with ``num_beams`` (1 = greedy). ``batch_size`` texts go
    through one ``generate`` call; ``device`` is auto, cpu or cuda (bf16 on a GPU).
    ``forward_prefix``/``backward_prefix`` go before every input of that model: multilingual
    opus-mt models need the target language's token (opus-mt-en-zh: ">>cmn_Hans<< ").
    """

    name: ClassVar[str] = "backtranslate"

    def __init__(self, *, forward: str, backward: str, decoding: str = "sample",
                 num_beams: int = 4, temperature: float = 1.0, top_p: float = 0.95,
                 batch_size: int = 16, max_length: int = 256, device: str = "auto",
                 forward_prefix: str = "", backward_prefix: str = "") -> None:
        self.forward = forward
        self.backward = backward
        self.decoding = decoding
        self.num_beams = num_beams
        self.temperature = temperature
        self.top_p = top_p
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.forward_prefix = forward_prefix
        self.backward_prefix = backward_prefix

    def load(self) -> BackTranslate:
        """Load both models now (``augment`` does it on first use)."""
        if getattr(self, "_models", None) is None:
            check_choice(self.decoding, ("sample", "beam"), f"augment.{self.name}.decoding")
            device = pick_device(self.device, f"augment.{self.name}.device")
            self._models = tuple(
                load_model("seq2seq", spec, f"augment.{self.name}.{option}", device)
                for option, spec in (("forward", self.forward), ("backward", self.backward)))
        return self

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        """Up to ``n_aug`` distinct back-translations per text, none equal to its original."""
        if n_aug < 1:
            return Variants([[] for _ in texts], [None for _ in texts])
        forward, backward = self.load()._models
        todo = [i for i, text in enumerate(texts) if text.strip()]
        sources = [self.forward_prefix + texts[i] for i in todo]
        common = {"batch_size": self.batch_size, "max_length": self.max_length}
        pivots = translate(sources, forward, num_beams=self.num_beams, seed=seed, **common)
        wanted = n_aug * SPARE
        sampling = self.decoding == "sample"
        backs = translate(
            [self.backward_prefix + p[0] for p in pivots], backward,
            num_return_sequences=wanted, do_sample=sampling,
            num_beams=1 if sampling else max(self.num_beams, wanted), seed=seed + 1,
            temperature=self.temperature, top_p=self.top_p, **common)
        out: list[list[str]] = [[] for _ in texts]
        skipped: list[str | None] = ["empty text" if not t.strip() else None for t in texts]
        for i, candidates in zip(todo, backs):
            out[i] = distinct_variants(texts[i], candidates, n_aug)
            if len(out[i]) < n_aug:
                skipped[i] = f"{len(out[i])} distinct back-translations of {n_aug} asked"
        return Variants(out, skipped)


def translate(texts: Sequence[str], loaded: Loaded, *, batch_size: int = 16,
              max_length: int = 256, num_return_sequences: int = 1, do_sample: bool = False,
              num_beams: int = 1, temperature: float = 1.0, top_p: float = 0.95,
              seed: int = 13) -> list[list[str]]:
    """``num_return_sequences`` outputs per text, in input order, translated in batches of
    texts of similar length (longest first, so running out of memory happens at once)."""
    import torch

    from thresher.train.quiet import quiet_transformers

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    results: list[list[str]] = [[] for _ in texts]
    for start in range(0, len(order), max(1, batch_size)):
        chunk = order[start:start + max(1, batch_size)]
        batch = loaded.tokenizer([texts[i] for i in chunk], return_tensors="pt", padding=True,
                                 truncation=True, max_length=max_length).to(loaded.device)
        caps = (batch["attention_mask"].sum(dim=1) * LENGTH_FACTOR + LENGTH_SLACK).long()
        caps = caps.clamp(max=max_length)
        extra = {"temperature": temperature, "top_p": top_p} if do_sample else {}
        with torch.inference_mode(), seeded(seed + start, loaded.device), quiet_transformers():
            generated = loaded.model.generate(
                **batch, max_new_tokens=int(caps.max()), stopping_criteria=_length_caps(caps),
                do_sample=do_sample, num_beams=num_beams, forced_eos_token_id=None,
                num_return_sequences=num_return_sequences, **extra)
        decoded = loaded.tokenizer.batch_decode(generated, skip_special_tokens=True)
        for k, i in enumerate(chunk):
            results[i] = [d.strip() for d in decoded[k * num_return_sequences:
                                                     (k + 1) * num_return_sequences]]
    return results


def _length_caps(caps: Any) -> Any:
    """Stop each output at its own source's cap, so that a text's translation does not depend
    on how long the other texts in its batch are."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class RowCaps(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            # rows come grouped by source (beams or samples of one text side by side)
            rows = caps.to(input_ids.device).repeat_interleave(input_ids.shape[0] // len(caps))
            return input_ids.shape[1] - 1 >= rows  # the decoder start token is not output

    return StoppingCriteriaList([RowCaps()])


def distinct_variants(original: str, candidates: Sequence[str], n_aug: int) -> list[str]:
    """The first ``n_aug`` candidates that differ from the original and from each other
    (compared without case and extra spaces: "Good film" and "good  film" are one text)."""
    def key(text: str) -> str:
        return " ".join(text.split()).casefold()

    seen = {key(original)}
    kept: list[str] = []
    for candidate in candidates:
        k = key(candidate)
        if k and k not in seen:
            seen.add(k)
            kept.append(candidate.strip())
        if len(kept) == n_aug:
            break
    return kept


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Seed torch for one sampling call without touching the caller's random state."""
    import torch

    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def pick_device(device: str, where: str) -> str:
    """auto -> cuda when PyTorch sees a GPU, else cpu; cuda without a GPU is a ModelError."""
    torch = import_torch(where)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device != "cpu" and not device.startswith("cuda"):
        raise RecipeError(f"device {device!r} is not one of auto, cpu, cuda", where=where,
                          fix="Set device: auto, cpu or cuda (cuda:1 for a second GPU)")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but PyTorch sees no CUDA GPU",
                         where=where,
                         fix="Use device: cpu (or auto), or install a CUDA build of torch")
    return device


def load_model(kind: str, spec: str, where: str, device: str) -> Loaded:
    """Load a "seq2seq", "masked" or "causal" model and its tokenizer from a folder or hub id.

    A checkpoint without trained weights for the head (a plain encoder asked to fill masks)
    would produce noise, so missing weights are a ModelError rather than a warning.
    """
    location = locate_model(spec, where)
    torch = import_torch(where)
    from thresher.train.quiet import quiet_transformers

    dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() \
        else torch.float32
    try:
        with quiet_transformers():
            tokenizer, model, info = _from_pretrained(kind, location, dtype)
    except (OSError, ValueError, KeyError, RuntimeError, ImportError, AssertionError) as exc:
        raise ModelError(f"model {spec!r} could not be loaded as a {kind} model: {exc}",
                         where=where, fix="Point it to a folder with config.json, the weights "
                         "and the tokenizer files of such a model") from exc
    missing = info.get("missing_keys") or []
    if missing:
        raise ModelError(
            f"model {spec!r} has no trained weights for {len(missing)} tensors of a {kind} "
            f"model (e.g. {sorted(missing)[0]})", where=where,
            fix=f"Use a checkpoint trained as a {kind} model, not a bare encoder")
    return Loaded(model.to(device).eval(), tokenizer, device)


def _from_pretrained(kind: str, location: str, dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    import transformers

    auto = {"seq2seq": transformers.AutoModelForSeq2SeqLM,
            "masked": transformers.AutoModelForMaskedLM,
            "causal": transformers.AutoModelForCausalLM}[kind]
    tokenizer = transformers.AutoTokenizer.from_pretrained(location)
    model, info = auto.from_pretrained(location, dtype=dtype, output_loading_info=True)
    return tokenizer, model, info


def locate_model(spec: str, where: str) -> str:
    """A folder, or a hub id when the hub can be reached; otherwise a ModelError that names
    the setting to change."""
    from thresher.train.backbones import _hub_unreachable, _looks_like_hub_id

    option = where.rsplit(".", 1)[-1]
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if not _looks_like_hub_id(spec):
        raise ModelError(f"model folder {spec!r} does not exist", where=where,
                         fix=f"Set {option} to a folder with config.json, the weights and the "
                         "tokenizer, or to a hub id such as Helsinki-NLP/opus-mt-en-de")
    import os

    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or _hub_unreachable():
        raise ModelError(
            f"model {spec!r} is not a local folder and the Hugging Face hub cannot be reached",
            where=where, fix=f"Download it where there is internet access (huggingface-cli "
            f"download {spec} --local-dir DIR), copy DIR here and set {option}: DIR")
    return spec


def import_torch(where: str) -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"model-based augmentation needs torch and transformers ({exc})",
                         where=where, fix="Install them: pip install 'thresher[train]'") from None
    return torch


def check_choice(value: str, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise RecipeError(f"{value!r} is not one of {', '.join(allowed)}", where=where,
                          fix=f"Set it to {' or '.join(allowed)}")
