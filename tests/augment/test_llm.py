"""LLM paraphrase: an OpenAI-compatible server on 127.0.0.1 in a thread, a tiny local chat
model built here, and one end-to-end run of the offline SmolLM2-135M-Instruct (slow)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from thresher.augment.llm import LlmParaphrase, parse_paraphrases
from thresher.errors import ModelError, OutputError, RecipeError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared fake server
from fake_endpoint import FakeEndpoint, completion  # noqa: E402

PROMPT = "{n}|{text}"  # the fake server reads n and the text back from it


def paraphrase_list(body: dict[str, Any]) -> str:
    """n numbered takes of the text, after a preamble, read back from a PROMPT message."""
    n, text = body["messages"][0]["content"].split("|", 1)
    items = "\n".join(f"{k}. {text} (take {k})" for k in range(1, int(n) + 1))
    return f"Here are {n} paraphrases:\n{items}"


@pytest.fixture()
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint(paraphrase_list) as fake:
        yield fake


def _http(endpoint: FakeEndpoint, tmp_path: Path, **settings: Any) -> LlmParaphrase:
    defaults: dict[str, Any] = {"model": "test-model", "base_url": endpoint.url,
                                "prompt": PROMPT, "api_key_env": "THRESHER_TEST_KEY",
                                "requests_per_second": None, "backoff_s": 0.01,
                                "cache_dir": str(tmp_path / "cache")}
    return LlmParaphrase(**{**defaults, **settings})


def test_parse_numbered_lists_and_plain_lines() -> None:
    assert parse_paraphrases("Here are 3 rewrites:\n1. First one.\n2) Second one\n"
                             "3、 Third") == ["First one.", "Second one", "Third"]
    assert parse_paraphrases('**Paraphrase 1:** "A quiet room."\nRewrite 2: “Calm room.”') \
        == ["A quiet room.", "Calm room."]
    assert parse_paraphrases("Sure!\n- A quiet room.\n* Calm room.") == ["A quiet room.",
                                                                          "Calm room."]
    assert parse_paraphrases("（1）房间很干净\n（2）房间干干净净") == ["房间很干净", "房间干干净净"]
    assert parse_paraphrases("1. Good film. 2. Fine movie. 3. Nice picture.") == \
        ["Good film.", "Fine movie.", "Nice picture."]
    assert parse_paraphrases("Costs 3. It is fine.") == ["Costs 3. It is fine."]
    assert parse_paraphrases("Just one line\n\nand another") == ["Just one line", "and another"]
    assert parse_paraphrases("") == []


def test_paraphrases_come_from_the_endpoint(endpoint: FakeEndpoint, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THRESHER_TEST_KEY", "sk-test")
    result = _http(endpoint, tmp_path, temperature=0.5).augment(
        ["good film", "", "bad", "good film"], 2, seed=4)
    assert result.texts == [["good film (take 1)", "good film (take 2)"], [],
                            ["bad (take 1)", "bad (take 2)"],
                            ["good film (take 1)", "good film (take 2)"]]
    assert result.skipped == [None, "empty text", None, None]
    first = endpoint.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer sk-test"
    assert first["body"] == {"model": "test-model", "temperature": 0.5, "max_tokens": 512,
                             "seed": 4, "messages": [{"role": "user", "content": "2|good film"}]}
    assert len(endpoint.requests) == 2  # the repeated text is asked once


def test_retries_on_429_and_500(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(429, b"{}"), (500, b"oops"), (502, b"")]
    result = _http(endpoint, tmp_path).augment(["good film"], 1)
    assert result.texts == [["good film (take 1)"]]
    assert len(endpoint.requests) == 4


def test_gives_up_once_retries_run_out(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(503, b"busy")] * 3
    with pytest.raises(ModelError) as err:
        _http(endpoint, tmp_path, retries=2).augment(["good film"], 1)
    assert str(err.value) == (
        f"augment.llm_paraphrase.base_url: {endpoint.url}/chat/completions still failed after 2 "
        "retries (last: HTTP 503). Check that the server is up; lower requests_per_second or "
        "raise retries and backoff_s if it is overloaded.")
    assert len(endpoint.requests) == 3


def test_a_timeout_is_retried(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(200, completion("1. slow"), 1.0)]
    result = _http(endpoint, tmp_path, timeout_s=0.2).augment(["good film"], 1)
    assert result.texts == [["good film (take 1)"]]
    assert len(endpoint.requests) == 2


def test_rate_limit_spaces_the_requests(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    start = time.monotonic()
    _http(endpoint, tmp_path, requests_per_second=10).augment([f"text {k}" for k in range(5)], 1)
    starts = [r["time"] for r in endpoint.requests]
    assert len(starts) == 5
    assert starts[-1] - starts[0] >= 0.4 - 0.02  # four gaps of 1/10 s
    assert time.monotonic() - start < 5.0


def test_cached_answers_cost_no_request(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    augmenter = _http(endpoint, tmp_path)
    first = augmenter.augment(["good film", "bad"], 2, seed=1)
    assert len(endpoint.requests) == 2
    again = _http(endpoint, tmp_path, requests_per_second=1).augment(["good film", "bad"], 2,
                                                                     seed=1)
    assert again == first and len(endpoint.requests) == 2
    _http(endpoint, tmp_path).augment(["good film"], 2, seed=2)  # another seed: a new answer
    _http(endpoint, tmp_path, temperature=0.1).augment(["good film"], 2, seed=1)
    assert len(endpoint.requests) == 4
    assert (tmp_path / "cache" / "llm_paraphrase.sqlite").is_file()


def test_cache_keys_and_retry_after_of_the_shared_client() -> None:
    from thresher.llm_client import cache_key, retry_after_seconds

    # sha256 of the JSON list of parts: the value keys had before the client was shared, so
    # caches written by older versions still answer
    assert cache_key("http://127.0.0.1:8000/v1", "test-model", "{n}|{text}", "好电影", 2, 0.7,
                     13) == "e5ee4c4b40c9761c90f5060f48cae88d0754c1cfbcaadf0eb3e9bd6016c2159f"
    assert cache_key("a", 1) != cache_key("a", 1.5) != cache_key("a", "1")
    assert [retry_after_seconds(v) for v in ("2.5", "0", "-3", None)] == [2.5, 0.0, 0.0, None]
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None  # dates: usual backoff


def test_an_unwritable_cache_names_the_paraphrase_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as err:
        LlmParaphrase(base_url="http://127.0.0.1:9/v1", cache_dir=str(blocker)).augment(
            ["good film"], 1)
    assert str(err.value) == (f"{blocker}/llm_paraphrase.sqlite: cannot open the paraphrase "
                              f"cache ([Errno 17] File exists: '{blocker}'). Set cache_dir to "
                              "a writable folder.")


def test_401_names_the_key_variable(endpoint: FakeEndpoint, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THRESHER_TEST_KEY", raising=False)
    endpoint.script = [(401, b'{"error": "bad key"}')]
    with pytest.raises(ModelError) as err:
        _http(endpoint, tmp_path).augment(["good film"], 1)
    assert str(err.value) == (
        f"augment.llm_paraphrase.api_key_env: {endpoint.url}/chat/completions refused the API "
        "key (HTTP 401). Set the environment variable THRESHER_TEST_KEY to a valid key (it is "
        "not set now).")
    assert len(endpoint.requests) == 1  # never retried


def test_404_names_base_url_and_model(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(404, b"not found")]
    with pytest.raises(ModelError) as err:
        _http(endpoint, tmp_path).augment(["good film"], 1)
    assert str(err.value) == (
        f"augment.llm_paraphrase.base_url: {endpoint.url}/chat/completions answered HTTP 404: "
        "no such endpoint or model 'test-model'. Check base_url (it usually ends in /v1) and "
        "model.")


def test_malformed_answers_are_clear_errors(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(200, b"<html>proxy error</html>"), (200, b'{"choices": []}')]
    url = f"{endpoint.url}/chat/completions"
    fix = "Check that base_url points to an OpenAI-compatible API (it usually ends in /v1)."
    with pytest.raises(ModelError) as err:
        _http(endpoint, tmp_path).augment(["good film"], 1)
    assert str(err.value) == (f"augment.llm_paraphrase.base_url: the answer of {url} is not "
                              f"JSON (it starts with '<html>proxy error</html>'). {fix}")
    with pytest.raises(ModelError) as err:
        _http(endpoint, tmp_path).augment(["good film"], 1)
    assert str(err.value) == (f"augment.llm_paraphrase.base_url: the answer of {url} has no "
                              f"choices[0].message.content. {fix}")


def test_unreachable_server_fails_after_its_retries(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    augmenter = LlmParaphrase(model="m", base_url=f"http://127.0.0.1:{port}/v1", retries=1,
                              backoff_s=0.01, cache_dir=str(tmp_path))
    with pytest.raises(ModelError, match=r"still failed after 1 retries \(last: no answer \("):
        augmenter.augment(["good film"], 1)


def test_prompt_without_text_is_a_recipe_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as err:
        LlmParaphrase(base_url="http://127.0.0.1:9/v1", prompt="Rewrite {n} times",
                      cache_dir=str(tmp_path)).augment(["good film"], 1)
    assert str(err.value) == ("augment.llm_paraphrase.prompt: the prompt template has no {text}. "
                              "Put {text} where the text goes (and {n} where the number of "
                              "paraphrases goes).")


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("torch")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    words = ("<unk> <pad> <eos> the movie was great hotel room clean staff friendly a very good "
             "nice film bad story long").split()
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>",
                                        pad_token="<pad>", eos_token="<eos>")
    tokenizer.chat_template = ("{% for m in messages %}{{ m['content'] }} {% endfor %}"
                               "{% if add_generation_prompt %}<eos> {% endif %}")
    config = LlamaConfig(vocab_size=len(words), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=256, pad_token_id=1, eos_token_id=2,
                         bos_token_id=2)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("chat")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def test_local_model_batched_deterministic_and_cached(tiny_chat_model: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["the movie was great", "hotel room clean", "bad story"]
    augmenter = LlmParaphrase(model=tiny_chat_model, device="cpu", batch_size=2,
                              cache_dir=str(tmp_path / "a"))
    result = augmenter.augment(texts, 2, seed=3)
    for text, variants in zip(texts, result.texts):
        assert len(variants) == 2 and text not in variants and len(set(variants)) == 2
    fresh = LlmParaphrase(model=tiny_chat_model, device="cpu", batch_size=2,
                          cache_dir=str(tmp_path / "b"))
    assert fresh.augment(texts, 2, seed=3) == result
    assert fresh.augment(texts, 2, seed=4) != result
    calls: list[int] = []
    real = fresh._local_model().model.generate
    monkeypatch.setattr(fresh._local_model().model, "generate",
                        lambda **kw: calls.append(1) or real(**kw))
    assert fresh.augment(texts, 2, seed=3) == result and calls == []  # from the cache


def test_local_model_needs_a_chat_template(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tokenizers import Tokenizer, models
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({"<unk>": 0, "a": 1}, unk_token="<unk>"))
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>").save_pretrained(tmp_path)
    GPT2LMHeadModel(GPT2Config(vocab_size=2, n_embd=8, n_layer=1, n_head=2)).save_pretrained(
        tmp_path)
    with pytest.raises(ModelError) as err:
        LlmParaphrase(model=str(tmp_path), device="cpu", cache_dir=str(tmp_path / "c")).augment(
            ["a"], 1)
    assert str(err.value) == (f"augment.llm_paraphrase.model: model {str(tmp_path)!r} has no "
                              "chat template. Use an instruction-tuned chat model (e.g. smollm2).")


@pytest.mark.slow
def test_smollm2_paraphrases_two_texts_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from thresher.train.backbones import resolve_spec

    try:
        resolve_spec("smollm2")
    except ModelError as exc:
        pytest.skip(str(exc))
    texts = ["The hotel room was clean and the staff were friendly.",
             "This movie was a waste of time."]
    result = LlmParaphrase(model="smollm2", device="cpu", cache_dir=str(tmp_path)).augment(
        texts, 3, seed=13)  # speed is measured in bench/augment_model_speed.py, not here
    for text, variants in zip(texts, result.texts):
        assert len(variants) == 3, result
        assert text not in variants and len({v.casefold() for v in variants}) == 3
        assert all(5 <= len(v) <= 4 * len(text) for v in variants)
