"""thresher.quality.profile on small data with known answers: label balance and lengths, exact
and near duplicates, [UNK] share of MiniLM on Chinese (checked against its vocabulary), planted
giveaway words and label names, a planted shift (and a matching split not flagged), PII, a run
folder written by thresher.run, the HTML page, and the messages for unusable input."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.errors import DataError, InputError, ModelError
from thresher.ops.minhash import jaccard, shingle_set
from thresher.quality.profile import profile

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FILLER = ("the room staff hotel breakfast view quiet bed shower window door lift pool bar "
          "garden street price night morning coffee").split()
CHINESE = ["今天天气很好我们去公园散步", "这家酒店的服务非常周到", "房间干净整洁价格合理",
           "交通方便离地铁站很近", "早餐种类丰富味道不错", "前台工作人员态度热情",
           "周围环境安静适合休息", "下次出差还会选择这里"]


def write_csv(path: Path, rows: list[tuple[str, ...]], columns: tuple[str, ...] = ("text", "label")
              ) -> Path:
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def write_run(folder: Path, splits: dict[str, list[tuple[str, str]]], train: dict | None = None
              ) -> Path:
    """A run folder as the pipeline leaves it: manifest.json and data/<split>.parquet."""
    (folder / "data").mkdir(parents=True)
    recipe = {"input": {"path": "d.csv"}, **({"train": train} if train else {})}
    (folder / "manifest.json").write_text(json.dumps({"recipe": recipe}), encoding="utf-8")
    for split, rows in splits.items():
        frame = pd.DataFrame(rows, columns=["text", "label"])
        frame.insert(0, "id", [f"{split}{i}" for i in range(len(frame))])
        frame.to_parquet(folder / "data" / f"{split}.parquet", index=False)
    return folder


def sentence(rng: random.Random, words: int = 8) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(words)) + f" number{rng.randrange(10**9)}"


def test_labels_shares_imbalance_and_character_lengths(tmp_path: Path) -> None:
    rng = random.Random(1)
    rows = [(sentence(rng, 3 + i % 7), "pos") for i in range(22)] + [
        (sentence(rng, 12), "neg"), (sentence(rng, 20), "neg")]
    p = profile(write_csv(tmp_path / "d.csv", rows), near_dup=False)
    split = p.splits["all"]
    assert p.rows == 24 and list(p.splits) == ["all"] and p.kind == "data"
    assert split["labels"]["counts"] == {"pos": 22, "neg": 2}
    assert split["labels"]["shares"] == {"pos": round(22 / 24, 4), "neg": round(2 / 24, 4)}
    assert split["labels"]["imbalance"] == {"ratio": 11.0, "largest": "pos", "smallest": "neg",
                                            "why": None}
    lengths = np.array([len(t) for t, _ in rows])
    chars = split["chars"]
    assert chars["mean"] == round(lengths.mean(), 2) and chars["median"] == np.median(lengths)
    assert chars["p95"] == np.percentile(lengths, 95) and chars["max"] == lengths.max()
    assert sum(chars["histogram"]["counts"]) == 24
    neg = p.labels["lengths"]["neg"]["chars"]
    assert neg["n"] == 2 and neg["median"] == np.median(lengths[-2:])
    assert ("the labels are imbalanced in the data: 'pos' has 11.0 times the rows of 'neg'; set "
            "train.imbalance: class_weights (or resample) in the recipe, or collect more 'neg' "
            "rows") in p.warnings
    assert p.tokenizer == {"spec": None, "why": "no tokenizer given: pass one (e.g. minilm, "
                           "gemma3-270m) to count tokens, [UNK] and truncation"}


def test_exact_duplicates_up_to_case_width_and_spaces_and_label_conflicts(tmp_path: Path) -> None:
    xss = "<script>alert(1)</script> Hello  World"
    rows = [(xss, "pos"), ("<SCRIPT>alert(1)</SCRIPT> hello world", "pos"),
            ("<ｓｃｒｉｐｔ>alert(1)</script> HELLO world", "neg"),
            ("a completely different sentence about rooms", "neg"),
            ("yet another unrelated line of text here", "pos")]
    p = profile(write_csv(tmp_path / "d.csv", rows), out_dir=tmp_path / "out")
    dup = p.duplicates
    assert dup["within"]["all"] == {"rows": 5, "duplicate_rows": 2, "rate": 0.4}
    assert dup["conflicting_labels"]["texts"] == 1 and dup["conflicting_labels"]["rows"] == 3
    assert dup["conflicting_labels"]["examples"] == [{"text": xss, "labels": {"pos": 2, "neg": 1}}]
    assert dup["near"]["rows"] == 0  # exact copies are not counted again as near ones
    assert ("2 rows of the data (40%) repeat another row's text exactly; add dedup_exact to the "
            "recipe's steps") in p.warnings
    assert ("1 text appears under more than one label (3 rows): fix their labels, or drop them "
            "(dedup_exact with conflicts: drop_all)") in p.warnings
    html = (tmp_path / "out" / "profile.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hello  World" in html
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html


def test_near_duplicates_are_confirmed_by_exact_jaccard(tmp_path: Path) -> None:
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(400)]
    bases = [" ".join(rng.sample(vocab, 20)) for _ in range(12)]
    copies = [b.rsplit(" ", 1)[0] + " changed" for b in bases[:3]]  # 18 of 20 bigrams shared
    rows = [(t, "a") for t in bases + copies]
    p = profile(write_csv(tmp_path / "d.csv", rows))
    near = p.duplicates["near"]
    assert near["rows"] == 3 and near["within"]["all"] == {"rows": 3, "rate": 0.2}
    assert near["confirmed_pairs"] == 3 and near["threshold"] == 0.8
    for example in near["examples"]:
        expected = jaccard(shingle_set(example["text_a"]), shingle_set(example["text_b"]))
        assert example["similarity"] == round(expected, 4) == round(18 / 20, 4)
    off = profile(write_csv(tmp_path / "d.csv", rows), near_dup=False)
    assert off.duplicates["near"] is None
    assert off.duplicates["near_why"] == "near-duplicate search was turned off"


@pytest.mark.slow
def test_unk_share_of_minilm_on_chinese_matches_its_vocabulary(tmp_path: Path) -> None:
    from thresher.train.backbones import resolve_spec

    vocab = set((Path(resolve_spec("minilm").folder) / "vocab.txt").read_text(
        encoding="utf-8").split("\n"))
    rows = [(text, "zh") for text in CHINESE]
    p = profile(write_csv(tmp_path / "d.csv", rows), tokenizer="minilm", max_length=15,
                near_dup=False)
    # BERT's tokenizer makes each CJK character a token: [UNK] when the vocabulary lacks it
    chars = "".join(CHINESE)
    expected = sum(c not in vocab for c in chars) / len(chars)
    tok = p.tokenizer
    assert tok["backbone"] == "minilm" and tok["vocab_size"] == 30522 and tok["unk_token"] == "[UNK]"
    assert tok["unk_share"] == round(expected, 4) and 0.3 < expected < 0.9
    assert tok["rows_with_unk_share"] == np.mean([any(c not in vocab for c in t) for t in CHINESE])
    lengths = np.array([len(t) + 2 for t in CHINESE])  # + [CLS] and [SEP]
    assert tok["lengths"]["median"] == np.median(lengths) and tok["lengths"]["max"] == lengths.max()
    assert tok["truncated_share"] == round(float((lengths > 15).mean()), 4)
    assert (f"the tokenizer of minilm turns {100 * expected:.0f}% of tokens into [UNK]: it does not "
            "cover this text's language; choose a backbone that does, e.g. gemma3-270m for "
            "Chinese") in p.warnings
    english = profile(write_csv(tmp_path / "e.csv", [("the room was clean and quiet", "en")] * 3),
                      tokenizer="minilm", near_dup=False)
    assert english.tokenizer["unk_share"] == 0.0 and not any("[UNK]" in w for w in english.warnings)


def _monroe_z(in_label: int, in_rest: int, word_total: int, n_label: int, n_rest: int,
              n_total: int) -> float:
    """Monroe et al. (2008) eq. 16-22, prior a_w = 0.1 * y_w (so a_0 = 0.1 * n)."""
    a_w, a_0 = 0.1 * word_total, 0.1 * n_total
    delta = (math.log((in_label + a_w) / (n_label + a_0 - in_label - a_w))
             - math.log((in_rest + a_w) / (n_rest + a_0 - in_rest - a_w)))
    return delta / math.sqrt(1 / (in_label + a_w) + 1 / (in_rest + a_w))


def test_a_planted_giveaway_word_and_label_name_are_flagged(tmp_path: Path) -> None:
    rng = random.Random(2)
    rows = []
    for i in range(120):
        label = "positive" if i % 2 else "negative"
        words = rng.sample(FILLER, 6)
        if label == "positive" and (i // 2) % 5 < 2:  # 24 of the 60 positive rows
            words.append("zzqx")
        if label == "positive" and i < 18:  # 9 rows name their label; "positively" is no hit
            words.append("Positive!")
        elif label == "negative" and i < 30:
            words.append("positively")
        rows.append((" ".join(words), label))
    p = profile(write_csv(tmp_path / "d.csv", rows), near_dup=False)
    top = p.words["giveaways"]["positive"][0]
    assert (top["word"], top["rows"], top["rows_all_labels"]) == ("zzqx", 24, 24)
    assert top["share_in_label"] == 1.0 and top["coverage"] == 0.4
    df = {lab: {} for lab in ("positive", "negative")}
    for text, lab in rows:
        for w in set(text.casefold().replace("!", "").split()):
            df[lab][w] = df[lab].get(w, 0) + 1
    n_pos, n_neg = sum(df["positive"].values()), sum(df["negative"].values())
    assert top["z"] == round(_monroe_z(24, 0, 24, n_pos, n_neg, n_pos + n_neg), 2)
    mention = p.words["label_mentions"]["labels"]["positive"]
    assert mention == {"rows": 9, "share": 0.15, "share_other_labels": 0.0}
    assert ("15% of 'positive' rows contain the word 'positive' (other rows: 0.0%): the text may "
            "give its label away") in p.warnings
    assert any(w.startswith("giveaway words: 'zzqx' is in 40% of 'positive' rows and 100% of its "
                            "rows are 'positive'") for w in p.warnings)
    assert not any("'the'" in w for w in p.warnings)  # stop words never count
    digits = profile(write_csv(tmp_path / "n.csv", [(t, "1" if l == "positive" else "0")
                                                    for t, l in rows]), near_dup=False)
    assert digits.words["label_mentions"]["labels"] == {}
    assert digits.words["label_mentions"]["skipped"] == 2


def test_a_planted_shift_is_flagged_and_a_matching_split_is_not(tmp_path: Path) -> None:
    from statsmodels.stats.contingency_tables import Table

    rng = random.Random(4)
    train = [(sentence(rng, 4 + i % 10), "pos" if i % 2 else "neg") for i in range(100)]
    validation = [(sentence(rng, 4 + i % 10), "pos" if i % 2 else "neg") for i in range(20)]
    test = [(sentence(rng, 30 + i % 10) + " omega sigma", "pos" if i % 10 else "neg")
            for i in range(40)]  # 36 pos, 4 neg; much longer
    p = profile(write_run(tmp_path / "run", {"train": train, "validation": validation,
                                             "test": test}), near_dup=False)
    assert list(p.splits) == ["train", "validation", "test"] and p.kind == "run"
    shifted = p.shift["pairs"]["train/test"]
    reference = Table(np.array([[50, 50], [36, 4]])).test_nominal_association()
    assert shifted["labels"]["chi2"] == round(reference.statistic, 4)
    assert shifted["labels"]["p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
    assert shifted["labels"]["cramers_v"] == round(math.sqrt(reference.statistic / 140), 4)
    a = np.array([len(t) for t, _ in train])
    b = np.array([len(t) for t, _ in test])
    grid = np.union1d(a, b)
    d = np.abs(np.searchsorted(np.sort(a), grid, "right") / len(a)
               - np.searchsorted(np.sort(b), grid, "right") / len(b)).max()
    assert shifted["lengths"]["ks_statistic"] == round(d, 4) == 1.0
    assert shifted["labels"]["shift"] and shifted["lengths"]["shift"] and shifted["shift"]
    matching = p.shift["pairs"]["train/validation"]
    assert matching["labels"]["chi2"] == 0.0 and matching["labels"]["p_value"] == 1.0
    assert not matching["lengths"]["shift"] and not matching["shift"]
    known = {w for t, _ in train for w in t.split()}

    def coverage(rows: list[tuple[str, str]]) -> float:
        tokens = [w for t, _ in rows for w in t.split()]
        return round(sum(w in known for w in tokens) / len(tokens), 4)

    assert matching["vocabulary"]["token_coverage"] == coverage(validation)
    assert shifted["vocabulary"]["token_coverage"] == coverage(test)
    test_vocab = {w for t, _ in test for w in t.split()}
    assert shifted["vocabulary"]["vocabulary_jaccard"] == round(
        len(known & test_vocab) / len(known | test_vocab), 4)
    assert any(w.startswith("test differs from train in label distribution (chi-square p = ")
               for w in p.warnings)
    assert not any(w.startswith("validation differs") for w in p.warnings)


def test_personal_data_and_languages_are_counted(tmp_path: Path) -> None:
    rows = [("Please write to zhang.san@example.cn about the booking", "a"),
            ("请拨打13812345678联系前台预订房间", "b")]
    rows += [(f"The hotel room number {i} was clean, quiet and close to the station", "a")
             for i in range(4)]
    rows += [(f"{text}第{i}次" , "b") for i, text in enumerate(CHINESE[:4])]
    p = profile(write_csv(tmp_path / "d.csv", rows), near_dup=False)
    assert p.pii == {"counts": {"email": 1, "phone": 1}, "rows": 2, "share": 0.2}
    assert ("personal data in 2 rows (email 1, phone 1): add the pii step (mode: redact) to the "
            "recipe's steps") in p.warnings
    assert p.languages["shares"] == {"en": 0.5, "zh": 0.5}
    assert p.languages["sampled"] is False and p.languages["note"] is None
    assert p.vocabulary["chinese_rows"] == 5 and p.vocabulary["sampled"] is False


def test_a_file_without_labels_is_profiled_without_per_label_parts(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"review": t}) + "\n" for t in
                            ["one text here", "two texts here", "one text here", "  "]),
                    encoding="utf-8")
    p = profile(path, near_dup=False, out_dir=tmp_path / "out")
    assert p.label_column is None and p.labels is None and p.words is None
    assert p.text_column == "review"
    assert set(p.files) == {"json", "html", "profile_char_lengths"}  # no labels, one split
    assert p.rows == 3  # the blank row is not usable text
    assert p.splits["all"]["labels"] is None and p.duplicates["conflicting_labels"] is None
    assert p.duplicates["within"]["all"]["duplicate_rows"] == 1
    assert ("no label column: per-label statistics, top and giveaway words, label conflicts and "
            "label shift are left out") in p.notes


def test_one_class_has_no_imbalance_ratio(tmp_path: Path) -> None:
    rng = random.Random(3)
    p = profile(write_csv(tmp_path / "d.csv", [(sentence(rng), "pos") for _ in range(12)]),
                near_dup=False)
    assert p.splits["all"]["labels"]["imbalance"] == {
        "ratio": None, "largest": None, "smallest": None,
        "why": "only one class ('pos'): imbalance needs at least two"}
    assert p.words["giveaways"] == {} and not any("imbalanced" in w for w in p.warnings)
    json.dumps(p.to_dict(), allow_nan=False)


def test_an_empty_split_is_described_not_fatal(tmp_path: Path) -> None:
    rng = random.Random(11)
    run_dir = write_run(tmp_path / "run", {"train": [(sentence(rng), "a"), (sentence(rng), "b")],
                                           "validation": [], "test": [(sentence(rng), "a")]})
    p = profile(run_dir, out_dir=tmp_path / "out")
    empty = p.splits["validation"]
    assert empty["rows"] == 0 and empty["chars"]["why"] == "no rows"
    assert empty["labels"]["imbalance"]["why"] == "no labelled rows"
    assert p.shift["pairs"]["train/validation"] == {"why": "the validation split is empty"}
    assert p.duplicates["within"]["validation"] == {"rows": 0, "duplicate_rows": 0, "rate": None}
    assert "the validation split is empty" in (tmp_path / "out" / "profile.html").read_text(
        encoding="utf-8")


def test_a_run_folder_from_thresher_run_writes_its_files_into_itself(tmp_path: Path) -> None:
    import yaml

    from thresher import run

    rng = random.Random(6)
    rows = [(sentence(rng), "good" if i % 3 else "bad") for i in range(150)]
    write_csv(tmp_path / "d.csv", rows)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(
        {"input": {"path": "d.csv"}, "split": {"validation": 0.1, "test": 0.2}}))
    out = tmp_path / "out"
    run(tmp_path / "r.yaml", out, num_proc=1)
    p = profile(out, seed=13)
    parts = {s: pd.read_parquet(out / "data" / f"{s}.parquet") for s in p.splits}
    assert {s: v["rows"] for s, v in p.splits.items()} == {s: len(f) for s, f in parts.items()}
    assert p.splits["test"]["labels"]["counts"] == parts["test"]["label"].value_counts().to_dict()
    assert p.tokenizer["spec"] is None  # the recipe has no train section
    written = json.loads((out / "profile.json").read_text(encoding="utf-8"))
    assert written == {**p.to_dict(), "files": p.files}
    assert set(p.files) == {"json", "html", "profile_labels", "profile_char_lengths",
                            "profile_length_cdf", "profile_top_words"}
    html = (out / "profile.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["recipe"]["train"] = {"model": "baseline"}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again = profile(out, out_dir=tmp_path / "elsewhere", html=False)
    assert again.tokenizer["spec"] is None and not (tmp_path / "elsewhere" / "profile.html").exists()
    assert ("the model is the TF-IDF baseline, which has no tokenizer: pass a tokenizer (e.g. "
            "minilm) to count tokens") in again.notes


@pytest.mark.slow
def test_the_recipe_train_section_sets_the_tokenizer_and_max_length(tmp_path: Path) -> None:
    rng = random.Random(8)
    splits = {"train": [(sentence(rng, 10), "a"), (sentence(rng, 10), "b")] * 5,
              "test": [(sentence(rng, 10), "a"), (sentence(rng, 10), "b")]}
    run_dir = write_run(tmp_path / "run", splits, train={"model": "minilm", "max_length": 8})
    p = profile(run_dir, near_dup=False)  # writes into the run folder
    assert p.tokenizer["spec"] == "minilm" and p.tokenizer["max_length"] == 8
    assert "tokens (minilm)" in (run_dir / "profile.html").read_text(encoding="utf-8")
    assert (run_dir / "plots" / "profile_token_lengths.png").is_file()
    assert p.tokenizer["truncated_share"] == 1.0  # 11 words and two special tokens
    assert p.splits["test"]["truncated_share"] == 1.0
    assert any(w.startswith("100% of texts are longer than max_length=8 tokens of minilm")
               for w in p.warnings)


def test_unusable_input_says_what_where_and_how_to_fix(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as err:
        profile(empty)
    assert err.value.message == f"{empty}: the file is empty (0 bytes). pass a file with data."
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DataError) as err:
        profile(bare)
    assert err.value.message == (
        f"{bare}: the run folder has no data/ folder, so there are no splits to profile. run the "
        "recipe first (thresher run RECIPE.yaml -o RUN_DIR), or pass a data file.")
    run_dir = write_run(tmp_path / "run", {"train": [], "test": []})
    with pytest.raises(DataError) as err:
        profile(run_dir)
    assert err.value.message == (f"{run_dir / 'data'}: every split is empty: there are no rows "
                                 "to profile. rejects.parquet says which step dropped the rows "
                                 "and why.")
    with pytest.raises(DataError) as err:
        profile(run_dir, text="review")
    assert err.value.message == (
        f"{run_dir / 'data' / 'train.parquet'}: no text column 'review'; the columns are 'id', "
        "'text', 'label'. pass --text with one of those columns.")
    with pytest.raises(DataError) as err:
        profile(run_dir, max_length=0)
    assert err.value.message == ("max_length: max_length must be at least 1, got 0. pass the "
                                 "number of tokens the model reads, e.g. 128.")
    csv = write_csv(tmp_path / "d.csv", [("some text", "a")])
    with pytest.raises(ModelError) as err:
        profile(csv, tokenizer="no-such-model")
    assert err.value.message == (
        "train.model: model 'no-such-model' was not found: it is not an existing folder or .gguf "
        "file, nor an offline backbone. Pass a model folder or .gguf file, or one of: "
        "gemma3-270m, minilm, smollm2.")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "chnsenticorp").is_dir(),
                    reason="shared data folder ../shared/data/chnsenticorp is absent")
def test_chnsenticorp_hotel_reviews(tmp_path: Path) -> None:
    p = profile(SHARED_DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", text="review",
                label="label", tokenizer="minilm", near_dup=False)
    assert p.rows == 7765 and p.splits["all"]["labels"]["counts"] == {"1": 5322, "0": 2443}
    assert p.languages["shares"]["zh"] > 0.99 and p.vocabulary["chinese_rows"] > 0.99 * p.vocabulary["rows"]
    assert p.tokenizer["unk_share"] > 0.3 and any("[UNK]" in w for w in p.warnings)
    assert p.words["label_mentions"]["skipped"] == 2  # labels 0 and 1 are digits
    top = dict((w, share) for w, _, share in p.words["top"]["0"])
    assert "酒店" in top and "房间" in top  # hotel, room: what these reviews are about
