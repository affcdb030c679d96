from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.errors import RecipeError
from thresher.ops import OPERATORS
from thresher.ops.decontaminate import (
    Decontaminate,
    decontamination_report,
    ngram_hashes,
    read_eval_file,
    tokens,
)
from thresher.ops.sft import AnswerLength, Boilerplate, SftLanguage, SftPii, StripSignature
from thresher.ops.sft_dedup import SftDedupExact, SftDedupNear
from thresher.recipe import parse_recipe

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID = "11010119900307451" + "10X98765432"[sum(int(d) * w for d, w in
                                                zip("11010119900307451", WEIGHTS)) % 11]


def chat(*turns: str, system: str | None = None) -> list[dict[str, str]]:
    """Alternating user / assistant turns."""
    messages = [{"role": "system", "content": system}] if system else []
    roles = ("user", "assistant")
    return messages + [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


def table(*conversations: list[dict[str, str]], parquet_like: bool = False) -> pd.DataFrame:
    cells = [np.array(c, dtype=object) if parquet_like else c for c in conversations]
    ids = [f"c{i}" for i in range(len(cells))]
    return pd.DataFrame({"id": ids, "messages": cells, "source": [f"f:{i}" for i in ids]})


def pairs(*rows: tuple[str, str]) -> pd.DataFrame:
    ids = [f"p{i}" for i in range(len(rows))]
    return pd.DataFrame({"id": ids, "input": [a for a, _ in rows],
                         "target": [b for _, b in rows], "source": ids})


def reasons(rejects) -> dict[str, tuple[str, str]]:
    return {r.id: (r.reason, r.detail) for r in rejects}


def recipe_steps(steps, base_dir=None, task="sft"):
    return parse_recipe({"task": task, "input": "chat.jsonl", "steps": steps},
                        base_dir=base_dir).steps


# --- sft_pii ---------------------------------------------------------------------------------

def test_sft_pii_redacts_every_turn_with_the_pii_placeholders():
    t = table(chat("My email is jane.doe@example.com, phone 13812345678",
                   f"Thanks. Your ID {CN_ID} is on file; call +1 650 253 0000.",
                   system="Agent: write to ops@example.org"),
              chat("How much is the room?", "298元一晚。"), parquet_like=True)
    out, rejects, stats = run_step(SftPii(), t)
    assert rejects == [] and list(out.id) == ["c0", "c1"]
    assert [m["content"] for m in out.messages[0]] == [
        "Agent: write to <EMAIL>", "My email is <EMAIL>, phone <PHONE>",
        "Thanks. Your ID <CN_ID> is on file; call <PHONE>."]
    assert [m["role"] for m in out.messages[0]] == ["system", "user", "assistant"]
    assert [m["content"] for m in out.messages[1]] == ["How much is the room?", "298元一晚。"]
    assert stats.info["counts"] == {"cn_id": 1, "email": 2, "phone": 2}


def test_sft_pii_report_mode_counts_only_and_kinds_narrow_it():
    t = table(chat("mail a@b.example.com", "call 13812345678"))
    out, _, stats = run_step(SftPii(mode="report"), t)
    assert out.messages[0][0]["content"] == "mail a@b.example.com"
    assert stats.info["counts"] == {"email": 1, "phone": 1}
    out, _, stats = run_step(SftPii(kinds=["phone"]), t)
    assert [m["content"] for m in out.messages[0]] == ["mail a@b.example.com", "call <PHONE>"]
    assert stats.info["counts"] == {"phone": 1}


def test_sft_pii_on_seq2seq_pairs():
    out, _, stats = run_step(SftPii(), pairs(("Reply to x.y@example.com", f"ID {CN_ID} ok")))
    assert (out.input[0], out.target[0]) == ("Reply to <EMAIL>", "ID <CN_ID> ok")
    assert stats.info["counts"] == {"cn_id": 1, "email": 1}


# --- answer_length ---------------------------------------------------------------------------

def test_answer_length_names_the_turn():
    t = table(chat("q", "A fine answer.", "q2", "   "),  # second answer blank
              chat("q", "ok"),
              chat("q", "Sure, here it is."),
              chat("only a question"),
              chat("q", "Fine.", "q2", "Two words"))
    out, rejects, stats = run_step(AnswerLength(min_chars=3), t)
    assert list(out.id) == ["c2", "c4"]
    assert reasons(rejects) == {"c0": ("empty_answer", "messages[3]: empty"),
                                "c1": ("answer_too_short", "messages[1]: 2 chars < 3"),
                                "c3": ("no_answer", "no assistant turn")}
    out, rejects, _ = run_step(AnswerLength(min_words=3), t.iloc[[2, 4]])
    assert list(out.id) == ["c2"]
    assert reasons(rejects) == {"c4": ("answer_too_short", "messages[1]: 1 words < 3")}


def test_answer_length_counts_chinese_words_and_reads_seq2seq_targets():
    verdict = AnswerLength(min_words=4).keep({"messages": chat("问", "房间很干净")})
    assert verdict == (False, "answer_too_short", "messages[1]: 3 words < 4")  # 房间/很/干净
    out, rejects, _ = run_step(AnswerLength(), pairs(("q", "answer"), ("q", " \n")))
    assert list(out.id) == ["p0"] and reasons(rejects) == {"p1": ("empty_answer", "target: empty")}


# --- boilerplate -----------------------------------------------------------------------------

@pytest.mark.parametrize("answer,reason,detail", [
    ("I'm sorry, but I can't help with that request.", "refusal", "I'm sorry, but I can't"),
    ("Sorry, I cannot share internal documents.", "refusal", "Sorry, I cannot"),
    ("As an AI language model, I do not have opinions.", "ai_disclaimer",
     "As an AI language model"),
    ("Please hold while I check your order.", "hold", "Please hold while I check your order."),
    ("One moment please!", "hold", "One moment please!"),
    ("抱歉，我无法回答这个问题。", "refusal", "抱歉，我无法"),
    ("作为一个AI语言模型，我没有个人观点。", "ai_disclaimer", "作为一个AI语言模型"),
    ("请稍等，我帮您查询一下。", "hold", "请稍等，我帮您查询一下。"),
])
def test_boilerplate_default_patterns(answer, reason, detail):
    assert Boilerplate().keep({"messages": chat("q", answer)}) == (
        False, reason, f"messages[1]: {detail}")


@pytest.mark.parametrize("answer", [
    "Please hold the power button for 5 seconds. The device restarts.",
    "Please hold the power button for 5 seconds.",
    "请稍等，我帮您查询一下。您的订单已发货，预计明天到达。",  # a hold, then the answer
    "As an AI researcher you would read the paper first.",
    "作为AI从业者，你应该先学Python。",
    "I can't believe how fast this is: the answer is 42.",
    "Sorry for the wait! Your refund was issued today.",
])
def test_boilerplate_keeps_real_answers(answer):
    assert Boilerplate().keep({"messages": chat("q", answer)}) is True


def test_boilerplate_only_reads_assistant_turns_and_takes_recipe_patterns():
    t = table(chat("I'm sorry, I can't find my booking", "Here it is: #123."),
              chat("q", "Thank you for contacting ACME support. Your order shipped."),
              chat("q", "I'm sorry, I can't do that."))
    out, rejects, stats = run_step(Boilerplate(patterns=[r"^thank you for contacting \w+"]), t)
    assert list(out.id) == ["c0"]
    assert reasons(rejects) == {
        "c1": ("boilerplate", "messages[1]: Thank you for contacting ACME"),
        "c2": ("refusal", "messages[1]: I'm sorry, I can't")}
    out, rejects, _ = run_step(Boilerplate(use=["hold"], roles=["user", "assistant"]), t)
    assert list(out.id) == ["c0", "c1", "c2"]
    clone = pickle.loads(pickle.dumps(Boilerplate()))
    assert clone.keep({"input": "q", "target": "请稍候"}) == (False, "hold", "target: 请稍候")


# --- strip_signature -------------------------------------------------------------------------

def test_strip_signature_cuts_sign_offs_and_keeps_the_answer():
    t = table(chat("Where is my order?", "It shipped today.\n\nBest regards,\nAnna\nACME Support"),
              chat("退款了吗？", "已为您退款。\n祝您生活愉快！\n客服小美"),
              chat("Best regards to your team!", "Cheers to that!\nThe answer is 42."),
              chat("q", "Kind regards, Anna"))
    out, rejects, stats = run_step(StripSignature(), t)
    assert rejects == [] and stats.info["counts"] == {"signature": 3}
    assert [m[1]["content"] for m in out.messages] == ["It shipped today.", "已为您退款。",
                                                        "Cheers to that!\nThe answer is 42.", ""]
    assert out.messages[2][0]["content"] == "Best regards to your team!"  # a user turn
    kept, rejects, _ = run_step(AnswerLength(), out)  # a signature-only answer is now empty
    assert list(kept.id) == ["c0", "c1", "c2"]
    assert reasons(rejects) == {"c3": ("empty_answer", "messages[1]: empty")}


def test_strip_signature_limits_the_block_and_takes_recipe_patterns():
    long_tail = "Answer.\nBest regards, Anna\nline 1\nline 2\nline 3\nline 4"
    assert StripSignature().strip(long_tail) == long_tail  # 4 lines after: not a signature
    assert StripSignature(max_lines=4).strip(long_tail) == "Answer."
    assert StripSignature().strip("Done.\nYour ACME team") == "Done.\nYour ACME team"
    op = StripSignature(patterns=[r"your \w+ team"])
    assert op.strip("Done.\nYour ACME team") == "Done."
    out, _, _ = run_step(op, pairs(("Sincerely, Bob", "Done.\nSincerely, Bob")))
    assert (out.input[0], out.target[0]) == ("Sincerely, Bob", "Done.")


def test_strip_signature_cuts_dash_sign_off_lines():
    op = StripSignature()
    assert op.strip("Refund sent.\n\n— Sara | ACME Support Team") == "Refund sent."
    assert op.strip("已为您退款。\n\n——松果商城客服小李，竭诚为您服务") == "已为您退款。"
    assert op.strip("Done.\n-- \nBob") == "Done."
    # a dash inside a line, or a single hyphen starting a list item, is not a sign-off
    assert op.strip("Steps:\n- open Settings\n- tap Reset") == "Steps:\n- open Settings\n- tap Reset"
    assert op.strip("It costs $5 — cheap.") == "It costs $5 — cheap."


# --- sft_language ----------------------------------------------------------------------------

def test_sft_language_reads_the_whole_conversation():
    t = table(chat("What time does the pool open?", "The pool opens at seven in the morning."),
              chat("泳池几点开门？", "泳池早上七点开门。"),
              chat("À quelle heure ouvre la piscine ?", "La piscine ouvre à sept heures du matin."))
    out, rejects, _ = run_step(SftLanguage(), t)
    assert list(out.id) == ["c0", "c1"]
    assert rejects[0].id == "c2" and rejects[0].reason == "lang_mismatch"
    assert rejects[0].detail.startswith("fr:")


# --- dedup on conversations ------------------------------------------------------------------

def test_sft_dedup_exact_on_conversations():
    t = table(chat("Hello there", "Hi! How can I help?"),
              chat("hello  THERE", "Hi!   How can I help?"),  # equal up to case and spaces
              chat("Hello there", "Hi! How can I help you?"),
              chat("Hello there", "Hi! How can I help?", "thanks", "bye"), parquet_like=True)
    out, rejects, stats = run_step(SftDedupExact(), t)
    assert list(out.id) == ["c0", "c2", "c3"]
    assert reasons(rejects) == {"c1": ("duplicate", "duplicate_of=c0")}
    assert stats.info["duplicate_groups"] == 1 and stats.info["conflict_groups"] == 0
    out, rejects, _ = run_step(SftDedupExact(), pairs(("a b", "c"), ("A  b", "c"), ("a b", "d")))
    assert list(out.id) == ["p0", "p2"] and reasons(rejects) == {"p1": ("duplicate",
                                                                         "duplicate_of=p0")}


def test_sft_dedup_near_on_conversations():
    question = ("Can you explain how the refund process works for orders that were paid "
                "with a gift card and then partially returned after thirty days")
    answer = ("Refunds for gift card payments go back to the original gift card balance and "
              "partial returns after thirty days are credited as store credit only")
    edited = answer.replace("store credit only", "store credit")
    t = table(chat(question, answer), chat("Totally different question about parking",
                                           "Parking is free for guests staying two nights"),
              chat(question, edited))
    out, rejects, stats = run_step(SftDedupNear(threshold=0.8), t)
    assert list(out.id) == ["c0", "c1"]
    assert reasons(rejects) == {"c2": ("near_duplicate", "duplicate_of=c0")}
    assert list(out.cluster) == ["c0", "c1"] and stats.info["clusters"] == 1


# --- decontaminate ---------------------------------------------------------------------------

EVAL_Q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many "
          "clips in May. How many clips did Natalia sell altogether in April and May?")


def test_tokens_and_ngrams_treat_chinese_characters_as_words():
    assert tokens("Hello, WORLD! 你好，世界 2024") == ["hello", "world", "你", "好", "世", "界",
                                                  "2024"]
    assert len(ngram_hashes(tokens("a b c d"), 3)) == 2
    assert len(ngram_hashes(tokens("a b"), 3)) == 0
    assert (ngram_hashes(["x", "y", "z"], 2) != ngram_hashes(["y", "x", "z"], 2)).all()


def test_shared_ngram_counts_match_a_plain_set_reading():
    """Hashed look-ups against sets of token tuples, on random texts over a small vocabulary
    (so that n-grams repeat within and across texts)."""
    import random

    rng = random.Random(3)
    vocab = ["a", "b", "c", "d", "好", "的", "x1"]
    evals = [" ".join(rng.choice(vocab) for _ in range(rng.randrange(2, 30))) for _ in range(20)]
    rows = [" ".join(rng.choice(vocab) for _ in range(rng.randrange(0, 40))) for _ in range(200)]
    n = 4
    grams = lambda text: {tuple(w[i:i + n]) for w in [tokens(text)] for i in range(len(w) - n + 1)}
    every = set().union(*map(grams, evals))
    report = decontamination_report(pairs(*((r, "") for r in rows)), eval_texts=evals, n=n)
    found = {m.id: (m.shared, m.ngrams) for m in report.matches}
    expected = {f"p{i}": (len(grams(r) & every), len(grams(r))) for i, r in enumerate(rows)
                if grams(r) & every}
    assert found == expected and 20 < len(expected) < 200


def test_decontaminate_rejects_verbatim_ngrams_and_keeps_paraphrases(tmp_path):
    evals = tmp_path / "gsm.csv"
    pd.DataFrame({"id": ["q1", "q2"], "text": [EVAL_Q, "Too short to match"],
                  "label": ["72", "0"]}).to_csv(evals, index=False)
    t = table(chat("Solve this: " + EVAL_Q.replace("?", "? Show your work."), "72"),
              chat("Natalia sold 48 clips to friends during April; in May she sold half that "
                   "number. What is the total for both months?", "72"),
              chat("What is the capital of France?", "Paris."))
    out, rejects, stats = run_step(Decontaminate(eval_files=[str(evals)]), t)
    assert list(out.id) == ["c1", "c2"]
    # EVAL_Q has 31 tokens (19 13-grams, all in c0); c0 has 37 tokens: 25 13-grams
    assert reasons(rejects) == {"c0": (
        "contaminated", 'eval_file=gsm.csv eval_id=q1 ngram="natalia sold clips to 48 of her '
        'friends in april and then she" overlap=19/25')}
    assert stats.info["files"] == [{"file": "gsm.csv", "rows": 2, "too_short": 1, "ngrams": 19,
                                    "contaminated_rows": 1, "eval_rows_matched": 1}]
    assert stats.info["contaminated"] == 1 and stats.info["rows"] == 3


def test_decontaminate_min_overlap_and_chinese_character_ngrams():
    question = "小明有五个苹果，他吃掉了两个，又买了三个，现在小明一共有几个苹果？"
    long_chat = chat("先说点别的：今天天气很好，我们去公园散步，看到很多人在放风筝，也有人在湖边钓鱼。"
                     "然后回答：" + question, "六个。")
    t = table(long_chat, chat("小明有几个苹果？", "不知道。"))
    out, rejects, _ = run_step(Decontaminate(eval_texts=[question]), t)
    assert list(out.id) == ["c1"]
    reason, detail = reasons(rejects)["c0"]
    assert reason == "contaminated" and detail.startswith(
        'eval_file=eval_texts eval_id=0 ngram="小明有五个苹果他吃掉了两个" overlap=17/58')
    # the question has 29 characters without punctuation (17 13-grams), the chat 70 (58)
    out, _, _ = run_step(Decontaminate(eval_texts=[question], min_overlap=0.3), t)
    assert list(out.id) == ["c0", "c1"]  # 17/58 = 0.293 of the row's n-grams: below 0.3
    out, _, _ = run_step(Decontaminate(eval_texts=[question], min_overlap=0.29), t)
    assert list(out.id) == ["c1"]


def test_decontaminate_reads_sft_and_seq2seq_eval_files(tmp_path):
    sft_file = tmp_path / "chats.jsonl"
    sft_file.write_text(json.dumps({"id": "e7", "messages": chat(
        "Which planet has the largest number of known moons in the solar system", "Saturn")})
        + "\n", encoding="utf-8")
    ids, texts = read_eval_file(str(sft_file))
    assert texts == ["Which planet has the largest number of known moons in the solar system"
                     "\nSaturn"] and len(ids) == 1
    t = pairs(("Quiz: which planet has the largest number of known moons in the solar system?",
               "saturn"), ("Which planet is largest?", "Jupiter"))
    report = decontamination_report(t, [str(sft_file)], n=8)
    assert report.contaminated == 1 and report.rows == 2
    assert report.matches[0].id == "p0" and report.matches[0].eval_file == "chats.jsonl"
    assert report.matches[0].ngram == "which planet has the largest number of known"
    # 13 question tokens + "saturn": the eval row's 7 8-grams are all in p0's 8
    assert (report.matches[0].shared, report.matches[0].ngrams) == (7, 8)
    assert report.to_dict(max_matches=0)["note"] == "first 0 of 1 matches shown"


def test_decontaminate_settings_errors_are_recipe_errors(tmp_path):
    with pytest.raises(RecipeError, match=r"^recipe: steps\[1\] decontaminate: nothing to check "
                       r"against: give eval_files \(evaluation sets\) or eval_texts\.$"):
        recipe_steps([{"decontaminate": {}}])
    with pytest.raises(RecipeError, match=r"decontaminate: n must be at least 1, got 0\.$"):
        recipe_steps([{"decontaminate": {"eval_texts": ["x"], "n": 0}}])
    with pytest.raises(RecipeError, match=r"min_overlap must be in \[0, 1\], got 1\.5\.$"):
        recipe_steps([{"decontaminate": {"eval_texts": ["x"], "min_overlap": 1.5}}])
    with pytest.raises(RecipeError, match="decontaminate: eval file not found: "
                       f"{tmp_path / 'missing.csv'}"):
        recipe_steps([{"decontaminate": {"eval_files": "missing.csv"}}], base_dir=tmp_path)
    with pytest.raises(RecipeError, match=r"^decontaminate: nothing to check against"):
        decontamination_report(table(chat("q", "a")))


def test_decontaminate_eval_file_is_relative_to_the_recipe_and_declared(tmp_path):
    (tmp_path / "evals.csv").write_text(f"text,label\n{EVAL_Q},72\n", encoding="utf-8")
    steps = recipe_steps([{"decontaminate": {"eval_files": "evals.csv"}}], base_dir=tmp_path)
    assert steps[0].settings["eval_files"] == str(tmp_path / "evals.csv")
    assert Decontaminate.files == ("eval_files",)


def test_decontaminate_eval_file_list_is_relative_to_the_recipe(tmp_path):
    (tmp_path / "evals.csv").write_text(f"text,label\n{EVAL_Q},72\n", encoding="utf-8")
    steps = recipe_steps([{"decontaminate": {"eval_files": ["evals.csv"]}}], base_dir=tmp_path)
    assert steps[0].settings["eval_files"] == [str(tmp_path / "evals.csv")]


# --- settings errors and registry ------------------------------------------------------------

@pytest.mark.parametrize("step,message", [
    ({"sft_pii": {"kinds": ["ssn"]}}, r"unknown PII kinds \['ssn'\]; known kinds: cn_id, "),
    ({"answer_length": {"min_chars": -1}}, r"min_chars must be >= 0, got -1\.$"),
    ({"boilerplate": {"use": ["greetings"]}}, r"unknown boilerplate group\(s\) \['greetings'\]; "
                                              r"built-in groups: refusal, ai_disclaimer, hold\.$"),
    ({"boilerplate": {"patterns": ["(unclosed"]}},
     r"pattern '\(unclosed' is not a valid regular expression: missing \), unterminated "),
    ({"boilerplate": {"use": [], "patterns": []}}, r"nothing to look for: use is empty and no "
                                                   r"patterns are given\.$"),
    ({"strip_signature": {"max_lines": -2}}, r"max_lines must be >= 0, got -2\.$"),
    ({"sft_language": {"languages": ["xx"]}}, r"unknown language code\(s\) \['xx'\]"),
    ({"sft_dedup_near": {"threshold": 2}}, r"threshold must be in \(0, 1\], got 2\.$"),
    ({"sft_dedup_exact": {"conflicts": "drop_all"}}, r"unknown setting 'conflicts'"),
])
def test_settings_errors_are_recipe_errors(step, message):
    with pytest.raises(RecipeError, match=message):
        recipe_steps([step])


def test_sft_steps_apply_to_sft_and_seq2seq_only():
    names = ("sft_pii", "answer_length", "boilerplate", "strip_signature", "sft_language",
             "sft_dedup_exact", "sft_dedup_near", "decontaminate")
    assert all(OPERATORS[n].tasks == ("sft", "seq2seq") for n in names)
    assert len(recipe_steps([{n: {"eval_texts": ["x"]} if n == "decontaminate" else {}}
                             for n in names], task="seq2seq")) == len(names)
    with pytest.raises(RecipeError, match=r"step 'boilerplate' does not apply to task "
                                          r"'classification'"):
        recipe_steps(["boilerplate"], task="classification")
