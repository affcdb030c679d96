"""MinHash banding on Ray: the group-by stage gives the pairs and decisions of the driver's.

Texts are real hotel reviews (ChnSentiCorp) and SST-2 sentences with edited copies: a few
characters or a word changed, so the copies share some LSH bands with their originals.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import ray  # installed by `make setup` (the ray extra): the engines must agree in CI

from thresher.engine.base import compact, decide
from thresher.engine.ray import RayEngine, band_pairs
from thresher.ops import Decision, DedupNear
from thresher.ops.minhash import candidate_pairs
from thresher.pipeline import run

from engine_helpers import assert_same_run, make_recipe

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
ZH_SWAPS = "的了很不是好在有"


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def real_texts(per_language: int) -> list[tuple[str, str]]:
    """(label, text): Chinese reviews and English sentences, long enough to have many shingles."""
    with open(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", encoding="utf-8") as f:
        zh = [(r["label"], r["review"]) for r in csv.DictReader(f) if 30 <= len(r["review"]) <= 300]
    lines = (DATA / "eda" / "sst2" / "train_orig.txt").read_text(encoding="utf-8").splitlines()
    en = [tuple(line.split("\t", 1)) for line in lines if len(line.split()) >= 12]
    return zh[:per_language] + en[:per_language]


def edited(text: str, rng: random.Random) -> str:
    """A near-duplicate: two characters (Chinese) or one word (English) changed."""
    if text.isascii():
        words = text.split()
        words[rng.randrange(len(words))] = rng.choice(["very", "quite", "film", "story"])
        return " ".join(words)
    chars = list(text)
    for _ in range(2):
        chars[rng.randrange(len(chars))] = rng.choice(ZH_SWAPS)
    return "".join(chars)


def with_copies(texts: list[tuple[str, str]], seed: int = 7) -> list[tuple[str, str]]:
    """Every third text gets an edited copy at a random later place (often in another piece)."""
    rng = random.Random(seed)
    rows = list(texts)
    for label, text in texts[::3]:
        rows.insert(rng.randrange(len(rows) + 1), (label, edited(text, rng)))
    return rows


def signature_tables(op: DedupNear, rows: list[tuple[str, str]], cuts: list[int]) -> list[pa.Table]:
    """The op's signature columns per piece (pieces end at ``cuts``), as an engine gathers them.

    Signatures do not depend on batching, so they are made once and cut (an empty piece too).
    """
    signature = op.signature_batch({"text": [t for _, t in rows] or ["x"]})
    table = pa.table({k: pa.array(v) for k, v in signature.items()}).slice(0, len(rows))
    table = table.append_column("id", pa.array([f"r{i}" for i in range(len(rows))], pa.string()))
    table = table.append_column("label", pa.array([l for l, _ in rows], pa.string()))
    return [compact(table.slice(start, stop - start))
            for start, stop in zip([0] + cuts, cuts + [len(rows)])]


def test_ray_band_pairs_equal_candidate_pairs(local_ray):
    op = DedupNear()
    rows = with_copies(real_texts(1200))
    cuts = [500, 500, 1300, 2000, 2799]  # uneven pieces, one of them empty
    tables = signature_tables(op, rows, cuts)
    bands = np.concatenate([t.select(op.band_columns()).to_pandas().to_numpy(np.uint64)
                            for t in tables])
    expected = candidate_pairs(bands)
    i, j = band_pairs([t.select(op.band_columns()) for t in tables], 2)
    np.testing.assert_array_equal(i, expected[0])
    np.testing.assert_array_equal(j, expected[1])
    assert len(rows) == 3200 and len(i) >= 700  # the 800 copies (a few share no band)
    pieces = np.searchsorted(cuts, np.stack([i, j]), side="right")
    assert (pieces[0] != pieces[1]).sum() > 100  # pairs across pieces: row offsets count


def test_ray_decision_equals_the_driver_decision(local_ray):
    op = DedupNear(threshold=0.6)
    rows = with_copies(real_texts(400), seed=3)
    cuts = [300, 340, 650]
    local = decide(op, signature_tables(op, rows, cuts))
    on_ray = RayEngine().decide(op, signature_tables(op, rows, cuts))
    assert on_ray == local
    assert len(local.drop) >= 200 and local.info["clusters"] >= 200


def test_empty_and_pairless_signatures(local_ray):
    op = DedupNear()
    assert RayEngine().decide(op, []) == decide(op, []) == Decision()
    empty = signature_tables(op, [], [])
    assert RayEngine().decide(op, empty) == Decision()
    distinct = real_texts(30)
    on_ray = RayEngine().decide(op, signature_tables(op, distinct, [20]))
    assert on_ray == decide(op, signature_tables(op, distinct, [20]))
    assert not on_ray.drop and on_ray.info["clusters"] == 0
    # no shingles: band hash 0 everywhere, which must make no bucket (the sketches are equal,
    # so a pair would be verified and a row dropped)
    blank = [("pos", ""), ("neg", "  "), ("pos", "!!"), ("neg", "...")]
    on_ray = RayEngine().decide(op, signature_tables(op, blank, [2]))
    assert on_ray == decide(op, signature_tables(op, blank, [2]))
    assert not on_ray.drop


def test_ray_and_local_runs_with_dedup_near_are_identical(tmp_path: Path, small_chunks, local_ray):
    rows = with_copies(real_texts(220), seed=11)
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": l}, ensure_ascii=False) + "\n"
                            for l, t in rows), encoding="utf-8")
    recipe = make_recipe(path, steps=[{"normalize": {}}, {"filter_length": {"min_chars": 2}},
                                      {"dedup_near": {}}, {"dedup_exact": {}}])
    run(recipe, tmp_path / "local", num_proc=2)
    result = run(recipe, tmp_path / "ray", engine="ray")
    assert_same_run(tmp_path / "local", tmp_path / "ray")
    near = result.manifest["steps"][3]
    assert near["name"] == "dedup_near" and near["rejected"]["near_duplicate"] >= 100
