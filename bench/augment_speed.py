"""EDA speed: thresher's augmenters against nlpaug (and TextAttack where it runs), side by side.

Data (../shared/data): 10,000 SST-2 training sentences (the 7,447 of ``eda/sst2/train_orig.txt``
then the first ones again) and 10,000 ChnSentiCorp hotel reviews (the 7,765 non-empty reviews
of ``ChnSentiCorp_htl_all.csv``, then the first ones again).

English, one variant per sentence (nlpaug makes one per call): thresher ``Eda`` with only
random swap, only random deletion, and all four operations (synonyms included; each variant
one operation, as in the paper), alpha = p = 0.1; nlpaug ``RandomWordAug`` swap and delete with
``aug_p=0.1`` (its swap trades neighbours, EDA's any two words), called once per sentence.
nlpaug ``SynonymAug(aug_src="wordnet")`` and TextAttack's ``EasyDataAugmenter`` run when they
can offline; otherwise the reason is recorded.

Chinese: thresher ``Eda`` (all four operations, Cilin synonyms) at n_aug = 1, 4, 8, 16
(variants per second: jieba runs once per review), against nlpaug swap with
``tokenizer=jieba.lcut`` (one variant, so one segmentation, per call). For reference, jieba
alone: ``posseg.lcut(HMM=False)`` (thresher's one call per review) and ``lcut`` (nlpaug's).

Every system runs ``--repeats`` times, interleaved (each repeat runs all systems once), so a
busy neighbour slows them alike; the table gives the median wall-clock rate and the median
CPU-time rate of this process (steadier on a shared machine), and ratios are medians of the
per-repeat ratios. Setup (WordNet table, Cilin index, jieba dictionary) is timed apart; every
thresher run starts with empty per-word synonym memos, as a fresh process would.

    .venv/bin/python bench/augment_speed.py                 # 10k + 10k, 3 repeats
    .venv/bin/python bench/augment_speed.py --n 2000 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from thresher._files import write_json
from thresher.augment import Eda

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
OUT = Path(__file__).resolve().parent / "results" / "augment_speed.json"
ZH_N_AUG = (1, 4, 8, 16)
TARGETS = (  # (what, system, baseline, at least this many times as fast)
    ("swap >= 10x nlpaug swap", "thresher_rs", "nlpaug_swap", 10.0),
    ("delete >= 10x nlpaug delete", "thresher_rd", "nlpaug_delete", 10.0),
    ("all four EDA operations >= nlpaug swap", "thresher_eda4", "nlpaug_swap", 1.0),
    ("Chinese EDA >= 5x nlpaug+jieba (n_aug=16)", "thresher_zh_16", "nlpaug_zh_swap", 5.0),
    ("Chinese EDA >= 5x nlpaug+jieba (n_aug=8)", "thresher_zh_8", "nlpaug_zh_swap", 5.0),
    ("Chinese EDA >= 5x nlpaug+jieba (n_aug=4)", "thresher_zh_4", "nlpaug_zh_swap", 5.0),
    ("Chinese EDA >= 5x nlpaug+jieba (n_aug=1)", "thresher_zh_1", "nlpaug_zh_swap", 5.0),
)


def load(n: int) -> tuple[list[str], list[str]]:
    lines = (DATA / "eda" / "sst2" / "train_orig.txt").read_text("utf-8").splitlines()
    english = [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]
    reviews = pd.read_csv(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv")["review"]
    chinese = [t.strip() for t in reviews.dropna().astype(str) if t.strip()]
    return (english * (n // len(english) + 1))[:n], (chinese * (n // len(chinese) + 1))[:n]


def cold(eda: Eda) -> Eda:
    """Empty the per-word synonym memos, as in a fresh process (the tables stay loaded)."""
    from thresher.augment import eda as eda_module
    from thresher.augment import wordnet

    eda_module._EN_MEMO.clear()
    eda_module._ZH_MEMO.clear()
    wordnet._SYNONYMS.clear()
    return eda


def english_systems(texts: list[str]) -> tuple[dict[str, tuple[Callable[[], Any], int]],
                                                dict[str, str]]:
    """name -> (run once, variants made), and name -> why it is left out."""
    systems: dict[str, tuple[Callable[[], Any], int]] = {
        "thresher_rs": (lambda: cold(Eda(operations=["rs"])).augment(texts, 1), len(texts)),
        "thresher_rd": (lambda: cold(Eda(operations=["rd"])).augment(texts, 1), len(texts)),
        "thresher_eda4": (lambda: cold(Eda()).augment(texts, 1), len(texts)),
        "thresher_eda4_n4": (lambda: cold(Eda()).augment(texts, 4), 4 * len(texts)),
    }
    skipped: dict[str, str] = {}
    try:
        import nlpaug.augmenter.word as naw
    except ImportError:
        skipped["nlpaug"] = "nlpaug is not installed (pip install nlpaug)"
        return systems, skipped
    swap = naw.RandomWordAug(action="swap", aug_p=0.1)
    delete = naw.RandomWordAug(action="delete", aug_p=0.1)
    systems["nlpaug_swap"] = (lambda: [swap.augment(t) for t in texts], len(texts))
    systems["nlpaug_delete"] = (lambda: [delete.augment(t) for t in texts], len(texts))
    synonym = _try("nlpaug_synonym", skipped, lambda: _nlpaug_synonym(naw))
    if synonym is not None:
        systems["nlpaug_synonym"] = (lambda: [synonym.augment(t) for t in texts], len(texts))
    eda = _try("textattack_eda", skipped, _textattack)
    if eda is not None:
        systems["textattack_eda"] = (lambda: [eda.augment(t) for t in texts], len(texts))
    return systems, skipped


def _try(name: str, skipped: dict[str, str], make: Callable[[], Any]) -> Any:
    """The peer ready to run on one sentence, or None with the first line of why not."""
    try:
        peer = make()
        peer.augment("the movie was a great pleasure to watch")
        return peer
    except Exception as exc:  # any failure of a peer's offline set-up is a result, not a crash
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if "Resource" in line), lines[0] if lines else "")
        skipped[name] = f"{type(exc).__name__}: {detail}"[:400]
        return None


def _nlpaug_synonym(naw: Any) -> Any:
    import nltk

    from thresher.augment.wordnet import load_wordnet

    load_wordnet()  # puts the offline WordNet folder on NLTK's path
    # SynonymAug also POS-tags every sentence with NLTK's perceptron tagger; without it, it
    # tries a download: check first so that the bench never reaches for the network
    nltk.data.find("taggers/averaged_perceptron_tagger_eng")
    return naw.SynonymAug(aug_src="wordnet", aug_p=0.1)


def _textattack() -> Any:
    try:
        from textattack.augmentation import EasyDataAugmenter
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"{exc}; tried in a scratch install: textattack 0.3.11 imports flair (0.15.1 fails "
            "with transformers 5: LayoutLMv2FeatureExtractor is gone) and NLTK's 'stopwords' "
            "corpus at import (a download)") from None

    return EasyDataAugmenter(pct_words_to_swap=0.1, transformations_per_example=1)


def chinese_systems(texts: list[str]) -> tuple[dict[str, tuple[Callable[[], Any], int]],
                                                dict[str, str]]:
    systems: dict[str, tuple[Callable[[], Any], int]] = {
        f"thresher_zh_{k}": ((lambda k=k: cold(Eda()).augment(texts, k)), k * len(texts))
        for k in ZH_N_AUG}
    skipped: dict[str, str] = {}
    try:
        import jieba
        import nlpaug.augmenter.word as naw
    except ImportError as exc:
        skipped["nlpaug_zh_swap"] = f"not installed: {exc.name}"
        return systems, skipped
    import jieba.posseg

    swap = naw.RandomWordAug(action="swap", aug_p=0.1, tokenizer=jieba.lcut,
                             reverse_tokenizer="".join)
    systems["nlpaug_zh_swap"] = (lambda: [swap.augment(t) for t in texts], len(texts))
    # the floor under both: segmentation alone (thresher's call, and nlpaug's tokenizer)
    systems["jieba_posseg_only"] = (
        lambda: [jieba.posseg.lcut(t, HMM=False) for t in texts], len(texts))
    systems["jieba_lcut_only"] = (lambda: [jieba.lcut(t) for t in texts], len(texts))
    return systems, skipped


def measure(systems: dict[str, tuple[Callable[[], Any], int]], repeats: int
            ) -> dict[str, dict[str, Any]]:
    """Interleaved repeats; per system the wall and CPU seconds of every repeat."""
    runs: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in systems}
    for _ in range(repeats):
        for name, (run, _) in systems.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            runs[name]["cpu"].append(time.process_time() - cpu)
            runs[name]["wall"].append(time.perf_counter() - wall)
    result = {}
    for name, (_, made) in systems.items():
        wall, cpu = runs[name]["wall"], runs[name]["cpu"]
        result[name] = {"variants": made, "wall_s": wall, "cpu_s": cpu,
                        "per_s_wall": made / statistics.median(wall),
                        "per_s_cpu": made / statistics.median(cpu)}
    return result


def ratio(results: dict[str, dict[str, Any]], system: str, baseline: str, clock: str
          ) -> float | None:
    """Median over repeats of (system's rate / baseline's rate) on one clock."""
    if system not in results or baseline not in results:
        return None
    a, b = results[system], results[baseline]
    return statistics.median((a["variants"] / x) / (b["variants"] / y)
                             for x, y in zip(a[f"{clock}_s"], b[f"{clock}_s"]))


def setup_seconds(english: list[str], chinese: list[str]) -> dict[str, float]:
    """First calls, which load the WordNet table, stop words, Cilin and jieba."""
    times = {}
    for name, texts in (("english_first_call_s", english[:50]), ("chinese_first_call_s",
                                                                 chinese[:50])):
        start = time.perf_counter()
        Eda().augment(texts, 1)
        times[name] = round(time.perf_counter() - start, 3)
    return times


def print_table(results: dict[str, dict[str, Any]], skipped: dict[str, str]) -> None:
    print(f"{'system':<20} {'variants':>9} {'wall /s':>10} {'cpu /s':>10}")
    for name, row in results.items():
        print(f"{name:<20} {row['variants']:>9} {row['per_s_wall']:>10.0f} "
              f"{row['per_s_cpu']:>10.0f}")
    for name, why in skipped.items():
        print(f"{name:<20} skipped: {why}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="sentences per language")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    english, chinese = load(args.n)
    load_before = os.getloadavg()
    setup = setup_seconds(english, chinese)
    en_systems, en_skipped = english_systems(english)
    zh_systems, zh_skipped = chinese_systems(chinese)
    Eda().augment(english[:20], 2)  # warm: no timed run pays a first-use cost
    Eda().augment(chinese[:20], 2)
    results = measure({**en_systems, **zh_systems}, args.repeats)
    skipped = {**en_skipped, **zh_skipped}
    print_table(results, skipped)
    targets = []
    for what, system, baseline, times in TARGETS:
        row: dict[str, Any] = {"target": what, "system": system, "baseline": baseline,
                               "times": times}
        for clock in ("wall", "cpu"):
            value = ratio(results, system, baseline, clock)
            row[f"ratio_{clock}"] = None if value is None else round(value, 2)
        row["met"] = None if row["ratio_cpu"] is None else bool(
            row["ratio_cpu"] >= times and row["ratio_wall"] >= times)
        if row["met"] is None:
            row["why"] = "a system was skipped"
        targets.append(row)
        print(f"{what:<45} wall x{row['ratio_wall']}  cpu x{row['ratio_cpu']}  "
              f"{'met' if row['met'] else 'NOT met' if row['met'] is False else 'n/a'}")
    report = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg(),
                    "note": "shared machine (other jobs running): compare ratios from this run, "
                            "not absolute rates across runs"},
        "settings": {"n": args.n, "repeats": args.repeats, "alpha": 0.1, "zh_n_aug": ZH_N_AUG},
        "setup": setup, "results": results, "skipped": skipped, "targets": targets,
    }
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
