"""SFT cleaning: personal data in every turn, empty answers, refusals and boilerplate, language.

A conversation is one row (``messages``: {role, content} turns, task ``sft``); a pair is one
row (``input``, ``target``, task ``seq2seq``, read as a user turn and an assistant turn). Rules
about answers look only at what the assistant says, and a reject's detail names the turn
(``messages[3]`` or ``target``) so that a reviewer finds it.

Boilerplate is split in two on purpose. A refusal, an AI disclaimer or a bare hold message
("please hold", "请稍等") is the whole point of its answer: training on it teaches a model to
stall, so ``boilerplate`` drops the row. A templated signature ("Best regards, Anna / Support
team") sits after a useful answer: ``strip_signature`` cuts it and keeps the row (trained on
it, a model signs with invented names). Run ``answer_length`` after ``strip_signature``: an
answer that was only a signature is then empty and goes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from thresher.ops.base import COUNTS, Batch, Filter, Mapper, Verdict
from thresher.ops.language import FilterLanguage
from thresher.ops.length import count_words
from thresher.ops.pii import DEFAULT_REGIONS, Pii, find_pii, redact_pii
from thresher.records import as_messages, conversation_text

__all__ = ["BOILERPLATE_PATTERNS", "SIGNATURE_PATTERNS", "AnswerLength", "Boilerplate",
           "SftLanguage", "SftPii", "StripSignature", "record_text", "records_of", "turns"]

DETAIL_CHARS = 60
SFT_TASKS = ("sft", "seq2seq")
ROW_COLUMNS = ("messages", "input", "target")  # what a row says, in either task


def record_text(record: dict[str, Any]) -> str:
    """The row as one text: the conversation's turns, or input and target, joined by "\\n"."""
    if "messages" in record:
        return conversation_text(record["messages"])
    return f"{record.get('input') or ''}\n{record.get('target') or ''}"


def turns(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, role, content) per turn; a seq2seq pair is a user turn and an assistant turn."""
    if "messages" in record:
        return [(f"messages[{i}]", m["role"], m["content"])
                for i, m in enumerate(as_messages(record["messages"]))]
    return [("input", "user", str(record.get("input") or "")),
            ("target", "assistant", str(record.get("target") or ""))]


Edit = Callable[[str, str], tuple[str, Counter[str]]]  # (content, role) -> (content, counts)


def _rewrite(batch: Batch, edit: Edit) -> Batch:
    """Apply ``edit`` to every turn of every row; per-row counts go to the COUNTS key."""
    counts: list[dict[str, int]] = []
    if "messages" in batch:
        rows = []
        for value in batch["messages"]:
            found: Counter[str] = Counter()
            new = []
            for m in as_messages(value):
                content, seen = edit(m["content"], m["role"])
                found.update(seen)
                new.append({**m, "content": content})
            rows.append(new)
            counts.append(dict(found))
        batch["messages"] = rows
    else:
        inputs, targets = [], []
        for source, target in zip(batch["input"], batch["target"]):
            new_input, seen_input = edit(str(source or ""), "user")
            new_target, seen_target = edit(str(target or ""), "assistant")
            inputs.append(new_input)
            targets.append(new_target)
            counts.append(dict(seen_input + seen_target))
        batch["input"], batch["target"] = inputs, targets
    batch[COUNTS] = counts
    return batch


def records_of(batch: Batch) -> list[dict[str, Any]]:
    """The rows of a batch as records holding only the columns that say what a row is."""
    columns = [c for c in ROW_COLUMNS if c in batch]
    return [dict(zip(columns, values)) for values in zip(*(batch[c] for c in columns))]


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS - 3] + "..."


class SftPii(Mapper):
    """``pii`` for conversations: count (``report``) or redact (default) personal data in every
    turn, system prompt included, with ``find_pii``'s detectors and placeholders."""

    name = "sft_pii"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS

    def __init__(self, *, mode: Literal["report", "redact"] = "redact",
                 kinds: list[str] | None = None,  # None: every kind in thresher.ops.pii.KINDS
                 regions: list[str] | tuple[str, ...] = DEFAULT_REGIONS) -> None:
        self.mode = mode
        self.kinds = kinds
        self.regions = regions

    def check(self) -> None:
        Pii(mode=self.mode, kinds=self.kinds, regions=self.regions).check()

    def map_batch(self, batch: Batch) -> Batch:
        def edit(content: str, role: str) -> tuple[str, Counter[str]]:
            matches = find_pii(content, self.kinds, self.regions)
            if matches and self.mode == "redact":
                content = redact_pii(content, matches)
            return content, Counter(m.kind for m in matches)

        return _rewrite(batch, edit)


class AnswerLength(Filter):
    """Drop rows with an empty or too short assistant turn (every answer must pass), or with
    no answer at all. Reasons ``empty_answer`` / ``answer_too_short`` / ``no_answer``; the
    detail names the turn: ``messages[3]: 2 chars < 5``. Lengths are of the stripped answer;
    words as in ``filter_length`` (jieba words for Chinese)."""

    name = "answer_length"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS

    def __init__(self, *, min_chars: int = 1, min_words: int = 0) -> None:
        self.min_chars = min_chars
        self.min_words = min_words

    def check(self) -> None:
        for key in ("min_chars", "min_words"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")

    def keep(self, record: dict[str, Any]) -> Verdict:
        answers = [(where, content.strip()) for where, role, content in turns(record)
                   if role == "assistant"]
        if not answers:
            return False, "no_answer", "no assistant turn"
        for where, answer in answers:
            if not answer:
                return False, "empty_answer", f"{where}: empty"
            if len(answer) < self.min_chars:
                return False, "answer_too_short", f"{where}: {len(answer)} chars < {self.min_chars}"
            if self.min_words and (words := count_words(answer)) < self.min_words:
                return False, "answer_too_short", f"{where}: {words} words < {self.min_words}"
        return True

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.keep, records_of(batch)))


_SORRY = r"(?:(?:I(?:'|’)m|I am) (?:so |very |really |truly )?)?sorry|I apologi[sz]e"
_CANNOT = r"I (?:can(?:'|’)?t|cannot|am (?:not able|unable) to|won(?:'|’)t|will not)"
_EN_HOLD = (r"(?:please )?hold on(?: (?:a|one) (?:moment|second|sec|minute))?|please hold"
            r"|one moment(?:,? please)?|just a (?:moment|second|sec|minute)"
            r"|please wait(?: a (?:moment|second|minute))?")
_ZH_HOLD = r"请(?:您)?稍(?:等|候)(?:一下|片刻)?|稍等(?:一下|片刻)?|请(?:您)?耐心等待|请等一下"
# Built-in patterns by reason; ``hold`` only matches a turn that says nothing but "hold on"
# (one sentence), so "Please hold the power button. It restarts." is an answer.
BOILERPLATE_PATTERNS: dict[str, tuple[str, ...]] = {
    "refusal": (
        rf"\b(?:{_SORRY}),? (?:but )?{_CANNOT}\b",
        r"\bI(?:'|’)?m (?:not able|unable) to (?:help|assist|provide|comply|fulfil)",
        r"\bI am (?:not able|unable) to (?:help|assist|provide|comply|fulfil)",
        r"\bI can(?:'|’)?t (?:help|assist) (?:you )?with (?:that|this)\b",
        r"(?:抱歉|对不起|很遗憾)[，,、！!\s]*(?:但是?)?我(?:不能|无法|不可以|没办法|不便)",
        r"我(?:无法|不能)(?:回答|提供|协助|帮助|满足)(?:您|你)?的?(?:这个|这类|该)?(?:问题|请求|要求)",
    ),
    "ai_disclaimer": (
        r"\bas an AI(?: language)? model\b|\bas an AI (?:assistant|chatbot)\b|\bas an AI,",
        r"\bI(?:'|’)?m (?:just |only )?an AI (?:language model|assistant|model|chatbot)\b",
        r"\bI am (?:just |only )?an AI (?:language model|assistant|model|chatbot)\b",
        r"作为一?[个名]?(?:AI|人工智能)(?:语言模型|助手|模型)|作为一?[个名]?(?:AI|人工智能)[，,]",
        r"我(?:只)?是一?个?(?:AI|人工智能)(?:语言模型|助手|模型)",
    ),
    "hold": (
        rf"\A\W*(?:(?:{_EN_HOLD})(?=\s*[,，.。!！…~～:：]|\s*\Z|\s+(?:while|and|I)\b)|{_ZH_HOLD})"
        r"[^.?!。？！\n]*[.?!。？！…~～\s]*\Z",
    ),
}


class Boilerplate(Filter):
    """Drop rows whose assistant turns refuse, disclaim being an AI, or only ask to hold.

    ``use`` picks the built-in groups of :data:`BOILERPLATE_PATTERNS` (each its own reason);
    ``patterns`` adds recipe regexes (reason ``boilerplate``), searched in the turns of
    ``roles``. The detail names the turn and what matched: ``messages[1]: I'm sorry, I can't``.
    """

    name = "boilerplate"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS

    def __init__(self, *, use: list[str] | tuple[str, ...] = ("refusal", "ai_disclaimer", "hold"),
                 patterns: list[str] | None = None,
                 roles: list[str] | tuple[str, ...] = ("assistant",),
                 ignore_case: bool = True) -> None:
        self.use = use
        self.patterns = patterns
        self.roles = roles
        self.ignore_case = ignore_case

    def check(self) -> None:
        unknown = [g for g in self.use if g not in BOILERPLATE_PATTERNS]
        if unknown:
            raise ValueError(f"unknown boilerplate group(s) {unknown}; built-in groups: "
                             f"{', '.join(BOILERPLATE_PATTERNS)}")
        if not self.use and not self.patterns:
            raise ValueError("nothing to look for: use is empty and no patterns are given")
        _compile_all(self.patterns or (), self.ignore_case)
        if not self.roles:
            raise ValueError("roles must name at least one role, e.g. [assistant]")

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()  # compiled patterns are rebuilt in each worker

    def _rules(self) -> list[tuple[str, re.Pattern[str]]]:
        rules = getattr(self, "_compiled", None)
        if rules is None:
            rules = [(group, p) for group in self.use
                     for p in _compile_all(BOILERPLATE_PATTERNS[group], self.ignore_case)]
            rules += [("boilerplate", p) for p in _compile_all(self.patterns or (),
                                                               self.ignore_case)]
            self._compiled = rules
        return rules

    def keep(self, record: dict[str, Any]) -> Verdict:
        for where, role, content in turns(record):
            if role not in self.roles:
                continue
            for reason, pattern in self._rules():
                if match := pattern.search(content.strip()):
                    return False, reason, f"{where}: {_clip(match[0].strip())}"
        return True

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return list(map(self.keep, records_of(batch)))


def _compile_all(patterns: Sequence[str], ignore_case: bool) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE if ignore_case else 0))
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: "
                             f"{exc}") from None
    return compiled


# A closing line, matched against a whole stripped line; a short name may follow a comma.
SIGNATURE_PATTERNS: tuple[str, ...] = (
    r"(?:(?:best|kind|warm|warmest)(?: regards| wishes)|regards|sincerely(?: yours)?"
    r"|yours (?:sincerely|truly|faithfully)|thanks? (?:and|&) (?:best )?regards|many thanks"
    r"|cheers)(?:[,，]\s*\S.{0,40}|[,!.])?",
    # "--" alone, or a dash sign-off line: "— Sara | Support Team", "——客服小李，竭诚为您服务"
    r"(?:--|—{1,2}|–)(?:\s*\S.{0,60})?",
    r"(?:此致(?:敬礼)?|敬礼|祝好|顺祝(?:商祺|时祺|安好)|祝(?:您)?(?:生活愉快|工作顺利|购物愉快))"
    r"(?:[，,]\s*\S.{0,20}|[!！。，,])?",
)


class StripSignature(Mapper):
    """Cut a templated sign-off from assistant turns: the first closing line (``Best regards,
    Anna``, ``此致敬礼``, ``--``) with at most ``max_lines`` lines after it (name, title,
    company) and everything below. ``patterns`` adds closing-line regexes from the recipe.
    Counted per turn as ``signature``."""

    name = "strip_signature"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS

    def __init__(self, *, patterns: list[str] | None = None, max_lines: int = 3,
                 roles: list[str] | tuple[str, ...] = ("assistant",)) -> None:
        self.patterns = patterns
        self.max_lines = max_lines
        self.roles = roles

    def check(self) -> None:
        if self.max_lines < 0:
            raise ValueError(f"max_lines must be >= 0, got {self.max_lines}")
        _compile_all(self.patterns or (), True)

    def __getstate__(self) -> dict[str, Any]:
        return self.settings()

    def strip(self, content: str) -> str:
        """``content`` without its signature block (unchanged when it has none)."""
        closing = getattr(self, "_closing", None)
        if closing is None:
            closing = self._closing = _compile_all((*SIGNATURE_PATTERNS, *(self.patterns or ())),
                                                   True)
        lines = content.rstrip().split("\n")
        for i in range(max(0, len(lines) - 1 - self.max_lines), len(lines)):
            if any(p.fullmatch(lines[i].strip()) for p in closing):
                return "\n".join(lines[:i]).rstrip()
        return content

    def map_batch(self, batch: Batch) -> Batch:
        def edit(content: str, role: str) -> tuple[str, Counter[str]]:
            if role not in self.roles:
                return content, Counter()
            stripped = self.strip(content)
            return stripped, Counter() if stripped is content else Counter(signature=1)

        return _rewrite(batch, edit)


class SftLanguage(FilterLanguage):
    """``filter_language`` on the whole conversation (its turns joined), same settings/reasons."""

    name = "sft_language"
    tasks: ClassVar[tuple[str, ...]] = SFT_TASKS

    def keep(self, record: dict[str, Any]) -> Verdict:
        return self.text_verdict(record_text(record))

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return [self.text_verdict(record_text(r)) for r in records_of(batch)]
