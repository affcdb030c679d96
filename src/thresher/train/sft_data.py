"""The token view of SFT data: chat-template rendering, an assistant-only loss mask, and packing.

A chat model learns from what the assistant says, not from the system prompt, the user's words
or the role headers the template writes around them; training on those teaches it to write
user turns. So every conversation is rendered once with the backbone's own chat template (the
text the model will see when it is used) and only the assistant's tokens keep their labels,
plus the end-of-turn token after each answer, so that the model learns when to stop.

Why character offsets rather than ``{% generation %}`` or diffing token prefixes: most chat
templates carry no ``{% generation %}`` markers, so ``return_assistant_tokens_mask`` is empty for
them; tokenising each prefix and diffing ids costs one tokenisation per turn and breaks whenever
a BPE merge crosses a turn boundary. Here the full rendering is tokenised once (the ids are
exactly ``apply_chat_template``'s), and each message's character span is found by rendering the
prefixes ``messages[:k]`` as text (cheap: no tokeniser) -- when every prefix is a prefix of the
full rendering. Templates that rewrite earlier turns once later ones follow (some drop earlier
reasoning) fall back to finding each message's text in order. The fast tokeniser's offsets map
characters to tokens. The end-of-turn token is the first special token after an answer (only
whitespace between): ``<|im_end|>``, ``<|eot_id|>``, ``<end_of_turn>``, ``</s>``.

Labels follow transformers' convention: aligned with ``input_ids``, the model shifts them.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from thresher.errors import DataError, ModelError
from thresher.train import batches

__all__ = [
    "IGNORE_INDEX",
    "Encoded",
    "Packed",
    "PaddingWaste",
    "collate_packed",
    "collate_padded",
    "encode_conversation",
    "encode_conversations",
    "encode_pair",
    "pack",
    "packed_attention_mask",
    "padded_data",
    "padding_waste",
    "token_stats",
]

IGNORE_INDEX = -100  # the label cross-entropy skips (PyTorch's and transformers' default)
_PERCENTILES = (50, 90, 99)


@dataclass
class Encoded:
    """One conversation (or seq2seq pair) as tokens.

    ``labels`` equals ``input_ids`` on assistant tokens and is -100 elsewhere. ``turn_lengths``
    and ``roles`` describe every message of the full rendering (header tokens included; text
    the template puts before the first message counts with it), before any truncation.
    ``reason`` says why nothing is trainable ("" when something is), for the caller's reject.
    """

    input_ids: list[int]
    labels: list[int]
    truncated: bool
    turn_lengths: list[int]
    roles: list[str] = field(default_factory=list)
    full_length: int = 0  # tokens of the whole rendering, before truncation
    kept_turns: int = 0  # messages kept whole
    reason: str = ""

    @property
    def trainable(self) -> int:
        """How many tokens carry a label."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trainable": self.trainable}


@dataclass
class Packed:
    """Several sequences laid end to end: positions restart at 0 for each of them."""

    input_ids: list[int]
    labels: list[int]
    position_ids: list[int]
    seq_lengths: list[int]
    rows: list[int]  # which inputs of ``pack`` (their indices) it holds, in order

    def __len__(self) -> int:
        return len(self.input_ids)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PaddingWaste:
    """Share of pad tokens (of all tokens a model would process) under each way of batching."""

    sequences: int
    tokens: int  # real tokens
    packs: int
    batch_size: int
    max_length: int
    padded_to_max: float  # every row padded to max_length
    padded_bucketed: float  # length-grouped batches padded to their longest row (batches.py)
    packed_to_max: float  # packs padded to max_length
    packed_bucketed: float  # packs batched like rows, padded to the longest pack of a batch
    sequences_per_pack: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- encoding -------------------------------------------------------------------------------


def encode_conversation(tokenizer: Any, messages: Any, max_length: int) -> Encoded:
    """Render ``messages`` with the tokenizer's chat template; label only the assistant tokens.

    A conversation longer than ``max_length`` keeps its leading messages up to the end of the
    last assistant answer that fits; when even the first answer does not fit, nothing is
    trainable and ``reason`` says so.
    """
    return encode_conversations(tokenizer, [messages], max_length)[0]


def encode_conversations(tokenizer: Any, conversations: Sequence[Any],
                         max_length: int) -> list[Encoded]:
    """``encode_conversation`` for many conversations, tokenised in one batched call (the
    Rust tokeniser spreads a batch over the CPU cores)."""
    _check_tokenizer(tokenizer, template=True)
    _check_max_length(max_length)
    if not len(conversations):
        return []
    chats = [_as_messages(messages) for messages in conversations]
    texts = [_render(tokenizer, messages) for messages in chats]
    out = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    special = _special_ids(tokenizer)
    return [
        _encoded(tokenizer, messages, full, list(ids), [tuple(o) for o in offsets], special,
                 max_length)
        for messages, full, ids, offsets in zip(chats, texts, out["input_ids"],
                                                out["offset_mapping"])
    ]


def _encoded(tokenizer: Any, messages: list[dict[str, str]], full: str, ids: list[int],
             offsets: list[tuple[int, int]], special: set[int], max_length: int) -> Encoded:
    spans = _message_spans(tokenizer, messages, full)
    labels, ends, missing = _label(ids, offsets, full, messages, spans, special)
    turns = [b - a for a, b in zip([0, *ends[:-1]], ends)]
    roles = [m["role"] for m in messages]
    if missing:  # half a conversation's answers would teach a skewed model: none at all
        return Encoded(ids[:max_length], [IGNORE_INDEX] * min(len(ids), max_length),
                       len(ids) > max_length, turns, roles, len(ids), 0,
                       f"the chat template changed the text of assistant message {missing[0]}, "
                       "so its tokens could not be found")
    return _truncate(ids, labels, turns, roles, max_length)


def encode_pair(tokenizer: Any, input_text: str, target: str, max_length: int) -> Encoded:
    """A seq2seq row: ``input_text`` as a user turn and ``target`` as the answer when the tokenizer
    has a chat template; else the input's tokens, then the target's and eos (labels on those).

    A pair longer than ``max_length`` is not cut (a cut target teaches a wrong ending): it is
    marked truncated with nothing trainable.
    """
    _check_max_length(max_length)
    if getattr(tokenizer, "chat_template", None):
        turns = [{"role": "user", "content": input_text},
                 {"role": "assistant", "content": target}]
        return encode_conversation(tokenizer, turns, max_length)
    if tokenizer.eos_token_id is None:
        raise ModelError("the tokenizer has neither a chat template nor an eos token, so a "
                         "target's end cannot be marked", where="train.sft",
                         fix="Use a tokenizer that defines eos_token")
    prompt = list(tokenizer(input_text)["input_ids"])  # with the tokenizer's own bos, if any
    answer = [*tokenizer(target, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    ids = prompt + answer
    labels = [IGNORE_INDEX] * len(prompt) + answer
    return _truncate(ids, labels, [len(prompt), len(answer)], ["user", "assistant"], max_length)


def _as_messages(value: Any) -> list[dict[str, str]]:
    from thresher.records import as_messages

    try:
        messages = as_messages(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"a conversation must be a list of {{role, content}} messages, got "
                        f"{type(value).__name__}: {exc}", where="messages",
                        fix="Give every message a 'role' and a 'content'") from exc
    if not messages:
        raise DataError("a conversation has no messages", where="messages",
                        fix="Drop empty conversations before encoding")
    return messages


def _check_tokenizer(tokenizer: Any, template: bool) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError("the loss mask needs a fast (Rust) tokenizer for character offsets",
                         where="train.sft", fix="Load the tokenizer with use_fast=True")
    if template and not getattr(tokenizer, "chat_template", None):
        raise ModelError("the tokenizer has no chat template", where="train.sft",
                         fix="Use an instruct/chat model, or set tokenizer.chat_template")


def _check_max_length(max_length: int) -> None:
    if max_length < 1:
        raise DataError(f"max_length must be at least 1, got {max_length}", where="train.sft",
                        fix="Set max_length to the longest sequence the model should see")


def _render(tokenizer: Any, messages: list[dict[str, str]], prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)


def _special_ids(tokenizer: Any) -> set[int]:
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    return set(tokenizer.all_special_ids) | {i for i, tok in added.items() if tok.special}


@dataclass
class _Span:
    """Characters of one message in the full rendering.

    ``end`` closes its turn; ``limit`` is where the search for its end-of-turn token stops.
    """

    end: int
    limit: int
    content: tuple[int, int] | None  # None: text not found (or empty answer)


def _message_spans(tokenizer: Any, messages: list[dict[str, str]], full: str) -> list[_Span]:
    ends = _prefix_ends(tokenizer, messages, full)
    if ends is None:
        return _spans_in_order(messages, full)
    spans, start = [], 0
    for k, message in enumerate(messages):
        search_from = start
        if message["role"] == "assistant":  # skip the header: "assistant" may be the answer
            header = _render_or_none(tokenizer, messages[:k], prompt=True)
            if header is not None and full.startswith(header) and start <= len(header) <= ends[k]:
                search_from = len(header)
        found = _find(full, message["content"], search_from, ends[k])
        spans.append(_Span(end=ends[k], limit=ends[k], content=found))
        start = ends[k]
    return spans


def _prefix_ends(tokenizer: Any, messages: list[dict[str, str]], full: str) -> list[int] | None:
    """End of each message in ``full`` when every prefix renders as a prefix of it, else None."""
    ends, previous = [], 0
    for k in range(1, len(messages) + 1):
        text = full if k == len(messages) else _render_or_none(tokenizer, messages[:k])
        if text is None or not full.startswith(text) or len(text) < previous:
            return None
        ends.append(len(text))
        previous = len(text)
    return ends


def _render_or_none(tokenizer: Any, messages: list[dict[str, str]],
                    prompt: bool = False) -> str | None:
    if not messages:
        return "" if not prompt else None
    try:
        return _render(tokenizer, messages, prompt)
    except Exception:  # noqa: BLE001 -- a template may refuse a prefix (jinja raise_exception)
        return None


def _spans_in_order(messages: list[dict[str, str]], full: str) -> list[_Span]:
    """Fallback: each message's text found after the previous one's (headers are not skipped,
    so an answer that equals a role name could match its own header)."""
    found: list[tuple[int, int] | None] = []
    cursor = 0
    for message in messages:
        hit = _find(full, message["content"], cursor, len(full))
        found.append(hit)
        cursor = hit[1] if hit else cursor
    spans = []
    for k, hit in enumerate(found):
        later = [h[0] for h in found[k + 1:] if h is not None]
        limit = later[0] if later else len(full)
        spans.append(_Span(end=hit[1] if hit else cursor, limit=limit, content=hit))
    spans[-1].end = len(full)
    return spans


def _find(full: str, content: str, start: int, stop: int) -> tuple[int, int] | None:
    for text in (content, content.strip()):  # some templates trim the content
        if text.strip():
            at = full.find(text, start, stop)
            if at >= 0:
                return at, at + len(text)
    return None


def _label(ids: list[int], offsets: list[tuple[int, int]], full: str,
           messages: list[dict[str, str]], spans: list[_Span],
           special: set[int]) -> tuple[list[int], list[int], list[int]]:
    """Labels, each message's end as a token index, and assistant messages not found."""
    starts = [s for s, _ in offsets]
    stops = [e for _, e in offsets]
    labels = [IGNORE_INDEX] * len(ids)
    ends: list[int] = []
    missing: list[int] = []
    for k, (message, span) in enumerate(zip(messages, spans)):
        end = bisect.bisect_left(starts, span.end)
        answer = message["role"] == "assistant"
        if span.content is not None:
            first = bisect.bisect_right(stops, span.content[0])  # first token ending inside
            last = bisect.bisect_left(starts, span.content[1])  # first token starting after
            last = _end_of_turn(ids, starts, stops, full, last, span.limit, special)
            if answer:
                labels[first:last] = ids[first:last]
            end = max(end, last)  # the text-search fallback ends a turn after its marker
        elif answer and message["content"].strip():  # an empty answer teaches nothing
            missing.append(k)
        ends.append(max([end, *ends[-1:]]))
    if ends:
        ends[-1] = len(ids)
    return labels, ends, missing


def _end_of_turn(ids: list[int], starts: list[int], stops: list[int], full: str, at: int,
                 limit: int, special: set[int]) -> int:
    """One past the end-of-turn token after an answer (whitespace tokens between are kept),
    or ``at`` when the template puts no special token there."""
    j = at
    while j < len(ids) and starts[j] < limit and ids[j] not in special:
        if full[starts[j]:stops[j]].strip():
            return at
        j += 1
    return j + 1 if j < len(ids) and starts[j] < limit else at


def _truncate(ids: list[int], labels: list[int], turns: list[int], roles: list[str],
              max_length: int) -> Encoded:
    """Keep whole leading messages through the last answer that fits in ``max_length``."""
    kept = Encoded(ids, labels, False, turns, roles, len(ids), len(turns))
    if len(ids) > max_length:
        ends = np.cumsum(turns).tolist()
        fits = [k for k, role in enumerate(roles) if role == "assistant" and ends[k] <= max_length
                and any(x != IGNORE_INDEX for x in labels[ends[k] - turns[k]:ends[k]])]
        if fits:
            cut = ends[fits[-1]]
            kept = Encoded(ids[:cut], labels[:cut], True, turns, roles, len(ids), fits[-1] + 1)
        else:
            first = [ends[k] for k, role in enumerate(roles) if role == "assistant"]
            where = f"ends at token {first[0]}" if first else "is missing"
            kept = Encoded(ids[:max_length], [IGNORE_INDEX] * max_length, True, turns, roles,
                           len(ids), 0, f"the first assistant answer {where}, beyond max_length "
                           f"{max_length}")
    if not kept.reason and kept.trainable == 0:
        kept.reason = "no assistant answer to train on"
    return kept


# -- statistics -----------------------------------------------------------------------------


def token_stats(encoded: Sequence[Encoded]) -> dict[str, Any]:
    """Token-length distributions per conversation and per turn (by role, before truncation),
    the share of conversations truncated, and the share of tokens that carry a label among
    those of the conversations kept (with something trainable)."""
    kept_tokens = sum(len(e.input_ids) for e in encoded if e.trainable)
    trainable = sum(e.trainable for e in encoded)
    roles: dict[str, list[int]] = {}
    for e in encoded:
        for role, n in zip(e.roles, e.turn_lengths):
            roles.setdefault(role, []).append(n)
    out: dict[str, Any] = {
        "conversations": len(encoded),
        "per_conversation": _distribution([e.full_length for e in encoded]),
        "per_turn": {role: _distribution(v) for role, v in sorted(roles.items())},
        "truncated_share": _share(sum(e.truncated for e in encoded), len(encoded)),
        "untrainable": sum(1 for e in encoded if e.trainable == 0),
        "kept_tokens": kept_tokens,
        "trainable_tokens": trainable,
        "trainable_token_share": _share(trainable, kept_tokens),
    }
    if not encoded:
        out["note"] = "no conversations: shares and distributions are None"
    return out


def _distribution(values: Sequence[int]) -> dict[str, Any]:
    if not len(values):
        return {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    pct = np.percentile(arr, _PERCENTILES)  # linear interpolation between order statistics
    return {"count": len(values), "mean": float(arr.mean()),
            **{f"p{p}": float(v) for p, v in zip(_PERCENTILES, pct)}, "max": int(arr.max())}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- packing --------------------------------------------------------------------------------


def pack(encoded: Sequence[Encoded], max_length: int, seed: int) -> list[Packed]:
    """First-fit-decreasing bin packing of the sequences into packs of at most ``max_length``.

    Equal lengths are ordered by ``seed``; empty sequences are left out. Each sequence's first
    label is -100, so the last token of one sequence is never trained to predict the first
    token of the next.
    """
    lengths = np.fromiter((len(e.input_ids) for e in encoded), dtype=np.int64, count=len(encoded))
    if len(lengths) and lengths.max() > max_length:
        row = int(lengths.argmax())
        raise DataError(f"sequence {row} has {int(lengths[row])} tokens, more than max_length "
                        f"{max_length}", where="train.sft.pack",
                        fix="Encode with the same max_length as the packing")
    order = np.random.default_rng(seed).permutation(len(lengths))
    order = order[np.argsort(-lengths[order], kind="stable")]
    order = order[lengths[order] > 0]
    bins = _first_fit([int(n) for n in lengths[order]], max_length)
    packs: list[list[int]] = [[] for _ in range(max(bins, default=-1) + 1)]
    for row, b in zip(order.tolist(), bins):
        packs[b].append(row)
    return [_packed(encoded, rows) for rows in packs]


def _first_fit(lengths: list[int], capacity: int) -> list[int]:
    """Bin of each item: the lowest-numbered bin with room (a max-tree over the bins' free
    space finds it in log time; unopened bins are empty, so one always has room)."""
    size = 1
    while size < max(len(lengths), 1):
        size *= 2
    free = [capacity] * (2 * size)
    out = []
    for n in lengths:
        i = 1
        while i < size:
            i = 2 * i if free[2 * i] >= n else 2 * i + 1
        out.append(i - size)
        free[i] -= n
        i //= 2
        while i:
            free[i] = max(free[2 * i], free[2 * i + 1])
            i //= 2
    return out


def _packed(encoded: Sequence[Encoded], rows: list[int]) -> Packed:
    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    for row in rows:
        e = encoded[row]
        ids.extend(e.input_ids)
        labels.extend([IGNORE_INDEX, *e.labels[1:]])
        positions.extend(range(len(e.input_ids)))
    return Packed(ids, labels, positions, [len(encoded[r].input_ids) for r in rows], rows)


def packed_attention_mask(packed: Packed, length: int | None = None, as_bool: bool = False,
                          dtype: Any = None) -> Any:
    """The (1, 1, length, length) block-diagonal causal mask of one pack.

    A token sees earlier tokens of its own sequence only. Padding up to ``length`` forms one
    more block, so no query row is fully masked (which would give NaN). ``as_bool``: True where
    attention is allowed (sdpa); else additive, 0 or the dtype's minimum (eager adds it).
    """
    import torch

    length = length or len(packed)
    seq = np.repeat(np.arange(len(packed.seq_lengths)), packed.seq_lengths)
    seq = np.concatenate([seq, np.full(length - len(seq), len(packed.seq_lengths))])
    ids = torch.from_numpy(seq)
    allowed = (ids[:, None] == ids[None, :]) & torch.ones(length, length, dtype=torch.bool).tril()
    allowed = allowed[None, None]
    if as_bool:
        return allowed
    dtype = dtype or torch.float32
    mask = torch.zeros(allowed.shape, dtype=dtype)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min)


# -- batches --------------------------------------------------------------------------------


def padded_data(encoded: Sequence[Encoded], pad_id: int) -> batches.Encoded:
    """The conversations as ``batches.Encoded``, so the loop's length-grouped batches
    (``batches.train_batches``) and dynamic padding (``collate_padded``) apply unchanged."""
    ids = [list(e.input_ids) for e in encoded]
    lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    return batches.Encoded(ids, lengths, [list(e.labels) for e in encoded], int(pad_id))


def collate_padded(data: batches.Encoded, rows: np.ndarray) -> dict[str, Any]:
    """input_ids, attention_mask and labels of ``rows``, padded to the batch's longest row
    (labels padded with -100)."""
    return batches.collate(data, rows)


def collate_packed(packs: Sequence[Packed], rows: Sequence[int], pad_id: int,
                   attention: str = "position_ids", dtype: Any = None) -> dict[str, Any]:
    """Tensors for the packs ``rows``, padded to the batch's longest pack.

    ``attention="position_ids"``: no attention_mask; transformers (5.x) rebuilds the blocks
    from the restarting position_ids for eager and sdpa alike -- only when no attention_mask
    is passed and no cache is built (call the model with ``use_cache=False``).
    ``attention="mask"``: a 4D block-diagonal mask (``packed_attention_mask``), which works
    whatever the cache; additive in ``dtype`` (default float32) for eager and sdpa, or bool
    when ``dtype`` is torch.bool -- sdpa only: eager adds the mask, so a bool one masks nothing.
    """
    import torch

    if attention not in ("position_ids", "mask"):
        raise DataError(f"attention must be 'position_ids' or 'mask', got {attention!r}",
                        where="train.sft.collate_packed", fix="Pass one of the two")
    chosen = [packs[r] for r in rows]
    width = max(len(p) for p in chosen)
    ids = np.full((len(chosen), width), pad_id, dtype=np.int64)
    labels = np.full((len(chosen), width), IGNORE_INDEX, dtype=np.int64)
    positions = np.tile(np.arange(width, dtype=np.int64), (len(chosen), 1))
    for i, p in enumerate(chosen):
        n = len(p)
        ids[i, :n], labels[i, :n], positions[i, :n] = p.input_ids, p.labels, p.position_ids
        positions[i, n:] = np.arange(width - n)  # padding: a sequence of its own
    batch = {"input_ids": torch.from_numpy(ids), "labels": torch.from_numpy(labels),
             "position_ids": torch.from_numpy(positions)}
    if attention == "mask":
        as_bool = dtype is torch.bool
        batch["attention_mask"] = torch.cat(
            [packed_attention_mask(p, width, as_bool, None if as_bool else dtype) for p in chosen])
    return batch


def padding_waste(encoded: Sequence[Encoded], packs: Sequence[Packed], batch_size: int,
                  max_length: int, seed: int) -> PaddingWaste:
    """How much of each batching's work is padding, for the same sequences."""
    lengths = np.fromiter((len(e.input_ids) for e in encoded), dtype=np.int64, count=len(encoded))
    pack_lengths = np.fromiter((len(p) for p in packs), dtype=np.int64, count=len(packs))
    tokens = int(lengths.sum())
    rng = np.random.default_rng(seed)

    def bucketed(values: np.ndarray) -> float:
        groups = batches.train_batches(values, batch_size, rng)
        return _waste(tokens, sum(len(g) * int(values[g].max()) for g in groups if len(g)))

    return PaddingWaste(
        sequences=len(encoded), tokens=tokens, packs=len(packs), batch_size=batch_size,
        max_length=max_length,
        padded_to_max=_waste(tokens, len(encoded) * max_length),
        padded_bucketed=bucketed(lengths),
        packed_to_max=_waste(tokens, len(packs) * max_length),
        packed_bucketed=bucketed(pack_lengths),
        sequences_per_pack=len(encoded) / len(packs) if packs else 0.0,
    )


def _waste(tokens: int, processed: int) -> float:
    return 1.0 - tokens / processed if processed else 0.0
