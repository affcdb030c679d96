"""LLM-as-judge against a fake OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from thresher.errors import DataError, ModelError, OutputError, RecipeError
from thresher.evaluate.judge import DEFAULT_RUBRIC, judge, judge_prompt, parse_judgement

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared fake server
from fake_endpoint import FakeEndpoint, completion  # noqa: E402


def verdict(body: dict[str, Any]) -> str:
    """Scores 5 when the graded answer equals the reference, else 2."""
    prompt = body["messages"][0]["content"]
    answer = re.search(r"Answer to grade:\n(.*?)\n\nReply", prompt, re.DOTALL).group(1)
    reference = re.search(r"Reference answer \(.*?\):\n(.*?)\n\n", prompt, re.DOTALL)
    if reference and reference.group(1) == answer:
        return json.dumps({"score": 5, "reason": "Matches the reference."})
    return json.dumps({"score": 2, "reason": "Differs from the reference."})


@pytest.fixture()
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint(verdict) as fake:
        yield fake


def _judge(endpoint: FakeEndpoint, tmp_path: Path, prompts: list[Any], answers: list[str],
           references: list[str | None] | None = None, **settings: Any) -> Any:
    defaults: dict[str, Any] = {"base_url": endpoint.url, "model": "judge-model",
                                "api_key_env": "THRESHER_TEST_KEY", "rate_limit": None,
                                "backoff_s": 0.01, "cache_dir": str(tmp_path / "cache")}
    return judge(prompts, answers, references, **{**defaults, **settings})


def test_scores_and_reasons_come_from_the_endpoint(endpoint: FakeEndpoint, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THRESHER_TEST_KEY", "sk-test")
    result = _judge(endpoint, tmp_path, ["Where is my order?", "Can I return it?"],
                    ["It ships today.", "No."], ["It ships today.", "Yes, within 30 days."])
    assert [(i.score, i.reason, i.parsed, i.tries) for i in result.items] == [
        (5, "Matches the reference.", True, 1), (2, "Differs from the reference.", True, 1)]
    assert result.mean_score == 3.5 and result.requests == 2 and result.notes == []
    assert result.score_counts == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    first = endpoint.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer sk-test"
    assert first["body"] == {
        "model": "judge-model", "temperature": 0.0, "max_tokens": 200, "seed": 0,
        "messages": [{"role": "user", "content": judge_prompt(
            "Where is my order?", "It ships today.", "It ships today.")}]}
    sent = first["body"]["messages"][0]["content"]
    assert DEFAULT_RUBRIC in sent and "Question:\nWhere is my order?" in sent
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data and data["scored"] == 2


def test_a_malformed_reply_is_asked_again_once(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    endpoint.script = [(200, completion("I would give this a 4 out of 5."))]
    result = _judge(endpoint, tmp_path, ["Where is my order?"], ["It ships today."],
                    ["It ships today."])
    assert (result.items[0].score, result.items[0].tries, result.requests) == (5, 2, 2)
    retry = endpoint.requests[1]["body"]["messages"][0]["content"]
    assert retry.endswith("Your previous reply could not be used: the reply is not one JSON "
                          "object. Reply again with the JSON object only.")


def test_two_malformed_replies_are_recorded_not_raised(endpoint: FakeEndpoint,
                                                       tmp_path: Path) -> None:
    endpoint.script = [(200, completion('{"score": 7, "reason": "great"}')),
                       (200, completion("Score: 4"))]
    result = _judge(endpoint, tmp_path, ["Q1", "Q2"], ["A1", "A2"])
    bad, good = result.items
    assert (bad.score, bad.parsed, bad.tries, bad.raw) == (None, False, 2, "Score: 4")
    assert bad.error == "the reply is not one JSON object"
    assert "could not be used: \"score\" must be an integer from 1 to 5, got 7." in \
        endpoint.requests[1]["body"]["messages"][0]["content"]
    assert (good.score, good.tries) == (2, 1)
    assert result.mean_score == 2.0 and result.unparsed == 1
    assert result.notes == ["1 of 2 replies did not parse twice; they have no score (see "
                            "items[].raw)"]


def test_parse_judgement_is_strict() -> None:
    assert parse_judgement(' {"score": 3, "reason": " Half right. ", "extra": 1} ') == \
        (3, "Half right.")
    assert parse_judgement('```json\n{"score": 1, "reason": "Wrong."}\n```') == (1, "Wrong.")
    bad = {
        '{"score": 6, "reason": "x"}': '"score" must be an integer from 1 to 5, got 6',
        '{"score": "4", "reason": "x"}': '"score" must be an integer from 1 to 5, got "4"',
        '{"score": 4.0, "reason": "x"}': '"score" must be an integer from 1 to 5, got 4.0',
        '{"score": true, "reason": "x"}': '"score" must be an integer from 1 to 5, got true',
        '{"reason": "x"}': '"score" must be an integer from 1 to 5, got null',
        '{"score": 4, "reason": "  "}': '"reason" must be a non-empty text',
        '[4, "fine"]': "the reply is a JSON list, not an object",
        'Sure! {"score": 4, "reason": "x"}': "the reply is not one JSON object",
        '{"score": 4, "reason": "x"} {"score": 5, "reason": "y"}':
            "the reply is not one JSON object",
    }
    for reply, message in bad.items():
        with pytest.raises(ValueError) as err:
            parse_judgement(reply)
        assert str(err.value) == message, reply


def test_cached_replies_cost_no_request(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    args = (["Q1", "Q2", "Q1"], ["A1", "A2", "A1"])
    first = _judge(endpoint, tmp_path, *args)
    assert first.requests == 2 and len(endpoint.requests) == 2  # the repeat came from the cache
    again = _judge(endpoint, tmp_path, *args)
    assert again.requests == 0 and again.items == first.items
    _judge(endpoint, tmp_path, *args, rubric="5: perfect. 1: useless.")
    assert len(endpoint.requests) == 4
    assert (tmp_path / "cache" / "judge.sqlite").is_file()


def test_an_unwritable_cache_names_the_judge_cache(endpoint: FakeEndpoint,
                                                   tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as err:
        _judge(endpoint, tmp_path, ["Q"], ["A"], cache_dir=str(blocker))
    assert str(err.value) == (f"{blocker}/judge.sqlite: cannot open the judge reply cache "
                              f"([Errno 17] File exists: '{blocker}'). Set cache_dir to a "
                              "writable folder.")
    assert endpoint.requests == []


def test_empty_answers_score_one_without_a_request(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    result = _judge(endpoint, tmp_path, ["Q1", "Q2"], ["  ", "A2"])
    assert (result.items[0].score, result.items[0].reason, result.items[0].tries) == \
        (1, "the answer is empty", 0)
    assert len(endpoint.requests) == 1


def test_chat_prompts_are_rendered_as_role_lines(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    messages = [{"role": "user", "content": "Hi, where is PM12345678?"},
                {"role": "assistant", "content": "Checking."}, {"role": "user", "content": "ok"}]
    _judge(endpoint, tmp_path, [messages], ["It ships today."])
    sent = endpoint.requests[0]["body"]["messages"][0]["content"]
    assert "Question:\nuser: Hi, where is PM12345678?\nassistant: Checking.\nuser: ok\n\n" in sent
    assert "Reference answer" not in sent


def test_endpoint_failures_raise_with_the_judge_settings(endpoint: FakeEndpoint, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THRESHER_TEST_KEY", raising=False)
    endpoint.script = [(401, '{"error": "bad key"}')]
    with pytest.raises(ModelError) as err:
        _judge(endpoint, tmp_path, ["Q"], ["A"])
    assert str(err.value) == (
        f"evaluate.judge.api_key_env: {endpoint.url}/chat/completions refused the API key "
        "(HTTP 401). Set the environment variable THRESHER_TEST_KEY to a valid key (it is not "
        "set now).")
    endpoint.script = [(429, "{}"), (503, "busy"), (503, "busy")]
    with pytest.raises(ModelError) as err:
        _judge(endpoint, tmp_path, ["Q"], ["A"], retries=2)
    assert str(err.value) == (
        f"evaluate.judge.base_url: {endpoint.url}/chat/completions still failed after 2 "
        "retries (last: HTTP 503). Check that the server is up; lower rate_limit or raise "
        "retries and backoff_s if it is overloaded.")
    assert len(endpoint.requests) == 4


def test_rate_limit_spaces_the_requests(endpoint: FakeEndpoint, tmp_path: Path) -> None:
    _judge(endpoint, tmp_path, ["Q1", "Q2", "Q3"], ["A1", "A2", "A3"], rate_limit=10)
    starts = [r["time"] for r in endpoint.requests]
    assert len(starts) == 3 and starts[-1] - starts[0] >= 0.2 - 0.02


def test_bad_settings_and_inputs(tmp_path: Path) -> None:
    cases = [
        (dict(base_url=""), RecipeError, "evaluate.judge.base_url: the judge has no base_url. "
         "Set base_url to an OpenAI-compatible API (it usually ends in /v1)."),
        (dict(rate_limit=0), RecipeError, "evaluate.judge.rate_limit: rate_limit must be above "
         "0 requests per second, got 0. Set it above 0, or to null for none."),
        (dict(rubric=" "), RecipeError, "evaluate.judge.rubric: the rubric is empty. Describe "
         "what each score from 1 to 5 means, or leave it out."),
        (dict(answers=["A"]), DataError, "evaluate.judge: there are 2 prompts, 1 answers and 2 "
         "references. Pass one answer (and one reference, or none at all) per prompt."),
        (dict(answers=["A", None]), DataError, "answers[1]: NoneType where a text was expected. "
         "Replace missing values with ''."),
        (dict(prompts=["Q", 3]), DataError, "prompts[1]: int where a text or a list of messages "
         "({'role': ..., 'content': ...}) was expected. Pass the question as text, or the "
         "chat's messages."),
    ]
    for change, kind, message in cases:
        call: dict[str, Any] = {"prompts": ["Q", "Q2"], "answers": ["A", "B"],
                                "references": ["R", None], "base_url": "http://127.0.0.1:9/v1",
                                "model": "m", "cache_dir": str(tmp_path), **change}
        with pytest.raises(kind) as err:
            judge(call.pop("prompts"), call.pop("answers"), call.pop("references"), **call)
        assert str(err.value) == message
