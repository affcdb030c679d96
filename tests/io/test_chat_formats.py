"""Chat data (tasks sft and seq2seq): five formats -> one schema, bad input named by line and field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.errors import DataError, RecipeError
from thresher.io import read_source
from thresher.io.chat_reader import CHAT_OPTIONS, ChatOptions
from thresher.pipeline import run
from thresher.recipe import CHAT_INPUT, parse_recipe
from thresher.records import as_messages, conversation_text, core_columns, make_id

ROLES = {"agent": "assistant", "customer": "user"}


def jsonl(rows: list[object]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)


def m(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def _invariant(result) -> None:
    assert result.info.rows == len(result.table) + len(result.rejects)
    assert result.table["id"].is_unique


def reasons(result) -> list[tuple[str, str, str]]:
    return [(r.reason, r.detail, r.source) for r in result.rejects]


def message(exc_info) -> str:
    return exc_info.value.message


# ---- records -----------------------------------------------------------------------------------


def test_records_schema_and_message_helpers():
    assert core_columns("sft") == ["id", "messages", "source"]
    assert core_columns("seq2seq") == ["id", "input", "target", "source"]
    msgs = [m("user", "hi"), m("assistant", "hello")]
    assert as_messages(np.array(msgs, dtype=object)) == msgs
    assert as_messages(json.dumps(msgs)) == msgs
    assert as_messages(None) == [] and as_messages([{**msgs[0], "name": "x"}]) == msgs[:1]
    assert conversation_text(np.array(msgs, dtype=object)) == "hi\nhello"
    assert set(CHAT_OPTIONS) == set(CHAT_INPUT)  # the recipe passes every reader option on


# ---- openai / sharegpt -------------------------------------------------------------------------


def test_openai_jsonl_round_trip_through_parquet(write, cache, tmp_path):
    rows = [{"messages": [m("system", "be brief"), m("user", "hi"), m("assistant", "hello")],
             "meta": {"lang": "en"}},
            {"messages": [m("user", "a"), {"role": "assistant", "content": [
                {"type": "text", "text": "b1"}, {"type": "text", "text": "b2"}]}, m("user", "c")],
             "meta": {"lang": "de"}}]
    path = write("chat.jsonl", jsonl(rows))
    result = read_source(path, task="sft", cache_dir=cache)
    _invariant(result)
    assert result.info.format == "jsonl" and result.info.chat_format == "openai"
    first = [m("system", "be brief"), m("user", "hi"), m("assistant", "hello")]
    second = [m("user", "a"), m("assistant", "b1\nb2")]  # text parts joined, trailing user dropped
    assert result.table["messages"].tolist() == [first, second]
    assert result.table["id"].tolist() == [make_id(first), make_id(second)]
    assert result.table["source"].tolist() == [f"{path}:1", f"{path}:2"]
    assert list(result.table.columns) == ["id", "messages", "source", "meta"]
    assert result.info.notes == ["1 trailing user turn(s) without an answer were dropped from the "
                                 "ends of conversations"]
    result.table.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert isinstance(back["messages"][0], np.ndarray)
    assert [as_messages(v) for v in back["messages"]] == [first, second]
    again = read_source(tmp_path / "t.parquet", task="sft", cache_dir=cache)  # detected: messages
    assert again.table["messages"].tolist() == [first, second]
    assert again.table["input_id"].tolist() == result.table["id"].tolist()


def test_sharegpt_json_roles_system_field_and_mapping(write, cache):
    doc = [{"conversations": [{"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"},
                              {"from": "Human", "value": "q2"}, {"from": "bard", "value": "a2"}],
            "system": "you help", "lang": "en"},
           {"conversations": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}]
    path = write("sg.json", "[\n" + ",\n".join(json.dumps(d) for d in doc) + "\n]\n")
    result = read_source(path, task="sft", chat=ChatOptions(roles={"bard": "assistant"}), cache_dir=cache)
    _invariant(result)
    assert result.info.chat_format == "sharegpt"
    assert result.table["messages"].tolist() == [
        [m("system", "you help"), m("user", "q1"), m("assistant", "a1"), m("user", "q2"),
         m("assistant", "a2")],
        [m("user", "x"), m("assistant", "y")]]
    assert result.table["source"].tolist() == [f"{path}:2", f"{path}:3"]
    assert result.table["lang"].tolist()[0] == "en" and "system" not in result.table


def test_system_prompt_is_put_first_where_missing(write, cache):
    rows = [{"messages": [m("user", "u"), m("assistant", "a")]},
            {"messages": [m("system", "own"), m("user", "u2"), m("assistant", "a2")]}]
    result = read_source(write("s.jsonl", jsonl(rows)), task="sft",
                         chat=ChatOptions(system="SYS"), cache_dir=cache)
    assert result.table["messages"].tolist() == [
        [m("system", "SYS"), m("user", "u"), m("assistant", "a")],
        [m("system", "own"), m("user", "u2"), m("assistant", "a2")]]


def test_broken_lines_are_rejects_naming_line_and_field(write, cache):
    ok = {"messages": [m("user", "q"), m("assistant", "a")]}
    rows = [ok,
            '{"messages": [',
            {"messages": [{"role": "user"}, m("assistant", "a")]},
            {"messages": [{"content": "q"}]},
            {"messages": [m("user", "q"), m("tool", "t")]},
            {"messages": "hi"},
            {"messages": []},
            {"other": 1},
            {"messages": [m("user", "q"), {"role": "assistant", "content": 5}]},
            {"messages": [m("user", "q"), {"role": "assistant", "content": [{"type": "image_url"}]}]},
            {"messages": [m("user", "q"), "a"]},
            {"messages": [m("user", "q1"), m("user", "q2")]},
            {"messages": [m("assistant", "hello"), m("user", "q")]}]
    path = write("bad.jsonl", jsonl(rows))
    result = read_source(path, task="sft", cache_dir=cache)
    _invariant(result)
    assert len(result.table) == 1
    assert reasons(result) == [
        ("malformed_line", "invalid JSON: Expecting value at column 15", f"{path}:2"),
        ("bad_message", "messages[0] has no 'content'", f"{path}:3"),
        ("bad_message", "messages[0] has no 'role'", f"{path}:4"),
        ("role_not_allowed", "messages[1].role is 'tool', not one of system, user, assistant "
                             "(map it with roles=)", f"{path}:5"),
        ("bad_messages", "field 'messages' is a string, not a list of messages", f"{path}:6"),
        ("bad_messages", "field 'messages' is an empty list", f"{path}:7"),
        ("missing_field", "field 'messages' is missing or null", f"{path}:8"),
        ("bad_message", "messages[1].content is a number, not text", f"{path}:9"),
        ("bad_message", "messages[1].content[0] is not a text part ({type: text, text: ...})",
         f"{path}:10"),
        ("bad_message", "messages[1] is a string, not an object", f"{path}:11"),
        ("no_assistant_answer", "no assistant turn answers a user turn (roles: user, user)", f"{path}:12"),
        ("no_assistant_answer", "no assistant turn answers a user turn (roles: assistant, user)",
         f"{path}:13")]
    broken = json.loads(result.rejects[1].record)  # the original fields are kept
    assert broken["messages"] == [{"role": "user"}, m("assistant", "a")] and broken["source"] == f"{path}:3"


# ---- alpaca / qa -------------------------------------------------------------------------------


def test_alpaca_as_sft_and_as_seq2seq(write, cache):
    rows = [{"instruction": "Translate", "input": "bonjour", "output": "hello", "system": "S"},
            {"instruction": "Add 2+2", "input": "", "output": 4},
            {"instruction": "  ", "output": "x"},
            {"instruction": "y", "output": None},
            {"instruction": ["a"], "output": "z"}]
    path = write("al.jsonl", jsonl(rows))
    sft = read_source(path, task="sft", cache_dir=cache)
    _invariant(sft)
    assert sft.info.chat_format == "alpaca"
    assert sft.table["messages"].tolist() == [
        [m("system", "S"), m("user", "Translate\n\nbonjour"), m("assistant", "hello")],
        [m("user", "Add 2+2"), m("assistant", "4")]]
    expected_rejects = [("empty_field", "field 'instruction' is empty", f"{path}:3"),
                        ("missing_field", "field 'output' is missing or null", f"{path}:4"),
                        ("bad_field", "field 'instruction' is a list, not text", f"{path}:5")]
    assert reasons(sft) == expected_rejects
    s2s = read_source(path, task="seq2seq", cache_dir=cache)
    _invariant(s2s)
    assert list(s2s.table.columns[:4]) == ["id", "input", "target", "source"]
    assert s2s.table[["input", "target"]].values.tolist() == [["Translate\n\nbonjour", "hello"],
                                                              ["Add 2+2", "4"]]
    assert s2s.table["id"][0] == make_id("Translate\n\nbonjour", "hello")
    assert s2s.table["system"].tolist()[0] == "S"  # no place for it in seq2seq: kept as metadata
    assert reasons(s2s) == expected_rejects


def test_qa_csv_with_named_and_inferred_columns(write, cache):
    path = write("qa.csv", "question,answer,context,topic\nWho?,Me,,a\nWhat?,It,Some context,b\n"
                           "Why?,,,c\n")
    result = read_source(path, task="seq2seq", cache_dir=cache)
    _invariant(result)
    assert result.info.chat_format == "qa"
    assert result.table[["input", "target", "topic"]].values.tolist() == [
        ["Who?", "Me", "a"], ["Some context\n\nWhat?", "It", "b"]]
    assert reasons(result) == [("empty_field", "field 'answer' is empty", f"{path}:4")]
    roles = {c.name: c.role for c in result.info.columns}
    assert roles == {"question": "question", "answer": "answer", "context": "context", "topic": "extra"}
    named = write("de.csv", "Frage,Antwort\nWer?,Ich\n")
    sft = read_source(named, task="sft", format="qa", chat=ChatOptions(question="Frage", answer="Antwort"),
                      cache_dir=cache)
    assert sft.table["messages"].tolist() == [[m("user", "Wer?"), m("assistant", "Ich")]]
    with pytest.raises(DataError) as err:
        read_source(named, task="sft", format="qa", chat=ChatOptions(question="Frage"), cache_dir=cache)
    assert message(err) == (f"{named}: no answer column found; the columns are 'Frage', 'Antwort'. "
                            "name it 'answer', or pass answer=<column>.")
    with pytest.raises(DataError) as err:
        read_source(named, task="sft", format="qa", chat=ChatOptions(question="Q", answer="Antwort"),
                    cache_dir=cache)
    assert message(err) == (f"{named}: question column 'Q' not found; the columns are 'Frage', "
                            "'Antwort'. pass question= one of 'Frage', 'Antwort'.")


# ---- chat logs ---------------------------------------------------------------------------------

LOG = """conversation_id,speaker,text,timestamp,channel,msg
c1,customer,I need help,2024-01-01 10:00:02,web,1
c2,customer,where is my order,2024-01-01 09:00:00,app,2
c1,agent,hi how can I help,2024-01-01 10:00:05,web,3
c1,customer,hello,2024-01-01 10:00:01,web,4
c2,customer,hello?,2024-01-01 09:00:30,app,5
c1,agent,one moment,2024-01-01 10:00:05,web,6
c1,customer,,2024-01-01 10:00:09,web,7
c3,agent,anyone there?,2024-01-01 11:00:00,web,8
c4,customer,thanks,2024-01-01 12:00:00,web,9
c4,Agent,you are welcome,2024-01-01 12:00:01,web,10
c4,customer,bye,2024-01-01 12:00:02,web,11
"""


def test_chatlog_groups_orders_maps_merges_and_drops(write, cache):
    path = write("log.csv", LOG)
    result = read_source(path, task="sft", chat=ChatOptions(roles=ROLES), cache_dir=cache)
    _invariant(result)
    assert result.info.chat_format == "chatlog" and result.info.rows == 5  # 2 kept, 3 rejected
    # c1 sorted by time (10:00:01 before :02); the two agent turns at :05 keep file order, merged
    assert result.table["messages"].tolist() == [
        [m("user", "hello\nI need help"), m("assistant", "hi how can I help\none moment")],
        [m("user", "thanks"), m("assistant", "you are welcome")]]
    assert result.table["source"].tolist() == [f"{path}:c1", f"{path}:c4"]
    assert list(result.table.columns) == ["id", "messages", "source", "conversation_id", "channel"]
    assert result.table["channel"].tolist() == ["web", "web"]
    assert reasons(result) == [
        ("no_assistant_answer", "no assistant turn answers a user turn (roles: user)", f"{path}:c2"),
        ("empty_text", "column 'text' is empty or null", f"{path}:8"),
        ("no_assistant_answer", "no assistant turn answers a user turn (roles: assistant)", f"{path}:c3")]
    assert result.info.notes == [
        "3 turn(s) following a turn of the same role were merged into it (merge_turns: false keeps "
        "them apart)",
        "columns 'msg' vary within conversations and are not kept",
        "1 trailing user turn(s) without an answer were dropped from the ends of conversations"]
    dropped = json.loads(result.rejects[0].record)
    assert dropped["messages"] == [m("user", "where is my order\nhello?")] and dropped["lines"] == [3, 6]
    apart = read_source(path, task="sft", chat=ChatOptions(roles=ROLES, merge_turns=False), cache_dir=cache)
    assert apart.table["messages"][0] == [m("user", "hello"), m("user", "I need help"),
                                          m("assistant", "hi how can I help"),
                                          m("assistant", "one moment")]


def test_chatlog_numeric_times_sort_as_numbers_and_no_times_keep_file_order(write, cache):
    path = write("log.tsv", "dialog_id\tsender\tmessage\tts\n7\tuser\tsecond\t10\n"
                            "7\tassistant\tanswer\t100\n7\tuser\tfirst\t9\n")
    by_time = read_source(path, task="sft", format="chatlog", cache_dir=cache)
    assert by_time.table["messages"].tolist() == [[m("user", "first\nsecond"), m("assistant", "answer")]]
    assert by_time.table["source"].tolist() == [f"{path}:7"]
    odd = write("odd.csv", "thread,who,words\n1,user,q\n1,assistant,a\n")  # names given: a chat log
    named = read_source(odd, task="sft", text="words",
                        chat=ChatOptions(conversation="thread", speaker="who"), cache_dir=cache)
    assert named.table["messages"].tolist() == [[m("user", "q"), m("assistant", "a")]]
    assert named.table["source"].tolist() == [f"{odd}:1"] and named.info.text_column == "words"
    in_file = write("plain.csv", "conversation,role,content\nk,user,q\nk,assistant,a\n")
    result = read_source(in_file, task="sft", cache_dir=cache)
    assert result.table["messages"].tolist() == [[m("user", "q"), m("assistant", "a")]]
    assert {c.name: c.role for c in result.info.columns} == {
        "conversation": "conversation", "role": "speaker", "content": "text"}


def test_chatlog_bad_timestamp_rejects_the_conversation(write, cache):
    path = write("t.csv", "conversation_id,speaker,text,timestamp\na,user,q,2024-01-01\n"
                          "a,assistant,x,yesterday\nb,user,q,2024-01-02\nb,assistant,y,2024-01-02 08:00\n")
    result = read_source(path, task="sft", cache_dir=cache)
    _invariant(result)
    assert reasons(result) == [("bad_timestamp", "line 3: column 'timestamp' is 'yesterday', "
                                                 "not a date or time", f"{path}:a")]
    assert result.table["source"].tolist() == [f"{path}:b"]


def test_chatlog_unmapped_speaker_is_an_error_naming_it(write, cache):
    path = write("log.csv", LOG)
    with pytest.raises(DataError) as err:
        read_source(path, task="sft", cache_dir=cache)
    assert message(err) == (f"{path}: speakers 'customer' (line 2), 'agent' (line 4) have no role. "
                            "map every speaker to system, user, assistant with roles=, e.g. "
                            "roles: {customer: assistant}.")
    with pytest.raises(DataError) as err:
        read_source(path, task="sft", chat=ChatOptions(roles={"customer": "user"}), cache_dir=cache)
    assert message(err) == (f"{path}: speaker 'agent' (line 4) has no role. map every speaker to "
                            "system, user, assistant with roles=, e.g. roles: {agent: assistant}.")
    with pytest.raises(DataError) as err:
        read_source(path, task="sft", chat=ChatOptions(roles={"agent": "bot"}), cache_dir=cache)
    assert message(err) == ("roles.agent: roles maps 'agent' to 'bot'. map each speaker to one of "
                            "system, user, assistant.")


# ---- whole-file errors and detection -----------------------------------------------------------


def test_detection_by_field_names(write, cache):
    pair = [m("user", "q"), m("assistant", "a")]
    files = {"openai": jsonl([{"messages": pair}]),
             "sharegpt": jsonl([{"conversations": [{"from": "human", "value": "q"},
                                                   {"from": "gpt", "value": "a"}]}]),
             "alpaca": jsonl([{"instruction": "q", "output": "a"}])}
    for fmt, content in files.items():
        result = read_source(write(f"{fmt}.jsonl", content), task="sft", cache_dir=cache)
        assert (result.info.chat_format, result.table["messages"].tolist()) == (fmt, [pair])
    forced = read_source(write("x.jsonl", files["sharegpt"]), format="sharegpt", task=None, cache_dir=cache)
    assert forced.task == "sft" and forced.info.format == "jsonl"


def test_wrong_shape_is_a_data_error(write, cache):
    labelled = write("l.csv", "text,label\nhi,a\n")
    no_output = write("a.jsonl", jsonl([{"instruction": "q", "answer": "a"}]))
    chat = write("c.jsonl", jsonl([{"messages": [m("user", "q"), m("assistant", "a")]}]))
    fix_format = "pass format= the shape the data has: openai, sharegpt, alpaca, qa or chatlog"
    cases = [
        (labelled, dict(task="sft"),
         f"{labelled}: cannot tell the chat format; the fields are 'text', 'label'. {fix_format} "
         "(messages, conversations, instruction/output, question/answer, one row per utterance)."),
        (labelled, dict(task="sft", format="openai"),
         f"{labelled}: no 'messages' field; the fields are 'text', 'label'. {fix_format}, or leave "
         "format out to detect it."),
        (no_output, dict(task="sft"),
         f"{no_output}: no 'output' field; the fields are 'instruction', 'answer'. {fix_format}, or "
         "leave format out to detect it."),
        (chat, dict(task="seq2seq"),
         f"{chat}: format 'openai' holds conversations, not input -> target pairs. use task sft, or "
         "data with one prompt and one answer per row (alpaca, qa)."),
        (labelled, dict(task="classification", format="sharegpt"),
         "format: format 'sharegpt' is chat data, for tasks sft and seq2seq. pass task='sft' (or "
         "'seq2seq' for alpaca and qa data)."),
        (labelled, dict(task="sft", label="label"),
         "label: label= does not apply to task 'sft'. leave label out (the data has no labels)."),
        (labelled, dict(task="classification", chat=ChatOptions()),
         "chat: chat options apply to tasks sft and seq2seq, not 'classification'. pass task='sft' "
         "or 'seq2seq', or leave the chat options out."),
    ]
    for path, kwargs, expected in cases:
        with pytest.raises(DataError) as err:
            read_source(path, cache_dir=cache, **kwargs)
        assert message(err) == expected
    qa = write("qa.csv", "question,answer\nq,a\n")
    with pytest.raises(DataError) as err:
        read_source(qa, task="sft", format="qa", chat=ChatOptions(speaker="who"), cache_dir=cache)
    assert message(err) == ("speaker: speaker= applies to format 'chatlog', not 'qa'. remove speaker, "
                            "or pass format=chatlog if the data is that.")
    with pytest.raises(DataError) as err:
        read_source(qa, task="seq2seq", chat=ChatOptions(system="S"), cache_dir=cache)
    assert message(err) == "system: system applies to task sft. remove system, or write the " \
                           "instruction into each input."


# ---- recipe and pipeline -----------------------------------------------------------------------


def recipe_err(raw) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(raw)
    return info.value.message


def test_recipe_accepts_chat_tasks_and_checks_their_options():
    base = {"task": "sft", "input": {"path": "log.csv", "roles": ROLES, "merge_turns": False}}
    r = parse_recipe({**base, "split": {"validation": 0.2, "test": 0.1}})
    assert r.input.roles == ROLES and r.input.merge_turns is False and r.split.stratify is False
    assert recipe_err({**base, "split": {"stratify": True}}) == (
        "recipe: split.stratify: stratify does not apply to task 'sft' (its rows have no label). "
        "remove stratify (the split is random), or keep related rows together with group_by: <column>.")
    assert recipe_err({"task": "classification", "input": {"path": "x.csv", "speaker": "who"}}) == (
        "recipe: input.speaker: input.speaker does not apply to task 'classification'. remove speaker "
        "(it applies to tasks sft and seq2seq).")
    assert recipe_err({"task": "seq2seq", "input": {"path": "x.csv", "label": "y"}}) == (
        "recipe: input.label: input.label does not apply to task 'seq2seq'. remove label (sft and "
        "seq2seq rows have no label, and their ids are made from the content).")
    assert recipe_err({"task": "sft", "input": {"path": "x.csv", "roles": {"bot": "model"}}}) == (
        "recipe: input.roles.bot: roles maps 'bot' to 'model'. map each speaker to system, user or "
        "assistant.")
    assert recipe_err({"task": "seq2seq", "input": {"path": "x.csv", "system": "S"}}) == (
        "recipe: input.system: input.system applies to task sft. remove system, or write the "
        "instruction into each input.")
    assert recipe_err({"task": "sft", "input": {"path": "x.csv", "text": "a", "text_pair": "b"}}) == (
        "recipe: input.text_pair: text_pair does not apply to task 'sft'. remove text_pair, or use "
        "task: classification or multilabel.")


def _support_log(path: Path) -> Path:
    """60 conversations of 9 customers, rows shuffled; 3 repeat other customers'; 4 unanswered."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(60):
        who = f"u{c % 8}" if c < 57 else "u9"  # the repeats: one customer of their own
        body = c % 57  # conversations 57, 58, 59 repeat 0, 1, 2 word for word
        rows += [(f"c{c}", "customer", f"my parcel {body} has not arrived since day {body * 3}",
                  f"2024-03-{1 + c % 28:02d} 10:00:00", who),
                 (f"c{c}", "agent", f"sorry about parcel {body}; a courier comes on day {body * 3 + 2}",
                  f"2024-03-{1 + c % 28:02d} 10:01:00", who),
                 (f"c{c}", "customer", "thanks", f"2024-03-{1 + c % 28:02d} 10:02:00", who)]
    rows += [(f"x{k}", "customer", f"hello {k}?", "2024-03-01 09:00:00", "u0") for k in range(4)]
    frame = pd.DataFrame(rows, columns=["conversation_id", "speaker", "text", "timestamp", "customer"])
    frame.iloc[rng.permutation(len(frame))].to_csv(path, index=False)
    return path


def test_pipeline_sft_from_a_chat_log(tmp_path):
    src = _support_log(tmp_path / "support.csv")
    raw = {"task": "sft", "input": {"path": str(src), "roles": ROLES},
           "split": {"validation": 0.2, "test": 0.2, "seed": 3, "group_by": "customer"}}
    out = tmp_path / "run"
    result = run(parse_recipe(raw), out)
    m_ = result.manifest
    parts = {k: pd.read_parquet(out / "data" / f"{k}.parquet") for k in ("train", "validation", "test")}
    rejects = pd.read_parquet(out / "rejects.parquet")
    kept = sum(len(p) for p in parts.values())
    assert m_["rows"] == {"read": 64, "kept": 60, "rejected": 4} and kept + len(rejects) == 64
    assert rejects["reason"].tolist() == ["no_assistant_answer"] * 4
    read = m_["steps"][0]
    assert read["info"]["chat_format"] == "chatlog"
    assert read["info"]["notes"] == ["60 trailing user turn(s) without an answer were dropped from "
                                     "the ends of conversations"]
    customers = {k: set(p["customer"]) for k, p in parts.items()}
    assert not (customers["train"] & customers["validation"]) and not (customers["train"] & customers["test"])
    first = parts["train"].iloc[0]
    c = int(first["conversation_id"][1:]) % 57
    assert as_messages(first["messages"]) == [
        m("user", f"my parcel {c} has not arrived since day {c * 3}"),
        m("assistant", f"sorry about parcel {c}; a courier comes on day {c * 3 + 2}")]
    # the leakage check compares conversation_text: c57-c59 repeat c0-c2 word for word
    split_of = {cid: k for k, p in parts.items() for cid in p["conversation_id"]}
    crossing = sum(split_of[f"c{c}"] != split_of[f"c{c - 57}"] for c in (57, 58, 59))
    assert crossing == 3  # seed 3 puts the repeats' customer into test
    assert sum(v["exact"] for v in m_["leakage"]["counts"].values()) == crossing


def test_pipeline_seq2seq_from_alpaca(tmp_path):
    rows = [{"instruction": f"Spell {n}", "input": "in words", "output": w, "source": "web"}
            for n, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                   "nine"])]
    rows.append({"instruction": "Spell ten", "output": ""})
    src = tmp_path / "spell.jsonl"
    src.write_text(jsonl(rows), encoding="utf-8")
    out = tmp_path / "run"
    run(parse_recipe({"task": "seq2seq", "input": {"path": str(src)},
                      "split": {"validation": 0.2, "test": 0.2}}), out)
    parts = [pd.read_parquet(out / "data" / f"{k}.parquet") for k in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [6, 2, 2]
    table = pd.concat(parts)
    assert list(table.columns) == ["id", "input", "target", "source", "input_source"]
    assert sorted(table["target"]) == sorted(r["output"] for r in rows[:10])
    assert set(table["input"]) == {f"Spell {n}\n\nin words" for n in range(10)}
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert rejects[["reason", "detail"]].values.tolist() == [["empty_field", "field 'output' is empty"]]
    assert rejects["source"].tolist() == [f"{src}:11"]
