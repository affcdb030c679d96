"""inspect on chat data (tasks sft, seq2seq), and the loose ends of issues 6/7: SourceInfo's chat
fields, profile/audit sections refused for tasks they cannot read, eda's public surface."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from thresher.augment import eda
from thresher.cli.main import main
from thresher.errors import RecipeError
from thresher.inspect import ChatSummary, RejectLine, inspect
from thresher.io import read_source
from thresher.io.chat_reader import ChatOptions
from thresher.recipe import parse_recipe

ROOT = Path(__file__).resolve().parents[1]


def m(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


GREETING = [m("system", "be brief"), m("user", "hi"), m("assistant", "hello")]
CHATS = [GREETING,
         [m("user", "q1"), m("assistant", "answer one"), m("user", "q2"), m("assistant", "ok")],
         # GREETING's turns under another system prompt: a duplicate (system prompts are
         # shared configuration, left out of the conversation's text)
         [m("system", "answer politely"), m("user", "hi"), m("assistant", "hello")],
         [m("user", "help"), m("assistant", "sure thing"), m("user", "thanks")]]  # trailing turn
BROKEN = ['{"messages": [',
          json.dumps({"messages": [{"role": "user"}, m("assistant", "a")]}),
          json.dumps({"messages": [m("user", "q1"), m("user", "q2")]})]
TRAILING_NOTE = "1 trailing user turn(s) without an answer were dropped from the ends of conversations"


@pytest.fixture
def chats(tmp_path: Path) -> Path:
    path = tmp_path / "chats.jsonl"
    lines = [json.dumps({"messages": c}) for c in CHATS] + BROKEN
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sft_report_counts_turns_roles_answers_duplicates_and_rejects(chats, tmp_path):
    report = inspect(chats, task="sft", cache_dir=tmp_path / "c")
    assert (report.format, report.task, report.rows, report.kept) == ("jsonl", "sft", 7, 4)
    assert report.rejected == {"malformed_line": 1, "bad_message": 1, "no_assistant_answer": 1}
    assert report.labels == {} and report.lengths == {} and report.duplicates == 1
    chat = report.chat
    assert isinstance(chat, ChatSummary) and (chat.format, chat.conversations) == ("openai", 4)
    # turns 3, 4, 3, 2 (the trailing "thanks" is dropped); numpy's p95: 3 + 0.85 * (4 - 3)
    assert chat.turns == {"min": 2, "median": 3.0, "p95": pytest.approx(3.85), "max": 4}
    assert chat.roles == {"system": 2, "user": 5, "assistant": 5}
    # assistant answers: hello 5, answer one 10, ok 2, hi 2, hello 5, sure thing 10
    assert chat.answer_chars == {"min": 2, "median": 5.0, "p95": 10.0, "max": 10}
    assert chat.input_chars == {} and chat.target_chars == {}
    assert chat.rejects == [
        RejectLine(f"{chats}:5", "malformed_line", "invalid JSON: Expecting value at column 15"),
        RejectLine(f"{chats}:6", "bad_message", "messages[0] has no 'content'"),
        RejectLine(f"{chats}:7", "no_assistant_answer",
                   "no assistant turn answers a user turn (roles: user, user)")]
    assert chat.rejects_total == 3 and chat.notes == [TRAILING_NOTE]
    text = report.to_text()
    for line in ("format    jsonl (utf-8), chat format openai",
                 "rows      7 read: 4 usable, 3 rejected",
                 "conversations 4",
                 "turns per conversation    min 2  median 3  p95 3.85  max 4",
                 "assistant answer (chars)  min 2  median 5  p95 10  max 10",
                 "  system                       2   16.7%",
                 "  assistant                    5   41.7%",
                 "duplicates 1 (conversations whose turns repeat an earlier one's exactly)",
                 f"  {chats}:6  bad_message: messages[0] has no 'content'",
                 f"  {TRAILING_NOTE}"):
        assert line + "\n" in text, line
    assert "labels" not in text and "bad lines" not in text  # rejected rows list them


def test_seq2seq_report_gives_input_and_target_lengths(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("question,answer,topic\nWho?,Me,a\nWhat is it?,A thing,b\nWho?,Me,c\nWhy?,,d\n",
                    encoding="utf-8")
    report = inspect(path, task="seq2seq", cache_dir=tmp_path / "c")
    assert (report.rows, report.kept, report.duplicates) == (4, 3, 1)
    chat = report.chat
    assert (chat.format, chat.conversations, chat.turns, chat.roles, chat.answer_chars) == (
        "qa", 3, {}, {}, {})
    # inputs 4, 11, 4 and targets 2, 7, 2 characters; p95 = 4 + 0.9 * 7 and 2 + 0.9 * 5
    assert chat.input_chars == {"min": 4, "median": 4.0, "p95": pytest.approx(10.3), "max": 11}
    assert chat.target_chars == {"min": 2, "median": 2.0, "p95": pytest.approx(6.5), "max": 7}
    assert chat.rejects == [RejectLine(f"{path}:5", "empty_field", "field 'answer' is empty")]
    text = report.to_text()
    assert "pairs 3\n" in text and "input (chars)             min 4  median 4  p95 10.3  max 11\n" in text
    assert "duplicates 1 (pairs whose input and target repeat an earlier one's exactly)\n" in text


def test_chat_log_rejects_name_the_conversation_and_its_lines(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("conversation_id,speaker,text\nc1,customer,hi\nc2,customer,anyone?\n"
                    "c1,agent,hello\nc1,agent,how can I help\nc3,customer,\nc2,customer,hello?\n",
                    encoding="utf-8")
    chat = ChatOptions(roles={"agent": "assistant", "customer": "user"})
    report = inspect(path, task="sft", chat=chat, cache_dir=tmp_path / "c")
    assert report.chat.format == "chatlog" and (report.rows, report.kept) == (3, 1)
    assert report.chat.turns == {"min": 2, "median": 2.0, "p95": 2.0, "max": 2}
    assert report.chat.answer_chars == {"min": 20, "median": 20.0, "p95": 20.0, "max": 20}
    assert report.chat.rejects == [
        RejectLine(f"{path}:c2", "no_assistant_answer",
                   "no assistant turn answers a user turn (roles: user)", (3, 7)),
        RejectLine(f"{path}:6", "empty_text", "column 'text' is empty or null")]
    assert (f"  {path}:c2 (lines 3, 7)  no_assistant_answer: no assistant turn answers a user "
            "turn (roles: user)\n") in report.to_text()
    assert report.chat.notes[0].startswith("2 turn(s) following a turn of the same role were merged")


def test_cli_prints_chat_text_whole_lines_and_json(chats, capsys):
    # a chat --format means task sft; long lines are not wrapped at the terminal width
    assert main(["inspect", "--format", "openai", str(chats)]) == 0
    out = capsys.readouterr().out
    assert f"  {chats}:7  no_assistant_answer: no assistant turn answers a user turn " \
           "(roles: user, user)\n" in out
    assert f"  {TRAILING_NOTE}\n" in out
    assert main(["inspect", "--task", "sft", "--json", str(chats)]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["task"] == "sft" and found["duplicates"] == 1
    assert found["chat"]["turns"] == {"min": 2, "median": 3.0, "p95": pytest.approx(3.85), "max": 4}
    assert found["chat"]["roles"] == {"system": 2, "user": 5, "assistant": 5}
    assert found["chat"]["rejects"][1] == {"source": f"{chats}:6", "reason": "bad_message",
                                           "detail": "messages[0] has no 'content'", "lines": []}


def test_source_info_carries_chat_format_and_notes(chats, tmp_path):
    plain = tmp_path / "p.csv"
    plain.write_text("text,label\ngood,1\nbad,0\n", encoding="utf-8")
    info = read_source(plain, cache_dir=tmp_path / "c").info
    assert (info.chat_format, info.notes) == (None, [])
    assert {"chat_format": None, "notes": []}.items() <= info.to_dict().items()
    chat = read_source(chats, task="sft", cache_dir=tmp_path / "c").info
    assert type(chat) is type(info) and (chat.chat_format, chat.notes) == ("openai", [TRAILING_NOTE])


@pytest.mark.parametrize("task, section", [("sft", "profile"), ("seq2seq", "audit"),
                                           ("ner", "profile"), ("ner", "audit")])
def test_profile_and_audit_are_refused_where_rows_have_no_text_and_label(task, section):
    with pytest.raises(RecipeError) as err:
        parse_recipe({"task": task, "input": {"path": "d.jsonl"}, "split": {}, section: {}})
    hint = f"; `thresher inspect --task {task} FILE` describes this data" if task != "ner" else ""
    assert str(err.value) == (
        f"recipe: {section}: {section} applies to tasks classification and multilabel (rows with "
        f"a text and a label), not {task!r}. remove the {section} section{hint}.")


def test_profile_and_audit_stay_for_classification_and_multilabel():
    for task in ("classification", "multilabel"):
        recipe = parse_recipe({"task": task, "input": {"path": "d.csv"}, "profile": {},
                               "audit": {"folds": 3}})
        assert recipe.profile is not None and recipe.audit.folds == 3


def test_ner_augment_imports_only_public_names_from_eda():
    tree = ast.parse((ROOT / "src/thresher/augment/ner_augment.py").read_text(encoding="utf-8"))
    names = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "thresher.augment.eda" for a in node.names]
    assert sorted(set(names)) == ["EDGE_PUNCTUATION", "chinese_synonyms", "chinese_words",
                                  "english_synonyms", "is_word", "load_english_synonyms",
                                  "plan_operations"]
    assert set(names) <= set(eda.__all__)
    assert all(callable(getattr(eda, n)) for n in names if n != "EDGE_PUNCTUATION")


def test_eda_plan_and_is_word_public_helpers():
    draws = iter([0.9, 0.0, 0.5, 0.2])
    # [rs rs rs rd rd rd] (ceil(5 / 2) = 3 of each), then slot i swaps with i + int(u * (6 - i)):
    # 0 <-> 5, 1 stays, 2 <-> 4, 3 and 4 stay; the first 5 are kept
    plan = eda.plan_operations(("rs", "rd"), 5, lambda: next(draws, 0.0))
    assert plan == ["rd", "rs", "rd", "rd", "rs"]
    assert eda.plan_operations(("sr", "ri", "rs"), 1, lambda: 0.7) == ["rs"]  # int(0.7 * 3)
    assert [eda.is_word(t) for t in ("词", "a1", "，", " ", "_", "—")] == [True, True, False,
                                                                          False, False, False]
