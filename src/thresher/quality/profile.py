"""``profile``: know a dataset before training on it.

One call reads a run folder's splits (or any data file as one split, "all") and measures what
decides whether fine-tuning can work: label balance, text and token lengths, how much of the
text the tokenizer knows, languages, duplicates within and across splits, texts with
conflicting labels, personal data, words that give a label away, and shift between train and
test. Everything lands in one JSON-safe :class:`Profile`; ``warnings`` holds the sentences a
user should act on. With an output folder it also writes ``profile.json``, PNG plots under
``plots/profile_*.png`` and a standalone ``profile.html``.

Statistics that do not need every row (tokens, words, languages) are computed on a seeded
sample on large data, and the output says so in ``notes`` and in the section itself.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from thresher.errors import DataError
from thresher.quality import profile_stats as stats
from thresher.quality import profile_words as words

__all__ = ["Profile", "ProfileData", "load_profile_data", "profile", "profile_warnings"]

SPLIT_ORDER = ("train", "validation", "test")
DEFAULT_MAX_LENGTH = 128
# warning thresholds
WARN_UNK = 0.02  # share of [UNK] among the text's tokens
WARN_IMBALANCE = 10.0  # rows of the largest class over the smallest
WARN_TRUNCATED = 0.05  # share of texts longer than max_length tokens
WARN_DUPLICATES = 0.05  # share of a split's rows repeating another row exactly
WARN_MENTION = 0.10  # share of a label's rows naming the label (and twice the other rows' share)
GIVEAWAY_SHARE = 0.95  # of the rows holding a word, the share in one label ...
GIVEAWAY_COVERAGE = 0.05  # ... while the word is in this share of that label's rows
BASELINE_NOTE = ("the model is the TF-IDF baseline, which has no tokenizer: pass a tokenizer "
                 "(e.g. minilm) to count tokens")
RUN_FIX = "run the recipe first (thresher run RECIPE.yaml -o RUN_DIR), or pass a data file"


@dataclass
class ProfileData:
    """What is profiled: one row per text with its split (and label, when there is one)."""

    rows: pd.DataFrame  # split, text, chars (+ label)
    order: tuple[str, ...]  # split names in order
    kind: str  # "run" or "data"
    source: str
    text_column: str
    label_column: str | None
    model: str | None = None  # the recipe's train.model, for a run folder
    max_length: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Profile:
    """A dataset's profile; every field is plain JSON data (see :meth:`to_dict`)."""

    source: str
    kind: str
    text_column: str
    label_column: str | None
    rows: int
    splits: dict[str, Any]
    labels: dict[str, Any] | None
    tokenizer: dict[str, Any]
    vocabulary: dict[str, Any]
    languages: dict[str, Any]
    duplicates: dict[str, Any]
    pii: dict[str, Any]
    words: dict[str, Any] | None
    shift: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))


def profile(source: str | Path, *, text: str | None = None, label: str | None = None,
            tokenizer: str | None = None, max_length: int | None = None,
            out_dir: str | Path | None = None, near_dup: bool = True, seed: int = 13,
            html: bool = True) -> Profile:
    """Profile a run folder's splits or a data file (one split, "all").

    ``text``/``label`` name the columns (inferred for a data file; "text" and "label" in a
    run folder); without a label column the per-label parts are left out. ``tokenizer``: a
    model spec (minilm, gemma3-270m, smollm2, a folder, a hub id, DEFAULT); for a run folder it
    defaults to the recipe's ``train.model``, and ``max_length`` to its ``train.max_length``
    (else 128). ``out_dir``: where profile.json, plots/profile_*.png and (unless
    ``html=False``) profile.html go; a run folder writes into itself by default, a data file
    nowhere. ``seed`` draws the samples and the MinHash permutations. Raises InputError or
    DataError for unusable data and ModelError for a tokenizer that cannot be loaded.
    """
    if max_length is not None and max_length < 1:
        raise DataError(f"max_length must be at least 1, got {max_length}", where="max_length",
                        fix="pass the number of tokens the model reads, e.g. 128")
    seconds: dict[str, float] = {}
    with _timed(seconds, "read"):
        data = load_profile_data(source, text=text, label=label)
    out = Path(out_dir) if out_dir is not None else (Path(source) if data.kind == "run" else None)
    if out is not None:
        from thresher._files import ensure_writable_dir

        ensure_writable_dir(out)  # fail before the work, not after it
    spec = tokenizer or data.model
    if spec == "baseline":  # train.model: baseline (TF-IDF) has no tokenizer to count with
        spec = None
        data.notes.append(BASELINE_NOTE)
    found = _measure(data, spec, max_length or data.max_length or DEFAULT_MAX_LENGTH, near_dup,
                     seed, seconds)
    found.warnings = profile_warnings(found)
    if out is not None:
        from thresher.quality.profile_html import write_profile

        found.files = write_profile(found.to_dict(), out, html=html)
    return found


@contextmanager
def _timed(seconds: dict[str, float], part: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    seconds[part] = round(seconds.get(part, 0.0) + time.perf_counter() - start, 3)


def load_profile_data(source: str | Path, *, text: str | None = None,
                      label: str | None = None) -> ProfileData:
    """A run folder's data/*.parquet splits, or any file ``read_source`` reads (split "all")."""
    path = Path(source)
    if path.is_dir() and (path / "manifest.json").is_file():
        return _load_run(path, text, label)
    return _load_file(source, text, label)


def _load_run(path: Path, text: str | None, label: str | None) -> ProfileData:
    from thresher._files import read_json

    manifest = read_json(path / "manifest.json", fix="re-run the recipe to rewrite the run folder")
    files = {s: path / "data" / f"{s}.parquet" for s in SPLIT_ORDER}
    files = {s: f for s, f in files.items() if f.is_file()}
    if not (path / "data").is_dir() or not files:
        what = "no data/ folder" if not (path / "data").is_dir() else \
            "no train, validation or test .parquet file in data/"
        raise DataError(f"the run folder has {what}, so there are no splits to profile",
                        where=str(path), fix=RUN_FIX)
    frames = {s: pd.read_parquet(f) for s, f in files.items()}
    text_col, label_col = text or "text", label or "label"
    for split, frame in frames.items():
        _check_column(frame, text_col, "text", files[split])
        if label is not None:
            _check_column(frame, label_col, "label", files[split])
    labelled = all(label_col in f.columns for f in frames.values())
    rows = _rows({s: (f[text_col], f[label_col] if labelled else None) for s, f in frames.items()})
    if rows.empty:
        raise DataError("every split is empty: there are no rows to profile",
                        where=str(path / "data"),
                        fix="rejects.parquet says which step dropped the rows and why")
    train = (manifest.get("recipe") or {}).get("train") if isinstance(manifest, dict) else None
    data = ProfileData(rows, tuple(frames), "run", str(path), text_col,
                       label_col if labelled else None)
    if isinstance(train, dict):
        data.model, data.max_length = str(train.get("model", "DEFAULT")), train.get("max_length")
    return _unlabelled_note(data)


def _check_column(frame: pd.DataFrame, column: str, role: str, file: Path) -> None:
    if column not in frame.columns:
        shown = ", ".join(repr(str(c)) for c in frame.columns)
        raise DataError(f"no {role} column {column!r}; the columns are {shown}", where=str(file),
                        fix=f"pass --{role} with one of those columns")


def _rows(parts: dict[str, tuple[pd.Series, pd.Series | None]]) -> pd.DataFrame:
    frames = []
    for split, (texts, labels) in parts.items():
        frame = pd.DataFrame({"split": split, "text": texts.fillna("").astype(str).to_numpy()})
        if labels is not None:
            frame["label"] = labels.astype(str).to_numpy()
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    rows["chars"] = rows["text"].str.len().astype(np.int64)
    return rows


def _load_file(source: str | Path, text: str | None, label: str | None) -> ProfileData:
    from thresher.io import read_source

    try:
        result = read_source(source, text=text, label=label)
        table, text_col, label_col = result.table, result.info.text_column, result.info.label_column
    except DataError as exc:
        if label is not None or not exc.what.startswith("no label column found"):
            raise
        table, text_col = _read_unlabelled(source, text, exc)
        label_col = None
    if table.empty:
        raise DataError("no usable rows: every row was rejected while reading (empty or "
                        "missing text)", where=str(source), fix="check the text column (--text)")
    labels = table["label"] if label_col is not None else None
    data = ProfileData(_rows({"all": (table["text"], labels)}), ("all",), "data", str(source),
                       str(text_col or "text"), label_col)
    return _unlabelled_note(data)


def _read_unlabelled(source: str | Path, text: str | None,
                     error: DataError) -> tuple[pd.DataFrame, str]:
    """The usable texts of a source without a label column (read_source insists on one),
    and the text column's name."""
    from thresher.io.roles import resolve_roles
    from thresher.io.source import _locate, _read_raw
    from thresher.io.values import clean_texts

    located = _locate(str(source), None)
    if located.path is None:  # a hub dataset: read_source's own message stands
        raise error
    raw, _ = _read_raw(located, None, "classification", None)
    roles = resolve_roles(raw.frame, located.name, text=text)
    if roles.text is None:
        raise DataError("no text column found", where=located.name, fix="pass --text COLUMN")
    texts, reasons = clean_texts(raw.frame[roles.text])
    return pd.DataFrame({"text": [t for t, r in zip(texts, reasons) if r is None]}), str(roles.text)


def _unlabelled_note(data: ProfileData) -> ProfileData:
    if data.label_column is None:
        data.notes.append("no label column: per-label statistics, top and giveaway words, "
                          "label conflicts and label shift are left out")
    return data


def _measure(data: ProfileData, spec: str | None, max_length: int, near_dup: bool, seed: int,
             seconds: dict[str, float]) -> Profile:
    rows = data.rows
    texts = rows["text"].tolist()
    order = np.random.default_rng(seed).permutation(len(rows))
    with _timed(seconds, "tokens"):
        tokens = _tokens(data, spec, max_length, order)
    with _timed(seconds, "lengths"):
        splits, labels = _split_sections(data, tokens)
    with _timed(seconds, "words"):
        counts = words.count_words(texts, rows["split"].tolist(),
                                   rows["label"].tolist() if "label" in rows else None, order)
    with _timed(seconds, "languages"):
        languages = stats.language_stats(texts, order)
    with _timed(seconds, "duplicates"):
        duplicates = _duplicates(data, near_dup, seed)
    with _timed(seconds, "pii"):
        pii = stats.pii_stats(texts)
    with _timed(seconds, "words"):
        word_section = _word_section(data, counts)
    with _timed(seconds, "shift"):
        shift = _shift(data, counts)
    vocabulary = _vocabulary(counts)
    notes = data.notes + [n for n in (tokens["section"].get("note"), languages["note"],
                                      vocabulary["note"]) if n]
    return Profile(data.source, data.kind, data.text_column, data.label_column, len(rows), splits,
                   labels, tokens["section"], vocabulary, languages, duplicates, pii,
                   word_section, shift, notes=notes, seconds=seconds)


def _tokens(data: ProfileData, spec: str | None, max_length: int,
            order: np.ndarray) -> dict[str, Any]:
    """The tokenizer section, and token lengths of the sampled rows (row position -> length)."""
    if spec is None:
        why = ("no tokenizer given: pass one (e.g. minilm, gemma3-270m) to count tokens, "
               "[UNK] and truncation")
        return {"section": {"spec": None, "why": why}, "lengths": None}
    texts = data.rows["text"]
    train = texts[data.rows["split"] == data.order[0]].tolist()
    tokenizer, name, folder = stats.load_tokenizer(spec, train)
    picked = np.sort(order[:stats.TOKEN_SAMPLE])
    lengths, unknown = stats.token_counts(tokenizer, texts.iloc[picked].tolist())
    sampled = len(picked) < len(texts)
    section = {"spec": spec, "backbone": name, "folder": folder, "vocab_size": len(tokenizer),
               "max_length": max_length, "unk_token": tokenizer.unk_token,
               **_unknown(tokenizer, lengths, unknown),
               "truncated_share": _mean(lengths > max_length),
               "lengths": stats.length_stats(lengths, stats.length_edges(lengths)),
               "rows": int(len(picked)), "sampled": sampled,
               "chinese_share": round(_cjk_share(texts.iloc[order[:2000]].tolist()), 4),
               "note": f"token statistics on a seeded sample of {len(picked):,} rows"
               if sampled else None}
    return {"section": section, "lengths": pd.Series(lengths, index=picked)}


def _unknown(tokenizer: Any, lengths: np.ndarray, unknown: np.ndarray) -> dict[str, Any]:
    """[UNK] share over the texts' own tokens (special tokens left out), rows with any."""
    own = int((lengths - tokenizer.num_special_tokens_to_add(pair=False)).sum())
    if tokenizer.unk_token_id is None:
        return {"unk_share": None, "rows_with_unk_share": None,
                "why": "this tokenizer has no unknown token (byte-level): every text is covered"}
    return {"unk_share": round(float(unknown.sum() / own), 4) if own else None,
            "rows_with_unk_share": _mean(unknown > 0), "why": None}


def _mean(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if len(flags) else None


def _cjk_share(texts: list[str]) -> float:
    from thresher.train.baseline import cjk_share

    return cjk_share(texts)


def _split_sections(data: ProfileData, tokens: dict[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Per split: rows, labels, character and token lengths; per label: the same lengths."""
    rows, lengths = data.rows, tokens["lengths"]
    char_edges = stats.length_edges(rows["chars"].to_numpy())
    token_edges = stats.length_edges(lengths.to_numpy()) if lengths is not None else None
    max_length = tokens["section"].get("max_length")

    def lengths_of(mask: pd.Series) -> dict[str, Any]:
        out = {"chars": stats.length_stats(rows.loc[mask, "chars"].to_numpy(), char_edges)}
        if lengths is not None:
            picked = lengths[mask.to_numpy()[lengths.index]].to_numpy()
            out["tokens"] = stats.length_stats(picked, token_edges)
            out["truncated_share"] = _mean(picked > max_length)
        return out

    labelled = "label" in rows
    splits = {split: {"rows": int((rows["split"] == split).sum()),
                      "labels": stats.label_stats(rows.loc[rows["split"] == split, "label"])
                      if labelled else None, **lengths_of(rows["split"] == split)}
              for split in data.order}
    if not labelled:
        return splits, None
    labels = stats.label_stats(rows["label"])
    labels["lengths"] = {lab: lengths_of(rows["label"] == lab) for lab in labels["counts"]}
    return splits, labels


def _duplicates(data: ProfileData, near_dup: bool, seed: int) -> dict[str, Any]:
    from thresher.ops.dedup_exact import dedup_key

    keyed = data.rows.assign(key=[dedup_key(t) for t in data.rows["text"]])
    found = stats.duplicate_stats(keyed, data.order)
    if near_dup:
        found["near"] = stats.near_duplicate_stats(keyed, data.order, seed)
        found["near_why"] = None
    else:
        found["near"], found["near_why"] = None, "near-duplicate search was turned off"
    return found


def _vocabulary(counts: words.WordCounts) -> dict[str, Any]:
    every = set().union(*counts.by_split.values()) if counts.by_split else set()
    return {"words": len(every), "per_split": {s: len(c) for s, c in counts.by_split.items()},
            "tokens": int(sum(sum(c.values()) for c in counts.by_split.values())),
            "rows": counts.rows, "chinese_rows": counts.chinese_rows, "sampled": counts.sampled,
            "segmenter": "jieba for Chinese texts, runs of letters and digits otherwise",
            "note": f"words counted on a seeded sample of {counts.rows:,} of {counts.of_rows:,} "
                    "rows" if counts.sampled else None}


def _word_section(data: ProfileData, counts: words.WordCounts) -> dict[str, Any] | None:
    if data.label_column is None:
        return None
    return {"top": words.top_words(counts), "giveaways": words.giveaway_words(counts),
            "label_mentions": words.label_mentions(data.rows["text"].iloc[counts.index],
                                                   data.rows["label"].iloc[counts.index]),
            "rows": counts.rows, "sampled": counts.sampled,
            "method": "rows containing each word; giveaways by the log-odds ratio with an "
                      "informative Dirichlet prior (Monroe et al. 2008), z-scores, words in at "
                      f"least {words.MIN_COUNT} rows, stop words left out"}


def _shift(data: ProfileData, counts: words.WordCounts) -> dict[str, Any]:
    """Train against each later split: labels, lengths, vocabulary overlap."""
    rows, found = data.rows, {}
    base = data.order[0]
    for other in data.order[1:]:
        a, b = rows[rows["split"] == base], rows[rows["split"] == other]
        if a.empty or b.empty:
            found[f"{base}/{other}"] = {"why": f"the {base if a.empty else other} split is empty"}
            continue
        found[f"{base}/{other}"] = {
            **stats.shift_tests(a, b),
            "vocabulary": words.vocabulary_overlap(counts.by_split.get(base, {}),
                                                   counts.by_split.get(other, {}))}
    return {"pairs": found, "p_threshold": stats.SHIFT_P,
            "why": None if found else "one split only: profile a run folder to compare train "
                                      "with validation and test"}


def _json_safe(value: Any) -> Any:
    """numpy scalars to Python; NaN/inf to None as a last guard (write_json refuses them):
    every statistic that can be undefined is already None with a ``why`` next to it."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def profile_warnings(found: Profile) -> list[str]:
    """Plain sentences for what a user should act on before training."""
    out: list[str] = []
    for check in (_warn_tokens, _warn_imbalance, _warn_duplicates, _warn_conflicts,
                  _warn_giveaways, _warn_mentions, _warn_shift, _warn_pii):
        out += check(found)
    return out


def _where(split: str) -> str:
    return "the data" if split == "all" else split


def _rows_word(n: int, thing: str = "row") -> str:
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%" if share >= 0.01 else f"{100 * share:.1f}%"


def _warn_tokens(found: Profile) -> list[str]:
    tok, out = found.tokenizer, []
    if tok.get("unk_share") is not None and tok["unk_share"] > WARN_UNK:
        from thresher.train.baseline import CJK_THRESHOLD

        hint = ("e.g. gemma3-270m for Chinese" if tok["chinese_share"] >= CJK_THRESHOLD
                else "one trained on this text's language")
        out.append(f"the tokenizer of {tok['backbone']} turns {_pct(tok['unk_share'])} of tokens "
                   f"into {tok['unk_token']}: it does not cover this text's language; choose a "
                   f"backbone that does, {hint}")
    if tok.get("truncated_share") is not None and tok["truncated_share"] > WARN_TRUNCATED:
        out.append(f"{_pct(tok['truncated_share'])} of texts are longer than max_length="
                   f"{tok['max_length']} tokens of {tok['backbone']} and would be cut (p95: "
                   f"{tok['lengths']['p95']:.0f} tokens); raise train.max_length if their ends "
                   "matter")
    return out


def _warn_imbalance(found: Profile) -> list[str]:
    split = "train" if "train" in found.splits else next(iter(found.splits))
    labels = found.splits[split]["labels"]
    ratio = labels["imbalance"]["ratio"] if labels else None
    if ratio is None or ratio <= WARN_IMBALANCE:
        return []
    big, small = labels["imbalance"]["largest"], labels["imbalance"]["smallest"]
    return [f"the labels are imbalanced in {_where(split)}: '{big}' has {ratio:.1f} times the rows "
            f"of '{small}'; set train.imbalance: class_weights (or resample) in the recipe, or "
            f"collect more '{small}' rows"]


def _warn_duplicates(found: Profile) -> list[str]:
    dup, out = found.duplicates, []
    for split, within in dup["within"].items():
        if within["rate"] is not None and within["rate"] > WARN_DUPLICATES:
            out.append(f"{_rows_word(within['duplicate_rows'])} of {_where(split)} "
                       f"({_pct(within['rate'])}) repeat another row's text exactly; add "
                       "dedup_exact to the recipe's steps")
    near = (dup.get("near") or {}).get("across", {})
    for pair, exact in dup["across"].items():
        close = near.get(pair, {}).get("rows", 0)
        if exact["rows"] + close:
            a, b = pair.split("/")
            verb = "appears" if exact["rows"] + close == 1 else "appear"
            out.append(f"{_rows_word(exact['rows'] + close)} of {b} also {verb} in {a} "
                       f"({exact['rows']:,} exactly, {close:,} nearly): scores on {b} will be "
                       "optimistic; deduplicate (dedup_exact, dedup_near) before the split")
    return out


def _warn_conflicts(found: Profile) -> list[str]:
    conflicts = found.duplicates.get("conflicting_labels")
    if not conflicts or not conflicts["texts"]:
        return []
    verb = "appears" if conflicts["texts"] == 1 else "appear"
    return [f"{_rows_word(conflicts['texts'], 'text')} {verb} under more than one label "
            f"({_rows_word(conflicts['rows'])}): fix their labels, or drop them (dedup_exact "
            "with conflicts: drop_all)"]


def _warn_giveaways(found: Profile) -> list[str]:
    if not found.words:
        return []
    strong = [(g, label) for label, found_words in found.words["giveaways"].items()
              for g in found_words
              if g["share_in_label"] >= GIVEAWAY_SHARE and g["coverage"] >= GIVEAWAY_COVERAGE]
    strong.sort(key=lambda pair: -pair[0]["coverage"])
    if not strong:
        return []
    shown = "; ".join(f"'{g['word']}' is in {_pct(g['coverage'])} of '{label}' rows and "
                      f"{_pct(g['share_in_label'])} of its rows are '{label}'"
                      for g, label in strong[:3])
    return [f"giveaway words: {shown}. A model can learn such a word instead of the task: check "
            "that it is not an artefact of how the data was collected"]


def _warn_mentions(found: Profile) -> list[str]:
    if not found.words:
        return []
    out = []
    for label, m in found.words["label_mentions"]["labels"].items():
        other = m["share_other_labels"] or 0.0
        if m["share"] is not None and m["share"] >= WARN_MENTION and m["share"] >= 2 * other:
            out.append(f"{_pct(m['share'])} of '{label}' rows contain the word '{label}' (other "
                       f"rows: {_pct(other)}): the text may give its label away")
    return out


def _warn_shift(found: Profile) -> list[str]:
    out = []
    for pair, test in found.shift["pairs"].items():
        parts = []
        labels, lengths = test.get("labels"), test.get("lengths")
        if labels and labels["shift"]:
            parts.append(f"label distribution (chi-square p = {labels['p_value']:.2g}, "
                         f"Cramér's V {labels['cramers_v']:.2f})")
        if lengths and lengths["shift"]:
            parts.append(f"text length (KS p = {lengths['p_value']:.2g}, D = "
                         f"{lengths['ks_statistic']:.2f}; median {lengths['median_a']:.0f} vs "
                         f"{lengths['median_b']:.0f} characters)")
        if parts:
            a, b = pair.split("/")
            out.append(f"{b} differs from {a} in {' and '.join(parts)}: its scores may not "
                       f"reflect {a}'s data; re-split, or check how {b} was collected")
    return out


def _warn_pii(found: Profile) -> list[str]:
    if not found.pii["rows"]:
        return []
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in found.pii["counts"].items())
    return [f"personal data in {_rows_word(found.pii['rows'])} ({kinds}): add the pii step "
            "(mode: redact) to the recipe's steps"]
