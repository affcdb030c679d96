"""YAML recipe -> small frozen dataclasses, validated before any data is read."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from thresher.errors import RecipeError
from thresher.ops import OPERATORS, Operator
from thresher.records import TASKS
from thresher.settings import check_settings

__all__ = ["AugmentSpec", "AuditSpec", "EvaluateSpec", "InputSpec", "ProfileSpec", "Recipe",
           "SplitSpec", "StepSpec", "load_recipe", "parse_recipe"]

TOP_KEYS = ("name", "task", "seed", "input", "steps", "split", "profile", "audit", "augment",
            "train", "evaluate", "report")


@dataclass(frozen=True)
class InputSpec:
    path: str  # a file, a folder, an http(s):// URL, or hf:NAME[:CONFIG]
    text: str | None = None  # column roles; inferred when omitted
    label: str | None = None
    id: str | None = None
    format: str | None = None  # csv, tsv, jsonl, json, parquet, txt, folder, conll, hf
    text_pair: str | None = None  # sentence pairs: the column of each row's second text
    encoding: str | None = None  # detected when omitted
    # tasks sft and seq2seq; format may name the shape: openai, sharegpt, alpaca, qa, chatlog
    conversation: str | None = None  # chat logs: the conversation id column
    speaker: str | None = None  # chat logs: who said it, mapped to a role by `roles`
    timestamp: str | None = None  # chat logs: orders the turns of a conversation
    roles: dict[str, str] | None = None  # speaker -> system, user or assistant
    merge_turns: bool = True  # chat logs: consecutive turns of one role become one turn
    system: str | None = None  # sft: a system prompt put first where a conversation has none
    question: str | None = None  # Q/A tables: the question, answer and context columns
    answer: str | None = None
    context: str | None = None


CHAT_TASKS = ("sft", "seq2seq")
# InputSpec fields that only chat data reads (thresher.io.chat_reader.ChatOptions)
CHAT_INPUT = ("conversation", "speaker", "timestamp", "roles", "merge_turns", "system", "question",
              "answer", "context")
# profile and audit read a text and a label column (thresher.quality); ner rows have tokens and
# tags, sft and seq2seq rows no label: without this check they fail after the data stage
HEALTH_TASKS = ("classification", "multilabel")


@dataclass(frozen=True)
class SplitSpec:
    validation: float = 0.1
    test: float = 0.1
    stratify: bool = True
    seed: int = 13
    group_by: str | None = "auto"  # equal values share a split; "auto": `cluster` if present
    leakage_check: bool = True  # look for near-duplicates across train / validation / test
    leakage_threshold: float = 0.8  # similarity in (0, 1] from which two texts count as leaked
    decontaminate: str | None = None  # an external evaluation set (path, relative to the recipe)
    on_contamination: Literal["report", "drop"] = "report"  # rows close to that set


@dataclass(frozen=True)
class ProfileSpec:
    """`profile:` after the split: the data's health, before any training (profile.json)."""

    tokenizer: str | None = None  # a backbone spec; None: the train section's model, if any
    max_length: int | None = None  # None: the train section's, else 128
    near_dup: bool = True


@dataclass(frozen=True)
class AuditSpec:
    """`audit:` after the split: likely label errors, outliers, near-duplicates (audit/)."""

    features: str = "tfidf"  # tfidf, minilm, tfidf+minilm, or an encoder folder
    folds: int = 5
    filter_by: Literal["prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
                       "predicted_neq_given", "low_self_confidence",
                       "low_normalized_margin"] = "prune_by_noise_rate"  # cleanlab's rules
    format: Literal["csv", "jsonl"] = "csv"


@dataclass(frozen=True)
class AugmentSpec:
    """`augment:` after the split, on the training rows only (data/augmented.parquet)."""

    augmenters: tuple[dict[str, Any], ...] = ({"eda": {}},)  # each `name: {settings}`
    n_aug: int | Literal["auto"] = "auto"  # variants per row; auto: EDA's table by train size
    min_prob: float = 0.5  # reference classifier's probability of the parent's label; 0: off
    min_similarity: float = 0.2  # Jaccard of shingles with the parent: below, a different text
    max_similarity: float = 0.95  # above: a copy
    near_threshold: float = 0.8  # near-duplicates of validation/test rows are dropped (leakage)


@dataclass(frozen=True)
class EvaluateSpec:
    split: Literal["test", "validation"] = "test"


@dataclass(frozen=True)
class StepSpec:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Operator:
        return OPERATORS[self.name](**self.settings)


@dataclass(frozen=True)
class Recipe:
    task: str
    input: InputSpec
    steps: tuple[StepSpec, ...] = ()
    split: SplitSpec | None = None
    profile: ProfileSpec | None = None
    audit: AuditSpec | None = None
    augment: AugmentSpec | None = None
    train: Any = None  # thresher.train.TrainConfig, imported lazily (torch-free recipes)
    evaluate: EvaluateSpec | None = None
    report: bool = False
    seed: int = 13
    name: str = "run"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.raw, default=str))

    def section_hash(self, *keys: str) -> str:
        """A fingerprint of the named recipe sections, for skipping finished stages."""
        picked = {k: self.raw.get(k) for k in keys}
        blob = json.dumps(picked, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a YAML recipe; relative input paths are relative to the recipe."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError("recipe file not found", where=str(path),
                          fix="pass the path of a YAML recipe (see examples/ in the repository)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RecipeError(f"not valid YAML ({getattr(exc, 'problem', exc)})", where=where,
                          fix="check indentation and quoting on that line") from None
    except UnicodeDecodeError:
        raise RecipeError("recipe is not UTF-8 text", where=str(path),
                          fix="save the recipe as UTF-8") from None
    return parse_recipe(raw, base_dir=path.parent, where=str(path))


def parse_recipe(raw: Any, base_dir: Path | None = None, where: str = "recipe") -> Recipe:
    """Validate a recipe given as a mapping (what the YAML file holds)."""
    if not isinstance(raw, dict):
        raise RecipeError("a recipe must be a mapping of sections", where=where,
                          fix="start from the example in the README")
    for key in raw:
        if key not in TOP_KEYS:
            raise RecipeError(f"unknown section '{key}'", where=where,
                              fix=f"allowed sections: {', '.join(TOP_KEYS)}")
    task = raw.get("task", "classification")
    if task not in TASKS:
        raise RecipeError(f"unknown task {task!r}", where=f"{where}: task",
                          fix=f"allowed tasks: {', '.join(TASKS)}")
    seed = raw.get("seed", 13)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise RecipeError(f"seed must be an integer, got {seed!r}", where=f"{where}: seed")
    _check_pair(raw, task, where)
    _check_chat_input(raw, task, where)
    _check_health(raw, task, where)
    return Recipe(
        task=task,
        input=_input(raw.get("input"), base_dir, where),
        steps=_steps(raw.get("steps"), task, where, base_dir),
        split=_unlabelled_split(_section(SplitSpec, raw, "split", where, base_dir), raw, task, where),
        profile=_section(ProfileSpec, raw, "profile", where),
        audit=_section(AuditSpec, raw, "audit", where),
        augment=_augment(raw, task, where),
        train=_train(raw, task, where),
        evaluate=_section(EvaluateSpec, raw, "evaluate", where),
        report="report" in raw,
        seed=seed,
        name=str(raw.get("name", "run")),
        raw=dict(raw),
    )


def _input(section: Any, base_dir: Path | None, where: str) -> InputSpec:
    if isinstance(section, str):
        section = {"path": section}
    if not isinstance(section, dict) or "path" not in section:
        raise RecipeError("the input section needs a path", where=f"{where}: input",
                          fix="write `input: {path: data.csv}`")
    spec = InputSpec(**check_settings(InputSpec, section, f"{where}: input"))
    remote = spec.path.startswith(("http://", "https://", "hf:"))
    if base_dir is not None and not remote and not Path(spec.path).is_absolute():
        spec = dataclasses.replace(spec, path=str((base_dir / spec.path).resolve()))
    return spec


def _steps(section: Any, task: str, where: str, base_dir: Path | None = None
           ) -> tuple[StepSpec, ...]:
    if section is None:
        return ()
    if not isinstance(section, list):
        raise RecipeError("steps must be a list", where=f"{where}: steps",
                          fix="write each step as `- name: {settings}`")
    steps = []
    for i, item in enumerate(section, 1):
        name, settings = _step_item(item, f"{where}: steps[{i}]")
        here = f"{where}: steps[{i}] {name}"
        cls = OPERATORS[name]
        if _data_task(task) not in cls.tasks:
            raise RecipeError(f"step '{name}' does not apply to task {task!r}", where=here)
        spec = StepSpec(name, _resolve_files(cls, check_settings(cls, settings, here), base_dir))
        _run_check(spec.build(), here)
        steps.append(spec)
    return tuple(steps)


def _resolve_files(cls: type, settings: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """Settings an operator names in ``files`` are paths relative to the recipe, like input."""
    resolved = dict(settings)
    for key in getattr(cls, "files", ()):
        value = resolved.get(key)
        if isinstance(value, str):
            resolved[key] = _relative_to(value, base_dir)
        elif isinstance(value, list):  # several files (decontaminate: eval_files)
            resolved[key] = [_relative_to(v, base_dir) if isinstance(v, str) else v
                             for v in value]
    return resolved


def _relative_to(path: str, base_dir: Path | None) -> str:
    if base_dir is None or Path(path).is_absolute() or "://" in path:
        return path
    return str((base_dir / Path(path).expanduser()).resolve())


def _step_item(item: Any, where: str) -> tuple[str, Any]:
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, dict) or len(item) != 1:
        raise RecipeError("each step is one `name: {settings}` mapping", where=where,
                          fix="e.g. `- filter_length: {min_chars: 2}`")
    name, settings = next(iter(item.items()))
    if name not in OPERATORS:
        raise RecipeError(f"unknown step '{name}'", where=where,
                          fix=f"known steps: {', '.join(sorted(OPERATORS))}")
    return name, settings


def _run_check(op: Operator, where: str) -> None:
    check = getattr(op, "check", None)
    if check is None:
        return
    try:
        check()
    except ValueError as exc:
        raise RecipeError(str(exc), where=where) from None


def _section(cls: type, raw: dict[str, Any], key: str, where: str,
             base_dir: Path | None = None) -> Any:
    if key not in raw:
        return None
    settings = check_settings(cls, raw[key], f"{where}: {key}")
    spec = cls(**settings)
    if isinstance(spec, SplitSpec):
        spec = _check_split(spec, f"{where}: {key}", base_dir)
    if isinstance(spec, AuditSpec) and spec.folds < 2:
        raise RecipeError(f"folds must be at least 2, got {spec.folds}",
                          where=f"{where}: audit.folds", fix="e.g. folds: 5")
    return spec


def _augment(raw: dict[str, Any], task: str, where: str) -> AugmentSpec | None:
    section = raw.get("augment")
    if section is None:
        return None
    here = f"{where}: augment"
    if task not in ("classification", "ner") or _has_pair(raw):
        raise RecipeError("augment applies to ner and single-text classification so far",
                          where=here, fix="remove the augment section for this task")
    if "split" not in raw:
        raise RecipeError("augment needs a split section (only the train split is augmented)",
                          where=here, fix="add `split: {validation: 0.1, test: 0.1}`")
    if not isinstance(section, dict):
        section = check_settings(AugmentSpec, section, here)  # the same message as elsewhere
    settings = dict(section)
    default = [{"ner": {}}] if task == "ner" else list(AugmentSpec.augmenters)
    entries = settings.pop("augmenters", default)
    settings = check_settings(AugmentSpec, settings, here)
    if not isinstance(entries, (list, tuple)) or not entries:
        raise RecipeError("augmenters must be a non-empty list of `name: {settings}`",
                          where=f"{here}.augmenters", fix="e.g. augmenters: [{eda: {}}]")
    spec = AugmentSpec(**{**settings, "augmenters": tuple(_augmenter_entry(e, here)
                                                          for e in entries)})
    from thresher.augment.stage import build_augmenter, check_task_augmenters

    check_task_augmenters([next(iter(e)) for e in spec.augmenters], task, f"{here}.augmenters")
    for entry in spec.augmenters:
        (name, options), = entry.items()
        build_augmenter(name, options, train_rows=5000)  # unknown names and bad settings
    if not 0 <= spec.min_prob <= 1 or not 0 <= spec.min_similarity <= spec.max_similarity <= 1:
        raise RecipeError("min_prob and the similarity band must lie in [0, 1], min <= max",
                          where=here)
    return spec


def _augmenter_entry(entry: Any, where: str) -> dict[str, Any]:
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise RecipeError("each augmenter is one `name: {settings}` mapping",
                          where=f"{where}.augmenters", fix="e.g. - eda: {alpha_sr: 0.05}")
    (name, options), = entry.items()
    return {str(name): dict(options or {})}


def _has_pair(raw: dict[str, Any]) -> bool:
    section = raw.get("input")
    return isinstance(section, dict) and section.get("text_pair") is not None


def _check_split(spec: SplitSpec, where: str, base_dir: Path | None = None) -> SplitSpec:
    """Check the fractions and the leakage settings; resolve ``decontaminate`` like input.path."""
    for name in ("validation", "test"):
        value = getattr(spec, name)
        if not 0 <= value < 1:
            raise RecipeError(f"{name} must be a fraction in [0, 1), got {value}", where=where)
    if spec.validation + spec.test >= 1:
        raise RecipeError("validation + test must leave rows for training", where=where,
                          fix="e.g. validation: 0.1, test: 0.1")
    if not 0 < spec.leakage_threshold <= 1:
        raise RecipeError(f"leakage_threshold must be in (0, 1], got {spec.leakage_threshold}",
                          where=f"{where}.leakage_threshold", fix="e.g. leakage_threshold: 0.8")
    if spec.decontaminate is None:
        return spec
    path = Path(spec.decontaminate).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = (base_dir / path).resolve()
    if not path.exists():
        raise RecipeError(f"decontaminate file not found: {path}", where=f"{where}.decontaminate",
                          fix="give the path of an evaluation set, relative to the recipe file")
    return dataclasses.replace(spec, decontaminate=str(path))


def _data_task(task: str) -> str:
    """Multilabel rows have the classification columns, so classification steps apply."""
    return "classification" if task == "multilabel" else task


def _check_pair(raw: dict[str, Any], task: str, where: str) -> None:
    section = raw.get("input")
    pair = section.get("text_pair") if isinstance(section, dict) else None
    if pair is None:
        return
    if task in ("ner", *CHAT_TASKS):
        raise RecipeError(f"text_pair does not apply to task {task!r}",
                          where=f"{where}: input.text_pair",
                          fix="remove text_pair, or use task: classification or multilabel")
    if not section.get("text"):
        raise RecipeError("text_pair needs the first text's column named too",
                          where=f"{where}: input.text_pair",
                          fix=f"add `text: <column>` next to `text_pair: {pair}`")


def _check_chat_input(raw: dict[str, Any], task: str, where: str) -> None:
    """The chat options fit the task, and roles name real roles, before any data is read."""
    section = raw.get("input")
    if not isinstance(section, dict):
        return
    chat = task in CHAT_TASKS
    for key in [k for k in (("label", "id") if chat else CHAT_INPUT) if k in section]:
        why = ("sft and seq2seq rows have no label, and their ids are made from the content" if chat
               else "it applies to tasks sft and seq2seq")
        raise RecipeError(f"input.{key} does not apply to task {task!r}", where=f"{where}: input.{key}",
                          fix=f"remove {key} ({why})")
    if task == "seq2seq" and "system" in section:
        raise RecipeError("input.system applies to task sft", where=f"{where}: input.system",
                          fix="remove system, or write the instruction into each input")
    roles = section.get("roles")
    for speaker, role in (roles.items() if isinstance(roles, dict) else ()):
        if role not in ("system", "user", "assistant"):
            raise RecipeError(f"roles maps {speaker!r} to {role!r}", where=f"{where}: input.roles.{speaker}",
                              fix="map each speaker to system, user or assistant")


def _check_health(raw: dict[str, Any], task: str, where: str) -> None:
    """`profile:` and `audit:` only where their rows are: a text and a label."""
    for key in ("profile", "audit"):
        if key in raw and task not in HEALTH_TASKS:
            hint = (f"; `thresher inspect --task {task} FILE` describes this data"
                    if task in CHAT_TASKS else "")
            raise RecipeError(f"{key} applies to tasks classification and multilabel (rows with a "
                              f"text and a label), not {task!r}", where=f"{where}: {key}",
                              fix=f"remove the {key} section{hint}")


def _unlabelled_split(spec: SplitSpec | None, raw: dict[str, Any], task: str, where: str
                      ) -> SplitSpec | None:
    """sft and seq2seq rows have no label: their split is random (or grouped), never stratified."""
    if spec is None or task not in CHAT_TASKS:
        return spec
    if isinstance(raw.get("split"), dict) and raw["split"].get("stratify") is True:
        raise RecipeError(f"stratify does not apply to task {task!r} (its rows have no label)",
                          where=f"{where}: split.stratify",
                          fix="remove stratify (the split is random), or keep related rows "
                              "together with group_by: <column>")
    return dataclasses.replace(spec, stratify=False)


def _train(raw: dict[str, Any], task: str, where: str) -> Any:
    if "train" not in raw:
        return None
    if "split" not in raw:
        raise RecipeError("training needs a split section", where=f"{where}: train",
                          fix="add `split: {validation: 0.1, test: 0.1}`")
    from thresher.train import TrainConfig

    settings = dict(check_settings(TrainConfig, raw["train"], f"{where}: train"))
    if task in ("sft", "seq2seq"):  # LoRA on a causal LM wants ~10x the full-tuning rate
        settings.setdefault("learning_rate", 2e-4)
        if settings.get("model") == "baseline":
            raise RecipeError(f"task {task} has no baseline model", where=f"{where}: train.model",
                              fix="use a causal LM, e.g. model: smollm2 (the offline default)")
    config = TrainConfig(**settings)
    config.validate().check_task(task)
    return config
