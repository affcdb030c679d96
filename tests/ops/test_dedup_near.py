from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import OPERATORS, DedupNear
from thresher.ops.minhash import (
    MinHasher,
    _shingle_hashes,
    jaccard,
    optimal_bands,
    prepare,
    shingle_set,
    sketch,
    sketch_similarity,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

EN = "The hotel is in a great location, right next to the subway station, and the room was " \
     "clean and quiet. The staff were friendly and breakfast had plenty of choice."
EN_PUNCT = "the hotel is in a great location right next to the subway station and the room was " \
           "clean and quiet!! The staff were friendly,  and breakfast had PLENTY of choice"
EN_WORD = EN.replace("plenty of choice", "plenty of choices").replace("friendly", "helpful")
EN_OTHER = ["The room was small and noisy, the air conditioning did not work and the front desk "
            "took an hour to answer our call. We will not stay here again.",
            "Great location near the station, but the room was old and the bathroom smelled. "
            "Breakfast was average and the price was too high for what you get."]
ZH = "酒店位置很好，就在地铁站旁边，出行非常方便。房间干净整洁，床也很舒服，服务员态度热情，" \
     "早餐品种丰富，下次来还会选择这里。"
ZH_PUNCT = "酒店位置很好 就在地铁站旁边, 出行非常方便!房间干净整洁,床也很舒服,服务员态度热情," \
           "早餐品种丰富 下次来还会选择这里~~"
ZH_CHAR = ZH.replace("早餐品种丰富", "早餐品种很丰富").replace("舒服", "舒适")
ZH_OTHER = ["房间太小了，隔音效果很差，晚上隔壁说话听得一清二楚，空调也不制冷，"
            "前台处理问题很慢，不推荐入住。",
            "酒店位置不错，离火车站很近，但是房间比较旧，卫生间有异味，早餐很一般，性价比不高。"]


def table(texts, labels=None):
    labels = labels or ["pos"] * len(texts)
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": labels, "source": [f"f:{i + 1}" for i in range(len(texts))]})


def signatures(op: DedupNear, t: pd.DataFrame) -> pd.DataFrame:
    """What an engine hands to ``decide``: signature columns in row order, _row, id, label."""
    keys = pd.DataFrame(op.signature_batch({"text": t["text"].tolist()}))
    return keys.assign(_row=range(len(t)), id=t["id"].to_numpy(), label=t["label"].to_numpy())


def real_texts(n: int) -> list[str]:
    path = DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data holds the real datasets)")
    reviews = pd.read_csv(path)["review"].dropna().astype(str)
    return [t for t in reviews if len(t) >= 20][:n]


def with_copies(texts: list[str], seed: int = 3) -> tuple[list[str], list[int]]:
    """texts + a copy of every third one with 2 characters changed, shuffled; and the truth."""
    rng = random.Random(seed)
    rows = [(t, i) for i, t in enumerate(texts)]
    for i in range(0, len(texts), 3):
        chars = list(texts[i])
        for _ in range(2):
            chars[rng.randrange(len(chars))] = "的"
        rows.append(("".join(chars), i))
    rng.shuffle(rows)
    return [r[0] for r in rows], [r[1] for r in rows]


@pytest.mark.parametrize("texts", [[EN, *EN_OTHER, EN_PUNCT, EN_WORD],
                                   [ZH, *ZH_OTHER, ZH_PUNCT, ZH_CHAR]], ids=["english", "chinese"])
def test_near_duplicates_are_dropped_and_pointed_to_the_first(texts):
    out, rejects, stats = run_step(DedupNear(), table(texts))
    assert list(out.id) == ["r0", "r1", "r2"]
    assert [(r.id, r.reason, r.detail) for r in rejects] == [
        ("r3", "near_duplicate", "duplicate_of=r0"), ("r4", "near_duplicate", "duplicate_of=r0")]
    assert list(out.cluster) == ["r0", "r1", "r2"]
    info = stats.info
    assert (info["clusters"], info["rows_in_clusters"], info["largest"]) == (1, 3, [3])
    assert info["examples"] == [[texts[0], texts[3]], [texts[0], texts[4]]]
    assert info["label_conflict_clusters"] == 0


def test_cluster_column_covers_every_row_and_conflicts_are_counted():
    t = table([ZH, EN, ZH_PUNCT, EN_PUNCT, ZH_OTHER[0]], ["pos", "pos", "neg", "pos", "neg"])
    decision = DedupNear().decide(signatures(DedupNear(), t))
    assert decision.columns == {"cluster": ["r0", "r1", "r0", "r1", "r4"]}
    assert decision.drop == {2: ("near_duplicate", "duplicate_of=r0"),
                             3: ("near_duplicate", "duplicate_of=r1")}
    assert decision.info["label_conflict_clusters"] == 1  # ZH under pos and neg
    settings = decision.info["settings"]
    assert settings["bands"] * settings["rows"] <= settings["num_perm"] == 128
    # verified candidates: bands that favour recall; unverified: datasketch's choice
    assert (settings["bands"], settings["rows"]) == (20, 6) == optimal_bands(0.7, 128, 0.1, 0.9)
    unverified = DedupNear(verify=False).resolved()
    assert (unverified["bands"], unverified["rows"]) == (14, 9) == optimal_bands(0.7, 128)


def test_previews_are_truncated_to_200_characters():
    long = ZH * 5
    info = run_step(DedupNear(), table([long, long + "！"]))[2].info
    assert [len(t) for t in info["examples"][0]] == [200, 200]


def test_texts_without_shingles_are_never_clustered():
    out, rejects, _ = run_step(DedupNear(), table(["", "!!!", "", "  ", "……", EN]))
    assert rejects == [] and len(out) == 6


def test_same_survivors_whatever_the_batch_size():
    texts, _ = with_copies(real_texts(300))
    t = table(texts)
    op = DedupNear(threshold=0.7)
    whole = pd.DataFrame(op.signature_batch({"text": texts}))
    for size in (7, 64, 1000):
        parts = [pd.DataFrame(op.signature_batch({"text": texts[s:s + size]}))
                 for s in range(0, len(texts), size)]
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    fresh = pickle.loads(pickle.dumps(op))  # what a worker process gets
    assert fresh.decide(signatures(fresh, t)).drop == op.decide(signatures(op, t)).drop


def test_finds_the_edited_copies_in_real_reviews():
    texts, truth = with_copies(real_texts(300))
    out, rejects, stats = run_step(DedupNear(), table(texts))
    first = {}
    for row, original in enumerate(truth):
        first.setdefault(original, f"r{row}")
    expected = {f"r{row}": first[o] for row, o in enumerate(truth) if first[o] != f"r{row}"}
    found = {r.id: r.detail.removeprefix("duplicate_of=") for r in rejects}
    assert len(set(found.items()) & set(expected.items())) >= 0.9 * len(expected)
    assert set(found.items()) <= set(expected.items())  # no unrelated review removed


@pytest.mark.parametrize("settings,message", [
    ({"threshold": 0}, "threshold must be in (0, 1], got 0"),
    ({"threshold": 1.5}, "threshold must be in (0, 1], got 1.5"),
    ({"num_perm": 0}, "num_perm must be between 1 and 1024, got 0"),
    ({"bands": 16}, "set both bands and rows, or neither (then they follow the threshold)"),
    ({"bands": 20, "rows": 8}, "bands x rows must be between 1 and num_perm=128, got 20 x 8"),
    ({"ngram": 0}, "ngram must be at least 1, got 0"),
])
def test_check_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError) as err:
        DedupNear(**settings).check()
    assert str(err.value) == message


def test_a_recipe_with_impossible_bands_names_the_step():
    from thresher.errors import RecipeError
    from thresher.recipe import parse_recipe

    raw = {"task": "classification", "input": {"path": "data.csv"},
           "steps": [{"dedup_near": {"threshold": 0.8, "bands": 20, "rows": 8}}]}
    with pytest.raises(RecipeError) as err:
        parse_recipe(raw)
    assert err.value.message == ("recipe: steps[1] dedup_near: bands x rows must be between 1 "
                                 "and num_perm=128, got 20 x 8.")


def test_registered_and_settings_are_stored_unchanged():
    op = OPERATORS["dedup_near"](threshold=0.7, bands=10, rows=12)
    op.check()
    assert op.settings() == {"threshold": 0.7, "num_perm": 128, "bands": 10, "rows": 12,
                             "tokens": "auto", "ngram": None, "seed": 1, "verify": True}
    assert op.resolved()["bands"] == 10


def test_shingles_are_normalised_and_auto_picks_characters_for_chinese():
    assert prepare("Ｈｅｌｌｏ, WORLD!\tsnake_case", "auto") == ("word", "hello world snake case")
    assert prepare("房间很干净， nice！", "auto") == ("char", "房间很干净nice")
    assert prepare("房间很干净 room", "word") == ("word", "房 间 很 干 净 room")
    assert prepare("Good room", "char") == ("char", "goodroom")
    assert prepare("½ Straße", "auto") == ("word", "1 2 strasse")  # NFKC, casefold
    assert shingle_set("Good  room, GOOD staff!", "word", 2) == {"good room", "room good",
                                                                 "good staff"}
    assert shingle_set("房间，很干净！", "char", 3) == {"房间很", "间很干", "很干净"}
    assert shingle_set("短", "char", 5) == {"短"} and shingle_set("...", "auto") == set()


@pytest.mark.parametrize("tokens", ["char", "word", "auto"])
def test_vectorised_hashes_match_the_shingle_sets(tokens):
    texts = [EN, ZH, EN_OTHER[0], "short", "", "ab", ZH_OTHER[1], "好", "a b", "混合 text 文本"]
    for n in (1, 2, 3, 5):
        prepared = [prepare(t, tokens) for t in texts]
        for mode in ("char", "word"):
            rows = [i for i, (m, _) in enumerate(prepared) if m == mode]
            if not rows:
                continue
            hashes, per_doc = _shingle_hashes([prepared[i][1] for i in rows], mode, n)
            parts = np.split(hashes, np.cumsum(per_doc)[:-1])
            assert [len(set(p.tolist())) for p in parts] == [
                len(shingle_set(texts[i], tokens, n)) for i in rows]
    # a shingle hashes the same in any document and any batch
    alone, _ = _shingle_hashes(["good room"], "word", 2)
    inside, _ = _shingle_hashes(["x y", "very good room"], "word", 2)
    assert alone[0] == inside[-1]


def test_signature_and_sketch_estimate_jaccard():
    texts = real_texts(60)
    hasher = MinHasher(256, seed=5)
    sig, has = hasher.signatures(texts, "char", 3)
    assert has.all()
    errors_full, errors_sketch = [], []
    sk = sketch(sig)
    for a in range(0, 60, 2):
        pair = [texts[a], texts[a][: len(texts[a]) * 3 // 4] + texts[a + 1][:10]]
        s, _ = hasher.signatures(pair, "char", 3)
        true = jaccard(shingle_set(pair[0], "char", 3), shingle_set(pair[1], "char", 3))
        errors_full.append(abs((s[0] == s[1]).mean() - true))
        k = sketch(s)
        errors_sketch.append(abs(sketch_similarity(k[:1], k[1:], 256)[0] - true))
    assert np.mean(errors_full) < 0.03 and np.mean(errors_sketch) < 0.04
    assert sketch_similarity(sk[:1], sk[:1], 256)[0] == 1.0
    unrelated = sketch_similarity(sk[:30], sk[30:], 256)
    assert unrelated.mean() < 0.05


def test_optimal_bands_match_datasketch():
    lsh = pytest.importorskip("datasketch.lsh")
    for threshold in (0.5, 0.7, 0.85):
        for num_perm in (64, 128):
            assert optimal_bands(threshold, num_perm) == lsh._optimal_param(threshold, num_perm,
                                                                            0.5, 0.5)


def test_at_least_as_good_as_datasketch_on_real_reviews():
    datasketch = pytest.importorskip("datasketch")
    texts, truth = with_copies(real_texts(240), seed=11)
    op = DedupNear(threshold=0.7)
    ours = set(op.decide(signatures(op, table(texts))).drop)
    lsh = datasketch.MinHashLSH(threshold=0.7, num_perm=128)
    hashes = datasketch.MinHash.bulk([[s.encode() for s in shingle_set(t)] for t in texts],
                                     num_perm=128)
    theirs = set()
    for k, m in enumerate(hashes):
        if lsh.query(m):  # only earlier rows are in the index yet: k is a duplicate
            theirs.add(k)
        lsh.insert(k, m)
    duplicates = {k for k, o in enumerate(truth) if o in truth[:k]}

    def f1(found: set[int]) -> float:
        hit = len(found & duplicates)
        return 2 * hit / (len(found) + len(duplicates))

    assert f1(ours) >= f1(theirs) and f1(ours) > 0.9
