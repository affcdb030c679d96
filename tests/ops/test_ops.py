from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import OPERATORS, DedupExact, FilterLength, Normalize
from thresher.ops.normalize import normalize_text


def table(texts, labels=None):
    labels = labels or ["a"] * len(texts)
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": labels, "source": [f"f:{i + 1}" for i in range(len(texts))]})


def test_normalize_repairs_mojibake_nfkc_controls_and_spaces():
    assert normalize_text("cafÃ©  \u200bbar\x07\n") == "café bar"
    assert normalize_text("ＡＢＣ１２３，好！") == "ABC123,好!"  # full-width folded by NFKC
    assert normalize_text("Hello World", lowercase=True) == "hello world"
    assert normalize_text("  a\tb  ", whitespace=False) == "  a\tb  "


def test_normalize_keeps_row_count_and_ids():
    t = table(["  x  ", "ｙ", ""])
    out, rejects, stats = run_step(Normalize(), t)
    assert list(out.text) == ["x", "y", ""]
    assert list(out.id) == ["r0", "r1", "r2"] and rejects == []
    assert (stats.rows_in, stats.rows_out) == (3, 3)


def test_filter_length_reasons_and_invariant():
    t = table(["a", "abcd", "abcdefghij", "好的呀"])
    out, rejects, stats = run_step(FilterLength(min_chars=2, max_chars=5), t)
    assert list(out.text) == ["abcd", "好的呀"]
    assert stats.rejected == {"too_short": 1, "too_long": 1}
    assert stats.rows_in == stats.rows_out + len(rejects)
    assert {r.source for r in rejects} == {"f:1", "f:3"}
    assert stats.examples["too_long"] == ["abcdefghij"]


def test_dedup_exact_reports_duplicate_of_and_conflicts():
    t = table(["Good hotel", "good  HOTEL", "bad", "bad", "ok"], ["pos", "pos", "pos", "neg", "neg"])
    out, rejects, stats = run_step(DedupExact(), t)
    assert list(out.id) == ["r0", "r4"]
    by_id = {r.id: r for r in rejects}
    assert by_id["r1"].reason == "duplicate" and by_id["r1"].detail == "duplicate_of=r0"
    assert by_id["r2"].reason == by_id["r3"].reason == "label_conflict"
    assert by_id["r2"].detail == "labels=neg,pos"
    assert stats.info["conflict_groups"] == 1 and stats.info["duplicate_groups"] == 2


@pytest.mark.parametrize("policy,kept", [("drop_all", ["r0"]), ("keep_first", ["r0", "r1", "r4"]),
                                         ("majority", ["r0", "r2"])])
def test_dedup_conflict_policies(policy, kept):
    t = table(["u", "x", "x", "x", "y", "y"], ["p", "p", "n", "n", "p", "n"])
    out, rejects, _ = run_step(DedupExact(conflicts=policy), t)
    assert list(out.id) == kept  # majority: 'x' -> n wins 2:1; 'y' ties 1:1 and is dropped
    assert len(out) + len(rejects) == len(t)


def test_every_registered_operator_keeps_the_row_invariant():
    """The shared contract: rows in = rows kept + rows rejected, for every operator."""
    t = table(["a", "", "same", "same", "Ｆｕｌｌ", "混合 text", "x" * 50,
               "这家酒店的服务很好，房间也很干净。", "Mail me at a.b@example.com or +1 650 253 0000",
               "The room was clean and the staff were friendly.", "<b>ok</b> &amp; fine http://x.io",
               "哈哈哈哈哈哈哈哈哈哈哈哈", "這間飯店的服務很好"], list("aabbabaabbaba"))
    check_invariant(t, "classification")


def check_invariant(t, task):
    ran = 0
    for name, cls in OPERATORS.items():
        if task not in cls.tasks:
            continue
        # operators with required settings declare an ``example`` for this test
        out, rejects, stats = run_step(cls(**getattr(cls, "example", {})), t)
        assert stats.rows_in == len(t) == len(out) + len(rejects), name
        assert set(out.id).isdisjoint(r.id for r in rejects), name
        assert set(out.id) | {r.id for r in rejects} == set(t.id), name
        assert all(r.step == name and r.reason for r in rejects), name
        ran += 1
    assert ran, f"no operator for task {task}"


def test_every_sft_and_seq2seq_operator_keeps_the_row_invariant():
    turns = [("Mail me at a.b@example.com or call +1 650 253 0000 today",
              "Done.\nBest regards, Ann"),
             ("hi", ""), ("q", "I'm sorry, but I can't help with that."),
             ("这家酒店怎么样？", "这家酒店的服务很好，房间也很干净。"),
             ("这家酒店怎么样？", "这家酒店的服务很好，房间也很干净。"), ("x", "请稍等。")]
    messages = [[{"role": "user", "content": q}, {"role": "assistant", "content": a}]
                for q, a in turns] + [[{"role": "system", "content": "Be brief."}]]
    ids = [f"r{i}" for i in range(len(messages))]
    check_invariant(pd.DataFrame({"id": ids, "messages": messages, "source": ids}), "sft")
    pairs = pd.DataFrame({"id": ids[:-1], "input": [q for q, _ in turns],
                          "target": [a for _, a in turns], "source": ids[:-1]})
    check_invariant(pairs, "seq2seq")


@pytest.mark.parametrize("policy", ["drop_all", "majority", "keep_first"])
def test_dedup_exact_decision_matches_a_plain_python_reading_of_the_policy(policy):
    """Random groups and labels (ties, single rows, missing labels) against the rules as
    written: keep a group's first row; on conflicting labels drop all, keep the first row of
    the strictly most frequent label, or keep the first row."""
    import random
    from collections import Counter

    rng = random.Random(7)
    texts = [f"text {rng.randrange(60)}" for _ in range(400)]
    labels = [rng.choice(["pos", "neg", "mid", None]) if rng.random() < 0.3 else "pos"
              for _ in texts]
    table = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                          "label": labels})
    out, rejects, stats = run_step(DedupExact(conflicts=policy), table)
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(text, []).append(i)
    expected_kept, expected = [], {}
    for rows in groups.values():
        counts = Counter("<missing>" if labels[i] is None else labels[i] for i in rows)
        keep = rows[0]
        if len(counts) > 1:
            if policy == "drop_all":
                keep = None
            elif policy == "majority":
                (top, n), *rest = counts.most_common()
                tie = any(m == n for _, m in rest)
                keep = None if tie else next(i for i in rows if (labels[i] or "<missing>") == top)
            names = ",".join(sorted(counts))
        for i in rows:
            if i == keep:
                expected_kept.append(i)
            elif len(counts) > 1:  # whatever the policy, a dropped row of such a group says why
                expected[f"r{i}"] = ("label_conflict", f"labels={names}")
            else:
                expected[f"r{i}"] = ("duplicate", f"duplicate_of=r{rows[0]}")
    assert list(out["id"]) == [f"r{i}" for i in sorted(expected_kept)]
    assert {r.id: (r.reason, r.detail) for r in rejects} == expected
