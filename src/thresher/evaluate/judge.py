"""LLM-as-judge: a 1-5 score and a one-sentence reason per answer, from any OpenAI-compatible
endpoint (OpenAI, vLLM, llama.cpp's server, Ollama, ...).

Off by default: it costs requests and needs a server, and a judge model's taste is not ground
truth, so it complements ROUGE and BLEU rather than replacing them. It talks through the client
it shares with the paraphrase augmenter, ``thresher.llm_client`` (rate limit, retries with
backoff on 429/5xx/timeouts, clear errors for 401/403/404, a SQLite answer cache), so a re-run
costs no request.

The judge must reply with one JSON object, ``{"score": <integer 1-5>, "reason": "<text>"}``,
parsed strictly: a Markdown code fence around it is the only leniency, because digging a
number out of prose would turn a confused reply into a score. A reply that does not parse is
asked again once, quoting what was wrong; a second bad reply is recorded as unparsed with its
raw text. An empty answer is not sent: it scores 1.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from thresher.errors import DataError, RecipeError
from thresher.llm_client import ChatEndpoint, ResponseCache, cache_key

__all__ = ["DEFAULT_RUBRIC", "JudgeItem", "JudgeResult", "judge", "judge_prompt",
           "parse_judgement"]

WHERE = "evaluate.judge"
DEFAULT_RUBRIC = (
    "5: correct, complete and helpful; it answers exactly what was asked.\n"
    "4: correct and helpful, with a small omission or some needless text.\n"
    "3: partly correct or partly helpful; the user still needs to ask again.\n"
    "2: mostly wrong, off-topic, or an evasive non-answer (\"please hold\", a refusal without "
    "reason).\n"
    "1: wrong, harmful, empty, or in another language than the question.")
_REPLY_FORMAT = (
    'Reply with one JSON object and nothing else, like {"score": 4, "reason": "Correct, but it '
    'does not say how long the refund takes."}. "score" is an integer from 1 (worst) to 5 '
    '(best); "reason" is one short sentence.')
_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n(.*)\n```\Z", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class JudgeItem:
    """The judgement of one answer; ``raw`` holds the reply's text when it did not parse."""

    index: int
    score: int | None
    reason: str | None
    parsed: bool
    tries: int  # replies read: 0 (empty answer), 1, or 2 (the first did not parse)
    raw: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JudgeResult:
    """Every item's judgement and their summary; ``mean_score`` is None if nothing parsed."""

    model: str
    base_url: str
    rubric: str
    items: list[JudgeItem]
    mean_score: float | None
    score_counts: dict[str, int]
    requests: int  # replies fetched over HTTP in this call (the rest came from the cache)
    notes: list[str] = field(default_factory=list)

    @property
    def unparsed(self) -> int:
        return sum(not item.parsed for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, "rubric": self.rubric,
                "n": len(self.items), "scored": len(self.items) - self.unparsed,
                "unparsed": self.unparsed, "mean_score": self.mean_score,
                "score_counts": dict(self.score_counts), "requests": self.requests,
                "notes": list(self.notes), "items": [item.to_dict() for item in self.items]}


def judge(prompts: Sequence[Any], answers: Sequence[str],
          references: Sequence[str | None] | None = None, *, base_url: str, model: str,
          rubric: str = DEFAULT_RUBRIC, api_key_env: str | None = "OPENAI_API_KEY",
          rate_limit: float | None = 2.0, cache_dir: str | Path | None = None,
          temperature: float = 0.0, max_tokens: int = 200, retries: int = 5,
          backoff_s: float = 1.0, timeout_s: float = 60.0, seed: int = 0) -> JudgeResult:
    """Score each answer to its prompt (text, or a list of chat messages) from 1 to 5.

    ``references`` (optional, per item or None) are shown to the judge as reference answers.
    ``rate_limit`` is in requests per second (None: no limit); ``api_key_env`` names the
    environment variable holding the key, never the key itself. Endpoint failures (bad key,
    unknown model, retries exhausted) raise ModelError; a bad reply never does.
    """
    _check_settings(base_url, model, rubric, rate_limit)
    texts = _checked_items(prompts, answers, references)
    endpoint = ChatEndpoint(base_url, model, api_key_env=api_key_env, rate_limit=rate_limit,
                            retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                            temperature=temperature, max_tokens=max_tokens, where=WHERE)
    asked = [0]

    def ask(prompt: str, cache: ResponseCache) -> str:
        # the key's layout predates the shared client: kept so old caches still answer
        key = cache_key(base_url, model, WHERE, prompt, 1, temperature, seed)
        cached = cache.get(key)
        if cached is not None:
            return cached[0]
        reply = endpoint.chat(prompt, seed=seed)
        asked[0] += 1
        cache.put(key, [reply])  # at once: a crash keeps what was paid for
        return reply

    with ResponseCache(_cache_file(cache_dir), what="judge reply") as cache:
        items = [_judge_one(i, prompt, answer, reference, rubric, lambda p: ask(p, cache))
                 for i, (prompt, answer, reference) in enumerate(texts)]
    return _summary(model, base_url, rubric, items, asked[0])


def judge_prompt(prompt: str, answer: str, reference: str | None = None,
                 rubric: str = DEFAULT_RUBRIC) -> str:
    """The message sent to the judge for one answer."""
    parts = ["You grade the answer of a support assistant.", f"Rubric:\n{rubric}",
             f"Question:\n{prompt}"]
    if reference is not None:
        parts.append(f"Reference answer (a good answer, not the only one):\n{reference}")
    parts += [f"Answer to grade:\n{answer}", _REPLY_FORMAT]
    return "\n\n".join(parts)


def parse_judgement(reply: str) -> tuple[int, str]:
    """(score, reason) from a judge's reply; ValueError saying what is wrong otherwise."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("the reply is not one JSON object") from None
    if not isinstance(data, dict):
        raise ValueError(f"the reply is a JSON {type(data).__name__}, not an object")
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValueError(f'"score" must be an integer from 1 to 5, got {json.dumps(score)}')
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError('"reason" must be a non-empty text')
    return score, reason.strip()


def _judge_one(index: int, prompt: str, answer: str, reference: str | None, rubric: str,
               ask: Callable[[str], str]) -> JudgeItem:
    """Ask, parse; on a bad reply ask once more, quoting the problem."""
    if not answer.strip():
        return JudgeItem(index, 1, "the answer is empty", parsed=True, tries=0)
    message = judge_prompt(prompt, answer, reference, rubric)
    reply = ask(message)
    try:
        return JudgeItem(index, *parse_judgement(reply), parsed=True, tries=1)
    except ValueError as exc:
        problem = str(exc)
    reply = ask(f"{message}\n\nYour previous reply could not be used: {problem}. Reply again "
                "with the JSON object only.")
    try:
        return JudgeItem(index, *parse_judgement(reply), parsed=True, tries=2)
    except ValueError as exc:
        return JudgeItem(index, None, None, parsed=False, tries=2, raw=reply, error=str(exc))


def _summary(model: str, base_url: str, rubric: str, items: list[JudgeItem],
             requests: int) -> JudgeResult:
    scores = [item.score for item in items if item.score is not None]
    counts = Counter(scores)
    notes = []
    unparsed = len(items) - len(scores)
    if unparsed:
        notes.append(f"{unparsed} of {len(items)} replies did not parse twice; they have no "
                     "score (see items[].raw)")
    if not scores:
        notes.append("mean_score is None: no reply parsed")
    return JudgeResult(model=model, base_url=base_url, rubric=rubric,
                       items=items, mean_score=sum(scores) / len(scores) if scores else None,
                       score_counts={str(s): counts.get(s, 0) for s in range(1, 6)},
                       requests=requests, notes=notes)


def _cache_file(cache_dir: str | Path | None) -> Path:
    from thresher.train.gguf_cache import cache_root

    folder = Path(cache_dir).expanduser() if cache_dir else cache_root() / "llm"
    return folder / "judge.sqlite"


def _check_settings(base_url: str, model: str, rubric: str, rate: float | None) -> None:
    if not isinstance(base_url, str) or not base_url.strip():
        raise RecipeError("the judge has no base_url", where=f"{WHERE}.base_url",
                          fix="Set base_url to an OpenAI-compatible API (it usually ends in /v1)")
    if not isinstance(model, str) or not model.strip():
        raise RecipeError("the judge has no model", where=f"{WHERE}.model",
                          fix="Set model to the endpoint's model name")
    if not isinstance(rubric, str) or not rubric.strip():
        raise RecipeError("the rubric is empty", where=f"{WHERE}.rubric",
                          fix="Describe what each score from 1 to 5 means, or leave it out")
    if rate is not None and not rate > 0:
        raise RecipeError(f"rate_limit must be above 0 requests per second, got {rate!r}",
                          where=f"{WHERE}.rate_limit", fix="Set it above 0, or to null for none")


def _checked_items(prompts: Sequence[Any], answers: Sequence[Any],
                   references: Sequence[Any] | None) -> list[tuple[str, str, str | None]]:
    prompts, answers = list(prompts), list(answers)
    refs = [None] * len(prompts) if references is None else list(references)
    if not len(prompts) == len(answers) == len(refs):
        raise DataError(f"there are {len(prompts)} prompts, {len(answers)} answers and "
                        f"{len(refs)} references", where=WHERE,
                        fix="Pass one answer (and one reference, or none at all) per prompt")
    if not prompts:
        raise DataError("there is nothing to judge", where=WHERE, fix="Pass at least one answer")
    for name, values in (("answers", answers), ("references", refs)):
        for i, value in enumerate(values):
            if not isinstance(value, str) and not (name == "references" and value is None):
                raise DataError(f"{type(value).__name__} where a text was expected",
                                where=f"{name}[{i}]", fix="Replace missing values with ''")
    return [(_prompt_text(p, i), a, r) for i, (p, a, r) in enumerate(zip(prompts, answers, refs))]


def _prompt_text(prompt: Any, i: int) -> str:
    """A text prompt as it is; a conversation as "role: content" lines."""
    if isinstance(prompt, str):
        return prompt
    try:
        return "\n".join(f"{m['role']}: {m['content']}" for m in prompt)
    except (TypeError, KeyError):
        raise DataError(f"{type(prompt).__name__} where a text or a list of messages "
                        "({'role': ..., 'content': ...}) was expected", where=f"prompts[{i}]",
                        fix="Pass the question as text, or the chat's messages") from None
