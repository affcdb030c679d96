"""The synthetic support chat logs: readable, deterministic, and holding what the info says."""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from thresher.demo_chats import (
    HOLD_MESSAGES,
    REFUSALS,
    SIGNATURE_MARKERS,
    ChatLogInfo,
    make_support_chats,
    make_support_eval,
)
from thresher.errors import RecipeError
from thresher.ops.pii import find_pii

# what the CSV's order numbers and addresses look like (thresher.ops.pii finds addresses only)
ORDER = re.compile(r"(?<![A-Za-z0-9])PM\d{8}(?!\d)")
ADDRESS = re.compile(r"\d+ [A-Z][a-z]+ (?:Avenue|Street|Road|Lane|Court|Drive|Way|Terrace)\b|"
                     r"[市区]\w+?路\d+号\d+栋\d+室")


def _write(tmp_path: Path, language: str, seed: int = 0,
           conversations: int = 400) -> tuple[ChatLogInfo, pd.DataFrame]:
    path = tmp_path / f"chats-{language}-{seed}.csv"
    info = make_support_chats(path, conversations=conversations, seed=seed, language=language)
    return info, pd.read_csv(path)


def _conversations(table: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    texts = table["text"].fillna("")
    return {cid: list(zip(group["speaker"], texts[group.index]))
            for cid, group in table.groupby("conversation_id", sort=False)}


def test_csv_has_the_stated_columns_and_shape(tmp_path: Path) -> None:
    info, table = _write(tmp_path, "en")
    assert list(table.columns) == ["conversation_id", "timestamp", "speaker", "text"]
    assert (info.conversations, info.messages) == (400, len(table))
    assert table["conversation_id"].nunique() == 400
    assert table["speaker"].value_counts().sort_index().to_dict() == info.by_speaker
    assert set(info.by_speaker) == {"agent", "bot", "customer"}
    sizes = table.groupby("conversation_id").size()
    assert sizes.min() == 2 and sizes.max() == 6
    times = pd.to_datetime(table["timestamp"], format="ISO8601")
    assert times.groupby(table["conversation_id"]).apply(
        lambda t: t.is_monotonic_increasing and t.is_unique).all()
    starts = times.groupby(table["conversation_id"], sort=False).first()
    assert starts.is_monotonic_increasing  # conversations in order of their start
    assert info.by_language == {"en": 400} and sum(info.by_topic.values()) == 400
    assert len(info.by_topic) == 5 and min(info.by_topic.values()) >= 50


@pytest.mark.parametrize("language", ["en", "zh", "mixed"])
def test_planted_problems_match_what_the_file_holds(tmp_path: Path, language: str) -> None:
    info, table = _write(tmp_path, language)
    chats = _conversations(table)
    agent = table.loc[table["speaker"] == "agent", "text"]
    holds = {
        "refusals": int(agent.isin(REFUSALS).sum()),
        "hold_messages": int(agent.isin(HOLD_MESSAGES).sum()),
        "signatures": int(agent.fillna("").map(
            lambda t: any(m in t for m in SIGNATURE_MARKERS)).sum()),
        "empty_agent_answers": int(agent.fillna("").str.strip().eq("").sum()),
        "no_agent_answer": sum(all(s != "agent" for s, _ in c) for c in chats.values()),
        "consecutive_same_speaker": sum(any(a[0] == b[0] for a, b in zip(c, c[1:]))
                                        for c in chats.values()),
        "exact_duplicates": sum(n - 1 for n in Counter(map(tuple, chats.values())).values()),
        "near_duplicates": len(info.near_duplicate_of),
    }
    assert holds == info.problems
    assert all(count > 0 for count in info.problems.values()), info.problems
    assert info.problems["exact_duplicates"] == info.problems["near_duplicates"] == 16
    for copy, original in info.duplicate_of.items():
        assert chats[copy] == chats[original] and copy != original
    for copy, original in info.near_duplicate_of.items():
        changed = [(a[1], b[1]) for a, b in zip(chats[copy], chats[original]) if a != b]
        assert len(chats[copy]) == len(chats[original]) and len(changed) == 1
        assert difflib.SequenceMatcher(None, *changed[0]).ratio() > 0.75, changed


@pytest.mark.parametrize("language", ["en", "zh", "mixed"])
def test_planted_personal_data_is_counted(tmp_path: Path, language: str) -> None:
    info, table = _write(tmp_path, language)
    texts = table["text"].fillna("")
    found = Counter(m.kind for text in texts for m in find_pii(text))
    assert dict(found) == {k: v for k, v in info.pii.items()
                           if k in ("email", "phone", "cn_id", "address") and v}
    assert sum(len(ORDER.findall(t)) for t in texts) == info.pii["order_number"]
    assert sum(len(ADDRESS.findall(t)) for t in texts) == info.pii["address"]
    assert min(info.pii["email"], info.pii["phone"], info.pii["address"]) >= 20
    assert (info.pii["cn_id"] > 0) == (language != "en")


def test_chinese_logs_are_chinese(tmp_path: Path) -> None:
    info, table = _write(tmp_path, "zh", conversations=60)
    customer = table.loc[table["speaker"] == "customer", "text"]
    assert customer.str.contains(r"[\u4e00-\u9fff]").mean() > 0.95
    assert info.by_language == {"zh": 60}
    mixed, _ = _write(tmp_path, "mixed", conversations=200)
    assert 70 < mixed.by_language["zh"] < 130 and sum(mixed.by_language.values()) == 200


def test_same_seed_same_file_other_seed_other_file(tmp_path: Path) -> None:
    make_support_chats(tmp_path / "a.csv", conversations=80, seed=5, language="mixed")
    make_support_chats(tmp_path / "b.csv", conversations=80, seed=5, language="mixed")
    make_support_chats(tmp_path / "c.csv", conversations=80, seed=6, language="mixed")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_small_logs_have_no_copies(tmp_path: Path) -> None:
    info, table = _write(tmp_path, "en", conversations=3)
    assert table["conversation_id"].nunique() == 3
    assert info.problems["exact_duplicates"] == info.problems["near_duplicates"] == 0
    assert json.loads(json.dumps(info.to_dict()))["conversations"] == 3


@pytest.mark.parametrize("language", ["en", "zh", "mixed"])
def test_eval_set_overlaps_the_logs_only_where_planted(tmp_path: Path, language: str) -> None:
    info = make_support_eval(tmp_path / "eval.jsonl", language=language)
    items = [json.loads(line) for line in
             (tmp_path / "eval.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(items) == info.n == 50 and info.overlapping == 4 == len(info.overlap_ids)
    assert [[m["role"] for m in item["messages"]] for item in items] == \
        [["system", "user", "assistant"]] * 50
    assert len({item["messages"][1]["content"] for item in items}) == 50
    _, table = _write(tmp_path, language)  # the logs make_support_eval drew from
    texts = table["text"].fillna("")
    customer = set(texts[table["speaker"] == "customer"])
    agent = set(texts[table["speaker"] == "agent"])
    overlapping = [item["id"] for item in items if item["messages"][1]["content"] in customer]
    assert overlapping == info.overlap_ids
    for item in items:
        question, answer = item["messages"][1]["content"], item["messages"][2]["content"]
        assert (answer in agent) == (item["id"] in info.overlap_ids)
        assert item["id"] in info.overlap_ids or not any(question in t for t in texts)
    assert sum(info.by_topic.values()) == 50


def test_eval_set_is_deterministic(tmp_path: Path) -> None:
    first = make_support_eval(tmp_path / "a.jsonl", n=20, seed=3, overlap=2)
    make_support_eval(tmp_path / "b.jsonl", n=20, seed=3, overlap=2)
    other = make_support_eval(tmp_path / "c.jsonl", n=20, seed=4, overlap=2)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    assert first.overlapping == other.overlapping == 2


def test_bad_arguments_are_recipe_errors(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as err:
        make_support_chats(tmp_path / "x.csv", language="fr")
    assert str(err.value) == ("language: language must be one of en, zh, mixed, got 'fr'. Set "
                              "language to en, zh or mixed.")
    with pytest.raises(RecipeError) as err:
        make_support_chats(tmp_path / "x.csv", conversations=0)
    assert str(err.value) == ("conversations: conversations must be a whole number of at "
                              "least 1, got 0. Ask for 1 conversation or more.")
    with pytest.raises(RecipeError) as err:
        make_support_eval(tmp_path / "x.jsonl", n=3, overlap=5)
    assert str(err.value) == ("make_support_eval: n must be at least 1 and overlap between 0 "
                              "and n, got n=3, overlap=5. Set n to a whole number of at least 1 "
                              "and overlap to at most n.")
    assert not (tmp_path / "x.csv").exists()
