"""Generation metrics for seq2seq, QA and chat runs: ROUGE, BLEU, exact match, token F1, perplexity.

A classifier is scored on labels; a generator is scored on text, where the tokenisation decides
the number. English ROUGE tokenises like the ``rouge-score`` package (lowercase, every run of
characters other than a-z and 0-9 separates tokens, optional Porter stemming of tokens longer
than three characters), so its numbers can be compared with published ones. That tokeniser
drops every Chinese character, so a Chinese text would score 0: Chinese ROUGE counts characters
(or jieba words) instead, and Latin words inside Chinese text stay whole words. BLEU is
sacrebleu's corpus BLEU (``zh`` tokeniser for Chinese, ``13a`` otherwise) with its signature,
so a number can be reproduced. Exact match and token F1 follow the SQuAD evaluation
(lowercase, no punctuation, no English articles); Chinese characters count as one token each.
"""

from __future__ import annotations

import math
import re
import string
import sys
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from thresher.errors import DataError, ModelError, RecipeError

__all__ = [
    "Bleu",
    "GenerationMetrics",
    "MeanScore",
    "Perplexity",
    "Rouge",
    "bleu",
    "exact_match",
    "generation_metrics",
    "normalize_answer",
    "perplexity",
    "resolve_language",
    "rouge",
    "token_f1",
]

LANGUAGES = ("auto", "en", "zh")
ZH_TOKENS = ("char", "jieba")
TASK_KINDS = ("seq2seq", "qa", "chat")
_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ZH_CHAR_TOKENS = re.compile(f"[a-z0-9]+|[{_CJK_CHARS}]")
_QA_TOKENS = re.compile(f"[{_CJK_CHARS}]|[^\\s{_CJK_CHARS}]+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = frozenset(string.punctuation)
_MAX_LOSS = math.log(sys.float_info.max)  # exp() of anything larger overflows a float


@dataclass(frozen=True)
class Rouge:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 (0 to 1), each averaged over the pairs."""

    rouge1: float
    rouge2: float
    rougeL: float  # noqa: N815 (the name every ROUGE tool uses)
    n: int
    language: str
    tokens: str  # "words" (English), "char" or "jieba"
    stem: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Bleu:
    """sacrebleu's corpus BLEU (0 to 100) and the signature that reproduces it."""

    score: float
    signature: str
    precisions: list[float]
    brevity_penalty: float
    prediction_length: int
    reference_length: int
    tokenize: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MeanScore:
    """A per-item score (exact match or token F1, 0 to 1) and its mean."""

    name: str
    value: float
    n: int
    per_item: list[float] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "n": self.n}


@dataclass(frozen=True)
class Perplexity:
    """exp(mean loss); ``perplexity`` is None, with a note, where no finite number exists."""

    mean_loss: float | None
    perplexity: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationMetrics:
    """The metrics of one task kind, gathered; absent ones are None."""

    task_kind: str
    language: str
    n: int
    rouge: Rouge | None = None
    bleu: Bleu | None = None
    exact_match: MeanScore | None = None
    token_f1: MeanScore | None = None
    perplexity: Perplexity | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task_kind": self.task_kind, "language": self.language,
                               "n": self.n}
        for key in ("rouge", "bleu", "exact_match", "token_f1", "perplexity"):
            value = getattr(self, key)
            out[key] = value.to_dict() if value is not None else None
        out["notes"] = list(self.notes)
        return out


def rouge(predictions: Sequence[str], references: Sequence[str], *, language: str = "auto",
          zh_tokens: str = "char", stem: bool = False) -> Rouge:
    """Mean ROUGE-1/2/L F1 of each prediction against its reference.

    ROUGE-L is the sentence-level longest common subsequence (``rougeL`` in rouge-score, not
    the newline-split ``rougeLsum``). ``language="auto"`` picks Chinese when any text holds a
    Chinese character. A pair where either side has no tokens scores 0.
    """
    predictions, references = _pairs(predictions, references)
    lang = resolve_language(language, [*predictions, *references])
    _choice(zh_tokens, ZH_TOKENS, "zh_tokens")
    tokenize = _tokenizer(lang, zh_tokens, stem)
    sums = [0.0, 0.0, 0.0]
    for prediction, reference in zip(predictions, references):
        pred, ref = tokenize(prediction), tokenize(reference)
        sums[0] += _ngram_f1(pred, ref, 1)
        sums[1] += _ngram_f1(pred, ref, 2)
        sums[2] += _f1(_lcs_length(pred, ref), len(pred), len(ref))
    n = len(predictions)
    return Rouge(rouge1=sums[0] / n, rouge2=sums[1] / n, rougeL=sums[2] / n, n=n, language=lang,
                 tokens="words" if lang == "en" else zh_tokens, stem=stem)


def bleu(predictions: Sequence[str], references: Sequence[str], *,
         language: str = "auto") -> Bleu:
    """sacrebleu's corpus BLEU, one reference per prediction (``zh`` tokeniser for Chinese)."""
    predictions, references = _pairs(predictions, references)
    lang = resolve_language(language, [*predictions, *references])
    try:
        from sacrebleu.metrics import BLEU
    except ImportError:
        raise ModelError("BLEU needs the package 'sacrebleu', which is not installed",
                         where="evaluate: bleu", fix="pip install 'thresher[sft]'") from None
    tokenize = "zh" if lang == "zh" else "13a"
    metric = BLEU(tokenize=tokenize)
    result = metric.corpus_score(list(predictions), [list(references)])
    return Bleu(score=float(result.score), signature=str(metric.get_signature()),
                precisions=[float(p) for p in result.precisions],
                brevity_penalty=float(result.bp), prediction_length=int(result.sys_len),
                reference_length=int(result.ref_len), tokenize=tokenize)


def exact_match(predictions: Sequence[str],
                references: Sequence[str | Sequence[str]]) -> MeanScore:
    """Share of predictions equal to a reference after SQuAD normalisation.

    A reference may be a list of accepted answers: the best one counts, as in SQuAD.
    """
    predictions, references = _pairs(predictions, references, several=True)
    scores = [max(float(normalize_answer(p) == normalize_answer(r)) for r in _as_list(refs))
              for p, refs in zip(predictions, references)]
    return MeanScore("exact_match", sum(scores) / len(scores), len(scores), scores)


def token_f1(predictions: Sequence[str],
             references: Sequence[str | Sequence[str]]) -> MeanScore:
    """Mean SQuAD token F1; Chinese characters are one token each, Latin words one token.

    Where either side has no tokens left, the pair scores 1 if both are empty and 0 otherwise.
    """
    predictions, references = _pairs(predictions, references, several=True)
    scores = [max(_token_f1(p, r) for r in _as_list(refs))
              for p, refs in zip(predictions, references)]
    return MeanScore("token_f1", sum(scores) / len(scores), len(scores), scores)


def perplexity(mean_loss: float) -> Perplexity:
    """exp(mean token cross-entropy, in nats); None with a note for NaN or an overflow."""
    if isinstance(mean_loss, bool) or not isinstance(mean_loss, (int, float)):
        raise DataError(f"the mean loss is {type(mean_loss).__name__}, not a number",
                        where="mean_loss", fix="Pass the mean cross-entropy loss in nats")
    loss = float(mean_loss)
    if math.isnan(loss):
        return Perplexity(None, None, "the mean loss is NaN (did training diverge?)")
    if loss < 0:
        raise DataError(f"the mean loss is {loss:g}, below 0", where="mean_loss",
                        fix="Pass the mean cross-entropy loss in nats, which is never negative")
    if loss > _MAX_LOSS:
        return Perplexity(loss if math.isfinite(loss) else None, None,
                          f"the mean loss {loss:g} is too large: exp() of it overflows a float")
    return Perplexity(loss, math.exp(loss))


def generation_metrics(predictions: Sequence[str], references: Sequence[Any],
                       task_kind: str = "seq2seq", language: str = "auto", *,
                       mean_loss: float | None = None, zh_tokens: str = "char",
                       stem: bool = False) -> GenerationMetrics:
    """The metrics of ``task_kind``: ROUGE and BLEU for seq2seq; exact match and token F1 for
    qa; ROUGE, BLEU and token F1 for chat. Perplexity is added when ``mean_loss`` is given."""
    _choice(task_kind, TASK_KINDS, "task_kind")
    predictions, references = _pairs(predictions, references, several=task_kind == "qa")
    texts = [*predictions, *(r for refs in references for r in _as_list(refs))]
    lang = resolve_language(language, texts)
    found: dict[str, Any] = {}
    if task_kind in ("seq2seq", "chat"):
        found["rouge"] = rouge(predictions, references, language=lang, zh_tokens=zh_tokens,
                               stem=stem)
        found["bleu"] = bleu(predictions, references, language=lang)
    if task_kind in ("qa", "chat"):
        found["token_f1"] = token_f1(predictions, references)
    if task_kind == "qa":
        found["exact_match"] = exact_match(predictions, references)
    notes = []
    if mean_loss is not None:
        found["perplexity"] = perplexity(mean_loss)
        if found["perplexity"].note:
            notes.append(f"perplexity is None: {found['perplexity'].note}")
    empty = sum(not p.strip() for p in predictions)
    if empty:
        notes.append(f"{empty} of {len(predictions)} predictions are empty (they score 0)")
    return GenerationMetrics(task_kind=task_kind, language=lang, n=len(predictions),
                             notes=notes, **found)


def resolve_language(language: str, texts: Sequence[str]) -> str:
    """``en`` or ``zh``; ``auto`` is ``zh`` as soon as one text holds a Chinese character."""
    _choice(language, LANGUAGES, "language")
    if language != "auto":
        return language
    return "zh" if any(_CJK.search(text) for text in texts) else "en"


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, no punctuation (ASCII and Unicode, so Chinese too), no
    English articles, single spaces."""
    text = "".join(c for c in text.lower()
                   if c not in _ASCII_PUNCT and not unicodedata.category(c).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _token_f1(prediction: str, reference: str) -> float:
    pred = _QA_TOKENS.findall(normalize_answer(prediction))
    ref = _QA_TOKENS.findall(normalize_answer(reference))
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    return _f1(common, len(pred), len(ref))


def _tokenizer(language: str, zh_tokens: str, stem: bool) -> Callable[[str], list[str]]:
    stemmer = _porter() if stem else None

    def stemmed(tokens: list[str]) -> list[str]:
        if stemmer is None:
            return tokens
        return [stemmer.stem(t) if len(t) > 3 and not _CJK.match(t) else t for t in tokens]

    if language == "en":
        return lambda text: stemmed(_NON_ALNUM.sub(" ", text.lower()).split())
    if zh_tokens == "char":
        return lambda text: stemmed(_ZH_CHAR_TOKENS.findall(_fold(text)))
    cut = _jieba().lcut

    def words(text: str) -> list[str]:
        tokens: list[str] = []
        for word in cut(_fold(text)):  # Chinese words whole; Latin parts split like English
            tokens.extend([word] if _CJK.search(word) else _NON_ALNUM.sub(" ", word).split())
        return stemmed(tokens)

    return words


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()  # full-width letters and digits too


def _porter() -> Any:
    try:
        from nltk.stem.porter import PorterStemmer
    except ImportError:
        raise ModelError("stemming needs the package 'nltk', which is not installed",
                         where="evaluate: rouge stem", fix="pip install nltk") from None
    return PorterStemmer()


def _jieba() -> Any:
    try:
        import jieba
    except ImportError:
        raise ModelError("Chinese word tokens need the package 'jieba', which is not installed",
                         where="evaluate: rouge zh_tokens",
                         fix="pip install 'thresher[zh]', or use zh_tokens='char'") from None
    jieba.setLogLevel(60)  # silence its "Building prefix dict" lines: library code is quiet
    return jieba


def _ngram_f1(pred: list[str], ref: list[str], n: int) -> float:
    pred_grams = Counter(tuple(pred[i:i + n]) for i in range(len(pred) - n + 1))
    ref_grams = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
    overlap = sum((pred_grams & ref_grams).values())
    return _f1(overlap, sum(pred_grams.values()), sum(ref_grams.values()))


def _lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence, one row of the table at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _f1(overlap: int, predicted: int, reference: int) -> float:
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / reference if reference else 0.0
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def _choice(value: str, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        raise RecipeError(f"{name} must be one of {', '.join(allowed)}, got {value!r}",
                          where=name, fix=f"Set {name} to one of {', '.join(allowed)}")


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _pairs(predictions: Sequence[Any], references: Sequence[Any], *,
           several: bool = False) -> tuple[list[str], list[Any]]:
    """Checked copies: as many references as predictions, all text (a list of texts per
    reference where ``several``)."""
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise DataError(f"there are {len(predictions)} predictions but {len(references)} "
                        "references", where="references", fix="Pass one reference per prediction")
    if not predictions:
        raise DataError("there are no predictions to score", where="predictions",
                        fix="Evaluate a non-empty split")
    for i, value in enumerate(predictions):
        _text(value, f"predictions[{i}]")
    for i, value in enumerate(references):
        if several and not isinstance(value, (str, bytes, dict)) and hasattr(value, "__iter__"):
            references[i] = _answers(value, i)  # a list (or array) of accepted answers
        else:
            _text(value, f"references[{i}]", "a text or a list of texts" if several else "a text")
    return predictions, references


def _answers(value: Any, i: int) -> list[str]:
    answers = list(value)
    if not answers:
        raise DataError("the list of accepted answers is empty", where=f"references[{i}]",
                        fix="Give at least one reference answer")
    for k, answer in enumerate(answers):
        _text(answer, f"references[{i}][{k}]")
    return answers


def _text(value: Any, where: str, wanted: str = "a text") -> None:
    if not isinstance(value, str):
        raise DataError(f"{type(value).__name__} where {wanted} was expected", where=where,
                        fix="Replace missing values with '' before scoring")
