"""Named-entity recognition: a fine-tuned token tagger and the most-frequent-tag baseline.

Rows are sentences as words (``tokens``) with one BIO tag per word (``tags``); Chinese input is
one character per word, so both languages go through the same pre-split path. The tagger
predicts a word's tag from its first sub-token (the tokenizer's ``word_ids``).

The baseline gives each word the tag it carried most often in training (lower-cased; ties go
to the tag that sorts first), "O" for words never seen, then repairs BIO order (an I- tag that
does not continue an entity of its type starts one). It is the classic floor for NER: it
finds the entities that repeat and none of the new ones, which is what WNUT-17 measures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

from thresher.train.batches import encode_words
from thresher.train.distributed import is_main_process
from thresher.train.files import read_json, replace_folder, write_json
from thresher.train.loop import predict_logits
from thresher.train.tasks import TokenTagging
from thresher.train.transformer import TransformerClassifier

__all__ = ["FrequentTagBaseline", "TokenTagger", "repair_bio"]


def repair_bio(tags: Sequence[str]) -> list[str]:
    """``I-X`` after anything but ``B-X``/``I-X`` becomes ``B-X`` (a valid BIO sequence)."""
    out: list[str] = []
    for tag in tags:
        if tag.startswith("I-"):
            kind = tag[2:]
            if not out or out[-1] not in (f"B-{kind}", f"I-{kind}"):
                tag = f"B-{kind}"
        out.append(tag)
    return out


class TokenTagger(TransformerClassifier):
    """A fine-tuned token-classification model; ``labels`` are its tags."""

    def predict_tags(self, sentences: Sequence[Sequence[str]], batch_size: int = 64
                     ) -> list[list[str]]:
        """One tag per word of every sentence; words cut off by ``max_length`` get "O"."""
        if len(sentences) == 0:
            return []
        words = [[str(w) for w in sentence] for sentence in sentences]
        data = encode_words(self.tokenizer, words, self.max_length)
        logits = predict_logits(self.model, data, batch_size, self.device, self.precision)
        return TokenTagging(self.labels).word_tags(logits, data)

    def predict_proba(self, texts: Sequence[Any], batch_size: int = 64) -> Any:
        raise TypeError("a token tagger predicts tags per word: use predict_tags(sentences)")


class FrequentTagBaseline:
    """Each known word's most frequent training tag; ``fit`` learns ``table_``."""

    kind = "baseline"

    def __init__(self, labels: list[str] | None = None) -> None:
        self.labels = list(labels) if labels is not None else []

    def fit(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]
            ) -> "FrequentTagBaseline":
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for words, row in zip(sentences, tags):
            for word, tag in zip(words, row):
                counts[str(word).lower()][str(tag)] += 1
        # most frequent first; among equals, the tag that sorts first (stable across runs)
        self.table_ = {w: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                       for w, c in counts.items()}
        return self

    def predict_tags(self, sentences: Sequence[Sequence[str]], batch_size: int = 64
                     ) -> list[list[str]]:
        return [repair_bio([self.table_.get(str(w).lower(), "O") for w in words])
                for words in sentences]

    def info(self) -> dict[str, Any]:
        return {"kind": "baseline", "task": "ner", "backbone": "most-frequent-tag",
                "load": "json", "labels": self.labels, "vocabulary": len(self.table_)}

    def save(self, folder: Path, info: dict[str, Any] | None = None,
             extra_json: dict[str, Any] | None = None) -> None:
        with replace_folder(Path(folder)) as staging:
            write_json(staging / "word_tags.json", self.table_)
            write_json(staging / "label_map.json", {y: i for i, y in enumerate(self.labels)})
            write_json(staging / "thresher_model.json", {**self.info(), **(info or {})})
            for name, data in (extra_json or {}).items():
                write_json(staging / name, data)

    @classmethod
    def load(cls, folder: Path) -> "FrequentTagBaseline":
        folder = Path(folder)
        model = cls(read_json(folder / "thresher_model.json")["labels"])
        model.table_ = read_json(folder / "word_tags.json")
        return model


def read_ner_split(run_dir: Path, split: str) -> Any:
    """``data/<split>.parquet`` of a ner run: string ``id``, ``tokens`` and ``tags`` as lists."""
    import pandas as pd

    from thresher.errors import DataError, InputError

    path = Path(run_dir) / "data" / f"{split}.parquet"
    if not path.is_file():
        raise InputError(f"the {split} split is missing", where=str(path),
                         fix="Run the split step first, or point to a run folder that has data/")
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "tokens", "tags") if c not in frame.columns]
    if missing:
        raise DataError(
            f"column(s) {', '.join(missing)} missing (found: {', '.join(map(str, frame.columns))})",
            where=str(path), fix="Write the split with the ner columns id, tokens, tags, source")
    if frame.empty:
        raise DataError(f"the {split} split has no rows", where=str(path),
                        fix="Check the cleaning and split steps in manifest.json")
    as_strings = lambda values: [str(v) for v in values]  # noqa: E731
    return frame.assign(id=frame["id"].astype(str), tokens=frame["tokens"].map(as_strings),
                        tags=frame["tags"].map(as_strings)).reset_index(drop=True)


def train_ner(run_dir: Path, config: Any, progress: bool, started: float) -> Any:
    """``train_run`` for ner: the most-frequent-tag baseline, then the fine-tuned tagger."""
    import time

    import numpy as np

    from thresher.errors import DataError
    from thresher.train.run import TrainResult, resolve_model, with_augmented

    train, val = read_ner_split(run_dir, "train"), read_ner_split(run_dir, "validation")
    if config.max_train_rows is not None and config.max_train_rows < len(train):
        chosen = np.random.default_rng(config.seed).permutation(len(train))[: config.max_train_rows]
        train = train.iloc[np.sort(chosen)].reset_index(drop=True)
    train = with_augmented(Path(run_dir), train)  # the augment stage's variants, if any
    tags = sorted({t for frame in (train, val) for row in frame["tags"] for t in row})
    if not any(t != "O" for row in train["tags"] for t in row):
        raise DataError("the train split has no entity tags (every tag is 'O')",
                        where=str(Path(run_dir) / "data" / "train.parquet"),
                        fix="Check the tags column: NER needs BIO tags such as B-PER, I-PER")
    ids = train["id"].tolist()
    if config.model == "baseline":
        info, history = _fit_baseline(train, val, tags, Path(run_dir) / "model")
        return TrainResult(history, 1, ids, time.perf_counter() - started, info)
    sentences = [" ".join(words) for words in train["tokens"]]
    resolved = resolve_model(config, sentences, "ner")
    baseline_info, _ = _fit_baseline(train, val, tags, Path(run_dir) / "baseline")
    from thresher.train.finetune import finetune
    from thresher.train.tasks import make_task

    task = make_task("ner", tags, train, imbalance=config.imbalance)
    info, history, best = finetune(train, val, tags, config, resolved, Path(run_dir), progress,
                                   task=task)
    return TrainResult(history, best, ids, time.perf_counter() - started, info, baseline_info)


def _fit_baseline(train: Any, val: Any, tags: list[str], folder: Path
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import time

    from seqeval.metrics import f1_score

    started = time.perf_counter()
    model = FrequentTagBaseline(tags).fit(train["tokens"], train["tags"])
    seconds = time.perf_counter() - started
    truth = val["tags"].tolist()
    guess = model.predict_tags(val["tokens"].tolist())
    flat = [(a, b) for gold, pred in zip(truth, guess) for a, b in zip(gold, pred)]
    row = {"epoch": 1,  # counts, no probabilities: no loss to report
           "val_token_accuracy": sum(a == b for a, b in flat) / max(len(flat), 1),
           "val_entity_f1": float(f1_score(truth, guess, zero_division=0)),
           "seconds": seconds, "learning_rate": None, "eval_seconds": 0.0}
    info = {**model.info(), "train_rows": len(train), "seconds": round(seconds, 2)}
    if is_main_process():  # several training processes: one writes
        model.save(folder, info=info, extra_json={"training_history.json": [row]})
    return info, [row]
