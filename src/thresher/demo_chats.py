"""Synthetic support chat logs for the SFT example recipe, with the problems real logs have.

A support-assistant SFT set is built from chat logs, and real logs hold personal data, double
exports, "please hold" messages, refusals, signatures, empty messages and tickets nobody
answered. No public log set with those properties ships offline, so the project writes its
own: the support chats of a fictional online shop (Pinecone Market, 松果商城), templated but
varied, deterministic per seed, with every planted problem counted, so that each cleaning step
can be checked against known numbers. Every text (in ``demo_chats_text``) was written for it.

The CSV has one row per message (``conversation_id, timestamp, speaker, text``; speaker is
customer, agent or bot), conversations one after another in order of their start time. Empty
agent answers are written as empty or blank fields: pandas reads the empty ones as NaN unless
``keep_default_na=False``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import string
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from thresher._files import write_text
from thresher.demo_chats_text import (
    BOILERPLATE,
    EVAL_QUESTIONS,
    HOLD_MESSAGES,
    INTENTS,
    REFUSALS,
    SIGNATURE_MARKERS,
    SYSTEM_PROMPTS,
    VALUES,
    Intent,
)
from thresher.errors import RecipeError

__all__ = [
    "HOLD_MESSAGES",
    "REFUSALS",
    "SIGNATURE_MARKERS",
    "SYSTEM_PROMPTS",
    "ChatLogInfo",
    "SupportEvalInfo",
    "make_support_chats",
    "make_support_eval",
]

COLUMNS = ["conversation_id", "timestamp", "speaker", "text"]
LANGUAGES = ("en", "zh", "mixed")
START = datetime(2024, 3, 1, 8, 0, 0)  # fixed, so that a seed gives the same file any day
DAYS = 30  # conversations start within this many days of START
PII_SLOTS = {"email": "email", "phone": "phone", "order": "order_number", "address": "address",
             "cn_id": "cn_id"}
# rates per original conversation; duplicates are conversations // 25 each
RATES = {"no_agent": 0.04, "refusal": 0.05, "hold": 0.06, "empty": 0.04}
SIGNED_RATE = 0.15  # conversations whose agent signs every answer
GREETING_RATE = 0.35  # conversations opened by the bot
DETAIL_RATE = 0.3  # a second customer message before the agent answers
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class ChatLogInfo:
    """What the CSV holds, with every planted problem counted.

    ``problems``: exact_duplicates / near_duplicates (copies of an earlier conversation:
    identical, or with one message slightly edited), refusals and hold_messages (agent
    messages that are exactly one of ``REFUSALS`` / ``HOLD_MESSAGES``), signatures (agent
    messages holding a ``SIGNATURE_MARKERS`` signature), empty_agent_answers (empty or blank
    agent messages), no_agent_answer (conversations without an agent message),
    consecutive_same_speaker (conversations where someone writes twice in a row). ``pii``:
    occurrences of each kind in the file; email, phone, address and cn_id are what
    ``thresher.ops.pii`` finds, order_number (``PM`` + 8 digits) is not.
    """

    path: str
    language: str
    seed: int
    conversations: int
    messages: int
    by_language: dict[str, int]
    by_topic: dict[str, int]
    by_speaker: dict[str, int]
    problems: dict[str, int]
    pii: dict[str, int]
    duplicate_of: dict[str, str] = field(repr=False)  # copy id -> original id
    near_duplicate_of: dict[str, str] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SupportEvalInfo:
    """The held-out eval set; ``overlap_ids`` are items copied verbatim from the chat logs."""

    path: str
    n: int
    language: str
    seed: int
    source: str  # the make_support_chats call whose logs the overlapping items come from
    overlapping: int
    overlap_ids: list[str]
    by_topic: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Message:
    speaker: str
    text: str
    kind: str  # greeting, ask, detail, nudge, answer, hold, refusal, empty, reaction, ...
    pii: Counter[str] = field(default_factory=Counter)
    signed: bool = False


@dataclass
class _Conversation:
    language: str
    topic: str
    messages: list[_Message]
    copy_of: int | None = None  # index of the original, for planted duplicates
    near: bool = False
    id: str = ""  # given when the conversations are put in order of start time

    def key(self) -> tuple[tuple[str, str], ...]:
        return tuple((m.speaker, m.text) for m in self.messages)


def make_support_chats(path: str | Path, *, conversations: int = 400, seed: int = 0,
                       language: str = "en") -> ChatLogInfo:
    """Write a support chat-log CSV of ``conversations`` conversations and count what it holds.

    ``language`` is en, zh, or mixed (each conversation en or zh at random). Of the
    conversations, ``conversations // 25`` are exact copies of others and as many are near
    copies; the same arguments always give the same file.
    """
    _check(conversations, language)
    chats = _chat_logs(conversations, seed, language)
    rows = _rows(chats, random.Random(f"{seed}-times"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    write_text(Path(path), buffer.getvalue())
    return _info(Path(path), chats, rows, seed, language)


def make_support_eval(path: str | Path, n: int = 50, seed: int = 1, *, language: str = "en",
                      overlap: int | None = None, chats_seed: int = 0,
                      chats_conversations: int = 400) -> SupportEvalInfo:
    """Write ``n`` held-out support questions with reference answers as JSONL, each line
    ``{"id", "messages": [system, user, assistant], "topic", "language"}``.

    ``overlap`` items (default ``max(1, n // 12)``) are a customer question and the agent's
    answer copied verbatim from ``make_support_chats(conversations=chats_conversations,
    seed=chats_seed, language=language)``, so that decontamination has something to find; the
    other questions use phrasings the logs never hold.
    """
    _check(chats_conversations, language)
    if isinstance(n, int) and overlap is None:
        overlap = max(1, n // 12)
    if not isinstance(n, int) or not isinstance(overlap, int) or n < 1 or \
            not 0 <= overlap <= n:
        raise RecipeError(f"n must be at least 1 and overlap between 0 and n, got n={n!r}, "
                          f"overlap={overlap!r}", where="make_support_eval",
                          fix="Set n to a whole number of at least 1 and overlap to at most n")
    chats = _chat_logs(chats_conversations, chats_seed, language)
    rng = random.Random(f"eval-{seed}")
    taken = _overlapping_pairs(chats, overlap, rng)
    seen = {m.text for chat in chats for m in chat.messages}
    items = taken + _fresh_items(n - overlap, language, rng, seen | {q for _, _, q, _ in taken})
    rng.shuffle(items)
    lines, overlap_ids = [], []
    for i, (lang, topic, question, answer) in enumerate(items):
        item_id = f"eval-{i + 1:03d}"
        if any(question == t[2] for t in taken):
            overlap_ids.append(item_id)
        messages = [{"role": "system", "content": SYSTEM_PROMPTS[lang]},
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer}]
        lines.append(json.dumps({"id": item_id, "messages": messages, "topic": topic,
                                 "language": lang}, ensure_ascii=False))
    write_text(Path(path), "\n".join(lines) + "\n")
    source = (f"make_support_chats(conversations={chats_conversations}, seed={chats_seed}, "
              f"language={language!r})")
    return SupportEvalInfo(path=str(path), n=n, language=language, seed=seed, source=source,
                           overlapping=len(overlap_ids), overlap_ids=overlap_ids,
                           by_topic=dict(sorted(Counter(t[1] for t in items).items())))


def _check(conversations: int, language: str) -> None:
    if language not in LANGUAGES:
        raise RecipeError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}",
                          where="language", fix="Set language to en, zh or mixed")
    if isinstance(conversations, bool) or not isinstance(conversations, int) or \
            conversations < 1:
        raise RecipeError(f"conversations must be a whole number of at least 1, got "
                          f"{conversations!r}", where="conversations",
                          fix="Ask for 1 conversation or more")


def _chat_logs(total: int, seed: int, language: str) -> list[_Conversation]:
    """Originals (unique content), then exact and near copies of some of them."""
    rng = random.Random(seed)
    copies = total // 25
    originals: list[_Conversation] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    while len(originals) < total - 2 * copies:
        lang = rng.choice(("en", "zh")) if language == "mixed" else language
        chat = _conversation(rng, lang)
        if chat.key() not in seen:  # two tickets saying only "hello?" would be a third kind
            seen.add(chat.key())
            originals.append(chat)
    chats = list(originals)
    for k in rng.sample(range(len(originals)), min(copies, len(originals))):
        chats.append(_Conversation(originals[k].language, originals[k].topic,
                                   [_clone(m) for m in originals[k].messages], copy_of=k))
    for k in rng.sample(range(len(originals)), min(copies, len(originals))):
        near = _near_copy(originals[k], rng, seen)
        near.copy_of = k
        chats.append(near)
    return chats


def _conversation(rng: random.Random, lang: str) -> _Conversation:
    """One original conversation: 2 to 6 messages, its fate (problem) drawn first."""
    topic = rng.choice(sorted(INTENTS[lang]))
    intent = rng.choice(INTENTS[lang][topic])
    slots = _slots(rng, lang, intent["goods"])
    say = _Renderer(slots)
    fate = _fate(rng)
    room = rng.randint(2, 6)
    messages: list[_Message] = []
    if rng.random() < GREETING_RATE and room >= 3:
        messages.append(_Message("bot", rng.choice(BOILERPLATE[lang]["greeting"]), "greeting"))
    messages.append(say("customer", rng.choice(intent["ask"]), "ask"))
    if rng.random() < DETAIL_RATE and room - len(messages) >= 2:
        messages.append(say("customer", rng.choice(BOILERPLATE[lang]["detail"]), "detail"))
    if fate == "no_agent":
        if len(messages) < 2 or rng.random() < 0.5:
            messages.append(say("customer", rng.choice(BOILERPLATE[lang]["nudge"]), "nudge"))
        return _Conversation(lang, topic, messages)
    signed = rng.random() < SIGNED_RATE
    messages += _agent_turn(rng, lang, intent, say, fate, room - len(messages), signed)
    while room - len(messages) >= 2 and fate == "normal" and rng.random() < 0.6:
        ask, answer = rng.choice(intent["follow"] + [_closing(rng, lang)])
        messages += [say("customer", ask, "follow"), say("agent", answer, "answer", signed)]
    return _Conversation(lang, topic, messages)


def _fate(rng: random.Random) -> str:
    draw = rng.random()
    for fate, rate in RATES.items():
        if draw < rate:
            return fate
        draw -= rate
    return "normal"


def _agent_turn(rng: random.Random, lang: str, intent: Intent, say: _Renderer, fate: str,
                room: int, signed: bool) -> list[_Message]:
    """The agent's first reply: an answer, or the planted problem (with what follows it)."""
    words = BOILERPLATE[lang]
    if fate == "refusal":
        out = [_Message("agent", rng.choice(words["refusal"]), "refusal")]
        if room >= 2 and rng.random() < 0.5:
            out.append(_Message("customer", rng.choice(words["reaction"]), "reaction"))
        return out
    if fate == "empty":
        return [_Message("agent", rng.choice(("", "", " ")), "empty")]
    out = []
    if fate == "hold":
        out.append(_Message("agent", rng.choice(words["hold"]), "hold"))
        if room < 2 or rng.random() < 0.4:  # the hold message stays the only answer
            return out
    out.append(say("agent", rng.choice(intent["answer"]), "answer", signed))
    return out


def _closing(rng: random.Random, lang: str) -> tuple[str, str]:
    return (rng.choice(BOILERPLATE[lang]["thanks"]), rng.choice(BOILERPLATE[lang]["bye"]))


class _Renderer:
    """Fills a template from one conversation's slots, counting the personal data it adds."""

    def __init__(self, slots: dict[str, str]) -> None:
        self.slots = slots

    def __call__(self, speaker: str, template: str, kind: str,
                 signed: bool = False) -> _Message:
        fields = [name for _, name, _, _ in _FORMATTER.parse(template) if name]
        pii = Counter(PII_SLOTS[name] for name in fields if name in PII_SLOTS)
        text = template.format_map(self.slots)
        if signed:
            text += self.slots["signature"]
        return _Message(speaker, text, kind, pii, signed)


def _slots(rng: random.Random, lang: str, goods: str) -> dict[str, str]:
    """Every value a template of this conversation may ask for (drawn whether used or not, so
    that one template's choice does not shift the others' random stream)."""
    values = VALUES[lang]
    category = rng.choice(("clothing", "electronics", "home")) if goods == "any" else goods
    product = rng.choice(values[category])
    slots = {"product": product, "Product": product[:1].upper() + product[1:],
             "order": f"PM{rng.randint(10_000_000, 99_999_999)}",
             "agent": rng.choice(values["agent"]), "days": str(rng.randint(3, 9))}
    for key in ("ago", "day", "color", "size", "carrier"):
        slots[key] = rng.choice(values[key])
    slots.update(_english_people(rng) if lang == "en" else _chinese_people(rng))
    signature = rng.choice(BOILERPLATE[lang]["signature"])
    slots["signature"] = signature.format(agent=slots["agent"])
    return slots


def _english_people(rng: random.Random) -> dict[str, str]:
    values = VALUES["en"]
    first, last = rng.choice(values["first"]), rng.choice(values["last"])
    email = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"))
    area = rng.choice(values["area"])
    phone = rng.choice((f"({area}) 555-01{rng.randint(0, 99):02d}",
                        f"{area}-555-01{rng.randint(0, 99):02d}",
                        f"07700 900{rng.randint(0, 999):03d}"))  # US and UK fiction ranges
    unit = rng.choice(("", f", Apt {rng.randint(1, 40)}"))
    address = (f"{rng.randint(2, 980)} {rng.choice(values['street'])}{unit}, "
               f"{rng.choice(values['town'])} {rng.randint(10_000, 99_999)}")
    amount = f"${rng.randint(12, 240)}.{rng.choice(('00', '49', '95', '99'))}"
    return {"name": first, "full_name": f"{first} {last}", "phone": phone, "address": address,
            "email": f"{email.lower()}@{rng.choice(values['domain'])}", "amount": amount,
            "cn_id": ""}


def _chinese_people(rng: random.Random) -> dict[str, str]:
    values = VALUES["zh"]
    surname, given = rng.choice(values["surname"]), rng.choice(values["given"])
    digits = f"{rng.randint(0, 99_999_999):08d}"
    mobile = rng.choice(values["mobile"])
    phone = rng.choice((f"{mobile}{digits}", f"{mobile} {digits[:4]} {digits[4:]}",
                        f"{mobile}-{digits[:4]}-{digits[4:]}"))
    address = (f"{rng.choice(values['city'])}{rng.randint(1, 400)}号{rng.randint(1, 12)}栋"
               f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}室")
    email = f"{rng.choice(values['pinyin'])}{rng.randint(1, 9999)}@{rng.choice(values['domain'])}"
    return {"name": surname + rng.choice(("女士", "先生")), "full_name": surname + given,
            "phone": phone, "address": address, "email": email, "cn_id": _cn_id(rng),
            "amount": f"{rng.randint(39, 1299)}元"}


def _cn_id(rng: random.Random) -> str:
    """An 18-digit resident ID with a valid GB 11643 check character."""
    birth = START.date() - timedelta(days=rng.randint(18 * 365, 65 * 365))
    body = f"{rng.choice(VALUES['zh']['id_area'])}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


def _clone(message: _Message) -> _Message:
    return _Message(message.speaker, message.text, message.kind, Counter(message.pii),
                    message.signed)


def _near_copy(original: _Conversation, rng: random.Random,
               seen: set[tuple[tuple[str, str], ...]]) -> _Conversation:
    """The original with one customer message slightly changed (its personal data intact)."""
    for _ in range(20):
        messages = [_clone(m) for m in original.messages]
        targets = [m for m in messages if m.speaker == "customer"]
        target = rng.choice(targets)
        target.text = _small_edit(target.text, original.language, rng)
        copy = _Conversation(original.language, original.topic, messages, near=True)
        if copy.key() not in seen:
            seen.add(copy.key())
            return copy
    raise AssertionError("no distinct near copy found")  # every edit changes the text


def _small_edit(text: str, lang: str, rng: random.Random) -> str:
    """A change a second export or a retyped message makes: greeting, punctuation, case."""
    if lang == "zh":
        edits = [lambda t: "您好，" + t, lambda t: t + "～", lambda t: t.rstrip("？！。") + "。"]
    else:
        edits = [lambda t: "Hi, " + t, lambda t: t + "!", lambda t: t.rstrip("?!.") + ".",
                 lambda t: t[:1].swapcase() + t[1:]]
    for edit in rng.sample(edits, len(edits)):
        edited = edit(text)
        if edited != text:
            return edited
    return text + " "


def _rows(chats: list[_Conversation], rng: random.Random) -> list[list[str]]:
    """CSV rows; conversations ordered by start time, ids numbered in that order."""
    starts = [START + timedelta(seconds=rng.randint(0, DAYS * 86_400)) for _ in chats]
    order = sorted(range(len(chats)), key=lambda i: starts[i])
    rows = []
    for number, i in enumerate(order, start=1):
        chats[i].id = f"conv-{number:04d}"
        when = starts[i]
        for message in chats[i].messages:
            rows.append([chats[i].id, when.isoformat(), message.speaker, message.text])
            when += timedelta(seconds=rng.randint(8, 300))
    return rows


def _info(path: Path, chats: list[_Conversation], rows: list[list[str]], seed: int,
          language: str) -> ChatLogInfo:
    messages = [m for chat in chats for m in chat.messages]
    agent = [m for m in messages if m.speaker == "agent"]
    ids = [chat.id for chat in chats]
    problems = {
        "exact_duplicates": sum(c.copy_of is not None and not c.near for c in chats),
        "near_duplicates": sum(c.near for c in chats),
        "refusals": sum(m.kind == "refusal" for m in agent),
        "hold_messages": sum(m.kind == "hold" for m in agent),
        "signatures": sum(m.signed for m in agent),
        "empty_agent_answers": sum(m.kind == "empty" for m in agent),
        "no_agent_answer": sum(all(m.speaker != "agent" for m in c.messages) for c in chats),
        "consecutive_same_speaker": sum(
            any(a.speaker == b.speaker for a, b in zip(c.messages, c.messages[1:]))
            for c in chats)}
    pii = sum((m.pii for m in messages), Counter())
    return ChatLogInfo(
        path=str(path), language=language, seed=seed, conversations=len(chats),
        messages=len(rows), by_language=dict(sorted(Counter(c.language for c in chats).items())),
        by_topic=dict(sorted(Counter(c.topic for c in chats).items())),
        by_speaker=dict(sorted(Counter(m.speaker for m in messages).items())),
        problems=problems, pii={kind: pii.get(kind, 0) for kind in PII_SLOTS.values()},
        duplicate_of={ids[i]: ids[c.copy_of] for i, c in enumerate(chats)
                      if c.copy_of is not None and not c.near},
        near_duplicate_of={ids[i]: ids[c.copy_of] for i, c in enumerate(chats)
                           if c.copy_of is not None and c.near})


def _overlapping_pairs(chats: list[_Conversation], k: int,
                       rng: random.Random) -> list[tuple[str, str, str, str]]:
    """``k`` (language, topic, question, answer) pairs taken verbatim from original logs."""
    pairs = {}
    for chat in chats:
        if chat.copy_of is not None:
            continue
        for question, answer in zip(chat.messages, chat.messages[1:]):
            if question.kind in ("ask", "follow") and answer.kind == "answer" and \
                    not answer.signed and question.text not in pairs:
                pairs[question.text] = (chat.language, chat.topic, question.text, answer.text)
    if k > len(pairs):
        raise RecipeError(f"overlap asks for {k} items but the logs hold only {len(pairs)} "
                          "usable question-answer pairs", where="make_support_eval.overlap",
                          fix="Ask for fewer overlapping items, or more conversations")
    return rng.sample(sorted(pairs.values()), k)


def _fresh_items(n: int, language: str, rng: random.Random,
                 seen: set[str]) -> list[tuple[str, str, str, str]]:
    """``n`` distinct held-out items whose question the logs do not hold."""
    items: list[tuple[str, str, str, str]] = []
    for _ in range(200 * n + 100):
        if len(items) == n:
            return items
        lang = rng.choice(("en", "zh")) if language == "mixed" else language
        topic = rng.choice(sorted(EVAL_QUESTIONS[lang]))
        question, answer = rng.choice(EVAL_QUESTIONS[lang][topic])
        slots = _slots(rng, lang, "any")
        question, answer = question.format_map(slots), answer.format_map(slots)
        if question not in seen:
            seen.add(question)
            items.append((lang, topic, question, answer))
    raise RecipeError(f"cannot write {n} distinct held-out questions", where="make_support_eval.n",
                      fix="Ask for fewer items (a few hundred at most)")
