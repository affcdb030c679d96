"""Generation metrics against rouge-score and sacrebleu on real sentences, and worked examples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from thresher.errors import DataError, ModelError, RecipeError
from thresher.evaluate.generation import (
    bleu,
    exact_match,
    generation_metrics,
    normalize_answer,
    perplexity,
    rouge,
    token_f1,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# punctuation, case, digits and contractions, which SST-2's cleaned text lacks
HAND_PAIRS = [
    ("The U.S. economy grew 3.5% in 2023!", "In 2023, the US economy grew by 3.5 percent."),
    ("Don't open the box; it's fragile.", "Do not open the fragile box."),
    ("Running runners ran", "the runner runs"),
    ("", "an empty prediction scores zero"),
    ("Café prices rose", "cafe prices rose"),
]


@pytest.fixture(scope="module")
def sst2_pairs() -> tuple[list[str], list[str]]:
    """200 real SST-2 test sentences and an EDA variant of each (the prediction)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    from thresher.augment.eda import Eda

    lines = (SHARED_DATA / "eda" / "sst2" / "test.txt").read_text(encoding="utf-8").splitlines()
    references = [line.split("\t", 1)[1].strip() for line in lines[:200]]
    try:
        variants = Eda().augment(references, 1, seed=3).texts
    except ModelError as exc:  # no WordNet here
        pytest.skip(str(exc))
    predictions = [v[0] if v else r for v, r in zip(variants, references)]
    assert sum(p != r for p, r in zip(predictions, references)) >= 190
    return ([p for p, _ in HAND_PAIRS] + predictions, [r for _, r in HAND_PAIRS] + references)


@pytest.mark.parametrize("stem", [False, True])
def test_rouge_matches_rouge_score(sst2_pairs: tuple[list[str], list[str]], stem: bool) -> None:
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    predictions, references = sst2_pairs
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=stem)
    expected = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
    ours = rouge(predictions, references, language="en", stem=stem)
    assert ours.n == len(predictions) == 205 and ours.language == "en"
    for key in ("rouge1", "rouge2", "rougeL"):
        mean = sum(e[key].fmeasure for e in expected) / len(expected)
        assert getattr(ours, key) == pytest.approx(mean, abs=1e-6)
    for (pred, ref), exp in zip(HAND_PAIRS, expected):  # pair by pair where tokenising differs
        one = rouge([pred], [ref], language="en", stem=stem)
        assert (one.rouge1, one.rouge2, one.rougeL) == pytest.approx(
            (exp["rouge1"].fmeasure, exp["rouge2"].fmeasure, exp["rougeL"].fmeasure), abs=1e-9)
    assert 0.8 < ours.rouge1 < 1.0  # EDA variants share most of their words


def test_bleu_matches_sacrebleu(sst2_pairs: tuple[list[str], list[str]]) -> None:
    import sacrebleu

    predictions, references = sst2_pairs
    ours = bleu(predictions, references, language="en")
    direct = sacrebleu.corpus_bleu(predictions, [references], tokenize="13a")
    assert ours.score == pytest.approx(direct.score, abs=1e-9)
    assert ours.precisions == pytest.approx(direct.precisions)
    assert (ours.prediction_length, ours.reference_length) == (direct.sys_len, direct.ref_len)
    assert ours.signature == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" \
                             f"{sacrebleu.__version__}"
    assert 30 < ours.score < 100


def test_chinese_bleu_uses_the_zh_tokeniser() -> None:
    import sacrebleu

    predictions = ["订单今天已经发货了，请注意查收。", "退款会在三到五个工作日内到账"]
    references = ["您的订单今天已发货，请注意查收。", "退款将在三到五个工作日内原路退回"]
    ours = bleu(predictions, references)  # auto: Chinese characters are there
    direct = sacrebleu.corpus_bleu(predictions, [references], tokenize="zh")
    assert ours.tokenize == "zh" and "tok:zh" in ours.signature
    assert ours.score == pytest.approx(direct.score, abs=1e-9) and ours.score > 20
    assert sacrebleu.corpus_bleu(predictions, [references], tokenize="13a").score < 5


def test_chinese_rouge_worked_example() -> None:
    # characters: 我 爱 北 京 天 安 门 / 我 爱 天 安 门 广 场 (7 each)
    # unigrams in common 5 -> F1 5/7; bigrams 我爱 天安 安门 of 6 each -> 3/6; LCS 我爱天安门 = 5
    result = rouge(["我爱北京天安门"], ["我爱天安门广场"])
    assert (result.language, result.tokens) == ("zh", "char")
    assert (result.rouge1, result.rouge2, result.rougeL) == pytest.approx((5 / 7, 0.5, 5 / 7))
    # Latin words stay whole, full-width digits fold: iphone 12 很 好 用 vs iphone 12 很 好
    mixed = rouge(["iPhone １２很好用"], ["iphone 12 很好"], language="zh")
    assert mixed.rouge1 == pytest.approx(2 * 1 * 0.8 / 1.8)  # P 4/5, R 4/4
    assert rouge(["我爱北京"], ["我爱北京"], language="en").rouge1 == 0.0  # why auto exists


def test_chinese_rouge_with_jieba_words() -> None:
    jieba = pytest.importorskip("jieba")
    assert jieba.lcut("我爱北京天安门") == ["我", "爱", "北京", "天安门"]
    assert jieba.lcut("我爱天安门广场") == ["我", "爱", "天安门广场"]
    result = rouge(["我爱北京天安门"], ["我爱天安门广场"], zh_tokens="jieba")
    # unigrams: 我, 爱 in common; P 2/4, R 2/3 -> F1 4/7; bigram 我爱: P 1/3, R 1/2 -> F1 2/5
    assert (result.rouge1, result.rouge2, result.rougeL) == pytest.approx((4 / 7, 0.4, 4 / 7))
    assert result.tokens == "jieba"


def test_exact_match_and_token_f1_squad_examples() -> None:
    predictions = ["The Eiffel Tower!", "Eiffel", "the cat sat on the mat", "Denver Broncos",
                   "北京天安门", "天安门。", ""]
    references = ["eiffel tower", "Eiffel Tower", "a cat on a mat",
                  ["Denver Broncos", "The Broncos"], "天安门广场", "天安门", "The"]
    em = exact_match(predictions, references)
    assert em.per_item == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    f1 = token_f1(predictions, references)
    # Eiffel: P 1, R 1/2; cat sat on mat vs cat on mat: P 3/4, R 1; 北京天安门 vs 天安门广场: 3/5
    assert f1.per_item == pytest.approx([1.0, 2 / 3, 6 / 7, 1.0, 0.6, 1.0, 1.0])
    assert f1.value == pytest.approx(sum(f1.per_item) / 7) and f1.n == 7
    assert token_f1(["nothing"], [""]).value == 0.0
    assert normalize_answer("  The “quick”, brown-fox… an apple ") == "quick brownfox apple"


def test_perplexity_and_its_guards() -> None:
    assert perplexity(math.log(20.0)).perplexity == pytest.approx(20.0)
    assert perplexity(0).perplexity == 1.0
    huge = perplexity(710.0)
    assert huge.perplexity is None and huge.mean_loss == 710.0
    assert huge.note == "the mean loss 710 is too large: exp() of it overflows a float"
    assert perplexity(float("nan")).to_dict() == {
        "mean_loss": None, "perplexity": None,
        "note": "the mean loss is NaN (did training diverge?)"}
    with pytest.raises(DataError) as err:
        perplexity(-0.5)
    assert str(err.value) == ("mean_loss: the mean loss is -0.5, below 0. Pass the mean "
                              "cross-entropy loss in nats, which is never negative.")


def _strict_json(data: dict) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"JSON holds {constant}")

    return json.loads(json.dumps(data, allow_nan=False), parse_constant=reject)


def test_generation_metrics_per_task_kind() -> None:
    predictions = ["Your order ships today.", "Refunds take 5-7 days.", ""]
    references = ["Your order ships today.", "A refund takes 5-7 business days.", "Sure."]
    seq = generation_metrics(predictions, references, "seq2seq", mean_loss=1.5).to_dict()
    assert _strict_json(seq) == seq
    assert seq["rouge"]["rouge1"] == pytest.approx(rouge(predictions, references).rouge1)
    assert seq["bleu"]["score"] == pytest.approx(bleu(predictions, references).score)
    assert seq["exact_match"] is None and seq["token_f1"] is None
    assert seq["perplexity"]["perplexity"] == pytest.approx(math.exp(1.5))
    assert seq["notes"] == ["1 of 3 predictions are empty (they score 0)"]
    chat = generation_metrics(predictions, references, "chat")
    assert chat.rouge is not None and chat.bleu is not None and chat.token_f1 is not None
    assert chat.perplexity is None and chat.exact_match is None
    qa = generation_metrics(["Paris", "北京"], [["Paris, France", "paris"], "北京市"], "qa",
                            mean_loss=float("nan"))
    assert qa.language == "zh" and qa.rouge is None and qa.exact_match.value == 0.5
    assert qa.token_f1.per_item == pytest.approx([1.0, 0.8])
    assert qa.notes == ["perplexity is None: the mean loss is NaN (did training diverge?)"]


def test_bad_input_is_a_clear_error() -> None:
    cases = [
        (lambda: rouge(["a"], ["a", "b"]), DataError,
         "references: there are 1 predictions but 2 references. Pass one reference per "
         "prediction."),
        (lambda: bleu([], []), DataError,
         "predictions: there are no predictions to score. Evaluate a non-empty split."),
        (lambda: rouge(["a", None], ["a", "b"]), DataError,
         "predictions[1]: NoneType where a text was expected. Replace missing values with '' "
         "before scoring."),
        (lambda: rouge(["a"], [["a"]]), DataError,
         "references[0]: list where a text was expected. Replace missing values with '' "
         "before scoring."),
        (lambda: exact_match(["a"], [[]]), DataError,
         "references[0]: the list of accepted answers is empty. Give at least one reference "
         "answer."),
        (lambda: rouge(["a"], ["a"], language="fr"), RecipeError,
         "language: language must be one of auto, en, zh, got 'fr'. Set language to one of "
         "auto, en, zh."),
        (lambda: generation_metrics(["a"], ["a"], "summary"), RecipeError,
         "task_kind: task_kind must be one of seq2seq, qa, chat, got 'summary'. Set task_kind "
         "to one of seq2seq, qa, chat."),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as err:
            call()
        assert str(err.value) == message
