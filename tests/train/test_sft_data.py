"""SFT token view: loss mask, truncation, packing -- checked token by token on a tiny tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.errors import DataError, ModelError
from thresher.train.sft_data import (
    IGNORE_INDEX,
    Encoded,
    collate_packed,
    collate_padded,
    encode_conversation,
    encode_conversations,
    encode_pair,
    pack,
    packed_attention_mask,
    padded_data,
    padding_waste,
    token_stats,
)

X = IGNORE_INDEX
WORDS = ("system user assistant be brief hello there hi friend how are you fine thanks "
         "say yes no ok good").split()
SPECIALS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "[UNK]"]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
# the same layout, with {% generation %} around what an answer should train on: a reference
GENERATION = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
              "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|im_end|>"
              "{% endgeneration %}\n{% else %}"
              "{{ m['content'] }}<|im_end|>\n{% endif %}{% endfor %}")
# renders an empty <think/> in the last answer only: earlier prefixes are not prefixes of it
THINKING = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['role'] == 'assistant' "
            "and loop.last %}<s> </s> {% endif %}{{ m['content'] | trim }}<|im_end|>\n{% endfor %}")
CONVERSATION = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello there"},
    {"role": "assistant", "content": "hi friend"},
    {"role": "user", "content": "how are you"},
    {"role": "assistant", "content": "fine thanks"},
]
#         0 <|im_start|> 1 system 2 be 3 brief 4 <|im_end|> | 5 <|im_start|> 6 user 7 hello
#         8 there 9 <|im_end|> | 10 <|im_start|> 11 assistant 12 hi 13 friend 14 <|im_end|> |
#         15 <|im_start|> 16 user 17 how 18 are 19 you 20 <|im_end|> | 21 <|im_start|>
#         22 assistant 23 fine 24 thanks 25 <|im_end|>
IDS = [3, 6, 9, 10, 4, 3, 7, 11, 12, 4, 3, 8, 13, 14, 4, 3, 7, 15, 16, 17, 4, 3, 8, 18, 19, 4]
LABELS = [X] * 12 + [13, 14, 4] + [X] * 8 + [18, 19, 4]


def tiny_tokenizer(template: str | None = CHATML):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(SPECIALS + WORDS)}
    inner = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    inner.pre_tokenizer = pre_tokenizers.Whitespace()  # newlines give no token
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=inner, unk_token="[UNK]", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>", additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = template
    return tokenizer


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def test_two_turn_labels_token_by_token(tok) -> None:
    e = encode_conversation(tok, CONVERSATION, 64)
    assert e.input_ids == IDS
    assert e.input_ids == tok.apply_chat_template(CONVERSATION)["input_ids"]
    assert e.labels == LABELS
    assert e.turn_lengths == [5, 5, 5, 6, 5]
    assert e.roles == ["system", "user", "assistant", "user", "assistant"]
    assert (e.truncated, e.full_length, e.kept_turns, e.trainable, e.reason) == (
        False, 26, 5, 6, "")


def test_batched_encoding_equals_one_by_one(tok) -> None:
    chats = [CONVERSATION, CONVERSATION[:3], CONVERSATION[3:]]
    assert encode_conversations(tok, chats, 20) == [encode_conversation(tok, c, 20) for c in chats]
    assert encode_conversations(tok, [], 20) == []


def test_labels_match_transformers_generation_mask() -> None:
    tok = tiny_tokenizer(GENERATION)
    reference = tok.apply_chat_template(CONVERSATION, return_assistant_tokens_mask=True)
    e = encode_conversation(tok, CONVERSATION, 64)
    assert e.input_ids == reference["input_ids"]
    assert [int(x != X) for x in e.labels] == reference["assistant_masks"]


def test_parquet_ndarray_messages_and_answer_equal_to_a_role_name(tok) -> None:
    messages = np.array([{"role": "user", "content": "say assistant"},
                         {"role": "assistant", "content": "assistant"}], dtype=object)
    e = encode_conversation(tok, messages, 64)
    # the header's "assistant" (position 6) stays unlabelled; the answer's (7) is learnt
    assert tok.convert_ids_to_tokens(e.input_ids) == [
        "<|im_start|>", "user", "say", "assistant", "<|im_end|>",
        "<|im_start|>", "assistant", "assistant", "<|im_end|>"]
    assert e.labels == [X] * 7 + [8, 4]


def test_prefix_unstable_template_falls_back_to_text_search() -> None:
    tok = tiny_tokenizer(THINKING)
    messages = [{"role": "user", "content": "say yes"}, {"role": "assistant", "content": " yes "},
                {"role": "user", "content": "say no"}, {"role": "assistant", "content": "no"}]
    e = encode_conversation(tok, messages, 64)
    assert tok.convert_ids_to_tokens(e.input_ids) == [
        "<|im_start|>", "user", "say", "yes", "<|im_end|>", "<|im_start|>", "assistant", "yes",
        "<|im_end|>", "<|im_start|>", "user", "say", "no", "<|im_end|>", "<|im_start|>",
        "assistant", "<s>", "</s>", "no", "<|im_end|>"]
    labels = [X] * 20
    labels[7:9] = [e.input_ids[7], 4]
    labels[18:20] = [e.input_ids[18], 4]
    assert e.labels == labels
    assert e.turn_lengths == [5, 4, 5, 6]  # text found in order: a turn ends after its marker


def test_answer_the_template_rewrites_is_marked() -> None:
    tok = tiny_tokenizer(CHATML.replace("{{ m['content'] }}", "{{ m['content'] | upper }}"))
    e = encode_conversation(tok, CONVERSATION, 64)
    assert (len(e.input_ids), e.trainable, e.truncated) == (26, 0, False)
    assert e.reason == ("the chat template changed the text of assistant message 2, so its "
                        "tokens could not be found")


def test_truncation_keeps_whole_leading_turns(tok) -> None:
    for max_length in (15, 25):
        e = encode_conversation(tok, CONVERSATION, max_length)
        assert (e.input_ids, e.labels) == (IDS[:15], LABELS[:15])
        assert (e.truncated, e.kept_turns, e.full_length, e.reason) == (True, 3, 26, "")
        assert e.turn_lengths == [5, 5, 5, 6, 5]
    e = encode_conversation(tok, CONVERSATION, 26)
    assert (e.input_ids, e.truncated) == (IDS, False)


def test_first_answer_that_does_not_fit_is_marked(tok) -> None:
    e = encode_conversation(tok, CONVERSATION, 14)
    assert (len(e.input_ids), e.trainable, e.truncated, e.kept_turns) == (14, 0, True, 0)
    assert e.reason == "the first assistant answer ends at token 15, beyond max_length 14"
    e = encode_conversation(tok, CONVERSATION[:2], 64)
    assert (e.trainable, e.truncated, e.reason) == (0, False, "no assistant answer to train on")
    e = encode_conversation(tok, CONVERSATION[:2], 4)
    assert e.reason == "the first assistant answer is missing, beyond max_length 4"


def test_bad_input_errors(tok) -> None:
    with pytest.raises(DataError) as bad:
        encode_conversation(tok, [{"role": "user"}], 64)
    assert str(bad.value) == ("messages: a conversation must be a list of {role, content} "
                              "messages, got list: 'content'. Give every message a 'role' and "
                              "a 'content'.")
    with pytest.raises(DataError, match="^messages: a conversation has no messages. Drop empty"):
        encode_conversation(tok, [], 64)
    with pytest.raises(ModelError) as bad:
        encode_conversation(tiny_tokenizer(None), CONVERSATION, 64)
    assert str(bad.value) == ("train.sft: the tokenizer has no chat template. Use an "
                              "instruct/chat model, or set tokenizer.chat_template.")
    with pytest.raises(DataError, match="max_length must be at least 1, got 0"):
        encode_conversation(tok, CONVERSATION, 0)


def test_seq2seq_pair_with_and_without_template(tok) -> None:
    e = encode_pair(tok, "say yes", "ok good", 64)
    assert e.input_ids == [3, 7, 20, 21, 4, 3, 8, 23, 24, 4]
    assert e.labels == [X] * 7 + [23, 24, 4]
    plain = encode_pair(tiny_tokenizer(None), "say yes", "ok good", 64)
    assert plain.input_ids == [20, 21, 23, 24, 2]  # no bos (the tokenizer adds none), eos after
    assert plain.labels == [X, X, 23, 24, 2]
    assert plain.turn_lengths == [2, 3]
    cut = encode_pair(tiny_tokenizer(None), "say yes", "ok good", 4)
    assert (cut.truncated, cut.trainable) == (True, 0)
    assert cut.reason == "the first assistant answer ends at token 5, beyond max_length 4"


def test_token_stats_numbers(tok) -> None:
    encoded = [encode_conversation(tok, CONVERSATION, 20),
               encode_conversation(tok, CONVERSATION[:3], 20),
               encode_conversation(tok, CONVERSATION[:2], 20)]
    stats = token_stats(encoded)
    assert stats["per_conversation"] == pytest.approx(
        {"count": 3, "mean": 17.0, "p50": 15.0, "p90": 23.8, "p99": 25.78, "max": 26})
    assert stats["per_turn"]["assistant"] == {"count": 3, "mean": 5.0, "p50": 5.0, "p90": 5.0,
                                              "p99": 5.0, "max": 5}
    assert stats["per_turn"]["user"]["count"] == 4
    assert stats["per_turn"]["user"]["mean"] == 5.25
    assert stats["truncated_share"] == pytest.approx(1 / 3)
    assert (stats["untrainable"], stats["kept_tokens"], stats["trainable_tokens"]) == (1, 30, 6)
    assert stats["trainable_token_share"] == pytest.approx(6 / 30)
    empty = token_stats([])
    assert empty["per_conversation"]["mean"] is None and empty["truncated_share"] is None
    assert empty["note"] == "no conversations: shares and distributions are None"


def _seq(n: int, start: int) -> Encoded:
    ids = list(range(start, start + n))
    return Encoded(ids, [X] + ids[1:], False, [n], ["assistant"], n, 1)


def test_pack_first_fit_decreasing_token_by_token() -> None:
    seqs = [_seq(5, 100), _seq(15, 200), _seq(4, 300), _seq(11, 400)]
    packs = pack(seqs, 20, seed=0)
    assert [p.rows for p in packs] == [[1, 0], [3, 2]]
    first = packs[0]
    assert first.seq_lengths == [15, 5]
    assert first.input_ids == list(range(200, 215)) + list(range(100, 105))
    assert first.position_ids == list(range(15)) + list(range(5))
    assert first.labels == [X] + list(range(201, 215)) + [X] + list(range(101, 105))
    assert packs[1].labels[11] == X and packs[1].position_ids[10:13] == [10, 0, 1]


def test_pack_matches_plain_first_fit_and_ties_follow_the_seed() -> None:
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 64, size=400)
    seqs = [_seq(int(n), 0) for n in lengths]
    packs = pack(seqs, 64, seed=5)
    order = np.random.default_rng(5).permutation(400)
    order = order[np.argsort(-lengths[order], kind="stable")]
    bins: list[list[int]] = []
    room: list[int] = []
    for row in order:  # the textbook O(n * bins) first fit
        n = int(lengths[row])
        b = next((i for i, r in enumerate(room) if r >= n), len(room))
        if b == len(room):
            bins.append([])
            room.append(64)
        bins[b].append(int(row))
        room[b] -= n
    assert [p.rows for p in packs] == bins
    assert all(len(p) <= 64 for p in packs)
    assert sorted(r for p in packs for r in p.rows) == list(range(400))
    ties = [_seq(5, 10 * i) for i in range(4)]
    groupings = {tuple(map(tuple, (p.rows for p in pack(ties, 10, s)))) for s in range(8)}
    assert len(groupings) > 1
    assert [p.rows for p in pack(ties, 10, 1)] == [p.rows for p in pack(ties, 10, 1)]


def test_pack_refuses_a_sequence_longer_than_max_length() -> None:
    with pytest.raises(DataError) as bad:
        pack([_seq(3, 0), _seq(9, 0)], 8, seed=0)
    assert str(bad.value) == ("train.sft.pack: sequence 1 has 9 tokens, more than max_length 8. "
                              "Encode with the same max_length as the packing.")


def test_packed_mask_blocks() -> None:
    import torch

    packed = pack([_seq(3, 0), _seq(2, 10)], 8, seed=0)[0]
    allowed = packed_attention_mask(packed, length=7, as_bool=True)[0, 0].int().tolist()
    assert allowed == [
        [1, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0],
        [0, 0, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 1, 0],  # padding: a causal block of its own, never a fully masked row
        [0, 0, 0, 0, 0, 1, 1],
    ]
    additive = packed_attention_mask(packed, length=7)[0, 0]
    assert additive.dtype == torch.float32
    assert (additive == 0).int().tolist() == allowed
    assert additive[3, 2].item() == torch.finfo(torch.float32).min


def test_collate_padded_and_packed() -> None:
    import torch

    seqs = [_seq(3, 0), _seq(2, 10), _seq(4, 20)]
    batch = collate_padded(padded_data(seqs, pad_id=0), np.array([0, 1]))
    assert batch["input_ids"].tolist() == [[0, 1, 2], [10, 11, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[X, 1, 2], [X, 11, X]]
    packs = pack(seqs, 5, seed=0)
    assert [p.rows for p in packs] == [[2], [0, 1]]
    batch = collate_packed(packs, [0, 1], pad_id=0)
    assert set(batch) == {"input_ids", "labels", "position_ids"}
    assert batch["input_ids"].tolist() == [[20, 21, 22, 23, 0], [0, 1, 2, 10, 11]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 0], [0, 1, 2, 0, 1]]
    assert batch["labels"].tolist() == [[X, 21, 22, 23, X], [X, 1, 2, X, 11]]
    masked = collate_packed(packs, [0, 1], pad_id=0, attention="mask", dtype=torch.bool)
    assert masked["attention_mask"].shape == (2, 1, 5, 5)
    assert masked["attention_mask"][1, 0, 3].tolist() == [False, False, False, True, False]
    with pytest.raises(DataError, match="attention must be 'position_ids' or 'mask', got 'x'"):
        collate_packed(packs, [0], pad_id=0, attention="x")


def test_padding_waste_numbers() -> None:
    seqs = [_seq(5, 0), _seq(15, 0), _seq(4, 0), _seq(11, 0)]
    packs = pack(seqs, 20, seed=0)
    waste = padding_waste(seqs, packs, batch_size=2, max_length=20, seed=0)
    assert (waste.tokens, waste.packs, waste.sequences_per_pack) == (35, 2, 2.0)
    assert waste.padded_to_max == pytest.approx(1 - 35 / 80)
    assert waste.padded_bucketed == pytest.approx(1 - 35 / 40)  # [15, 11] and [5, 4]
    assert waste.packed_to_max == pytest.approx(1 - 35 / 40)
    assert waste.packed_bucketed == pytest.approx(1 - 35 / 40)  # packs of 20 and 15 together
    assert waste.to_dict()["max_length"] == 20


@pytest.fixture(scope="module")
def tiny_llama(tok):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=64)
    return LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_packed_logits_equal_logits_alone(tok, tiny_llama, implementation) -> None:
    import torch

    model = tiny_llama
    model.set_attn_implementation(implementation)
    seqs = [encode_conversation(tok, CONVERSATION, 64),
            encode_conversation(tok, CONVERSATION[1:3], 64),
            encode_conversation(tok, CONVERSATION[3:], 64)]
    packs = pack(seqs, 40, seed=0)
    assert [p.rows for p in packs] == [[0, 2], [1]]
    with torch.inference_mode():
        alone = [model(input_ids=torch.tensor([s.input_ids])).logits[0] for s in seqs]
        ways = {
            "4d mask": collate_packed(packs, [0, 1], pad_id=0, attention="mask"),
            "position_ids": {**collate_packed(packs, [0, 1], pad_id=0), "use_cache": False},
        }
        if implementation == "sdpa":
            ways["bool mask"] = collate_packed(packs, [0, 1], 0, "mask", dtype=torch.bool)
        for way, batch in ways.items():
            inputs = {k: v for k, v in batch.items() if k != "labels"}
            logits = model(**inputs).logits
            for i, p in enumerate(packs):
                at = 0
                for row, n in zip(p.rows, p.seq_lengths):
                    torch.testing.assert_close(logits[i, at:at + n], alone[row], atol=1e-5,
                                               rtol=0, msg=f"{way}: row {row}")
                    at += n
        # the control: the default cache (or a 2D mask) turns the blocks off, and it shows
        leaky = model(input_ids=ways["position_ids"]["input_ids"],
                      position_ids=ways["position_ids"]["position_ids"]).logits
        assert (leaky[0, 26:] - alone[2]).abs().max() > 1e-3


@pytest.mark.slow
def test_smollm2_assistant_mask_decodes_to_the_answers() -> None:
    from transformers import AutoTokenizer

    from thresher.train.backbones import resolve_spec

    try:
        folder = resolve_spec("smollm2").folder  # converted once from the package's GGUF
    except ModelError as exc:
        pytest.skip(f"offline backbone smollm2 unavailable: {exc}")
    tok = AutoTokenizer.from_pretrained(folder)
    answers = ["Paris is the capital of France.", "巴黎是法国的首都 🇫🇷, and Lyon is second.",
               "assistant"]
    messages = [{"role": "user", "content": "What is the capital of France?"},
                {"role": "assistant", "content": answers[0]},
                {"role": "user", "content": "用中文说一遍，再说第二大城市。"},
                {"role": "assistant", "content": answers[1]},
                {"role": "user", "content": "Say the word assistant."},
                {"role": "assistant", "content": answers[2]}]
    e = encode_conversation(tok, messages, 512)
    assert e.input_ids == tok.apply_chat_template(messages)["input_ids"]
    assert e.roles == [m["role"] for m in messages]  # the default system prompt counts as user's
    runs, current = [], []
    for label in [*e.labels, X]:
        if label != X:
            current.append(label)
        elif current:
            runs, current = [*runs, current], []
    assert [tok.decode(run) for run in runs] == [a + "<|im_end|>" for a in answers]
    assert [run[-1] for run in runs] == [tok.convert_tokens_to_ids("<|im_end|>")] * 3
