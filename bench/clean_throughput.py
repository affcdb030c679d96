"""Cleaning throughput: thresher vs datatrove vs Hugging Face datasets, same corpus, same run.

The corpus (bench/corpus.py) holds short English and Chinese documents from real texts, with
exact duplicates, PII, repetitive spam, very short rows and mojibake mixed in. Each system runs
in its own subprocess, one after the other, on the same machine:

* datatrove   JsonlReader -> FTFYFormatter -> LambdaFilter(length) -> GopherRepetitionFilter
              (dropped rows to an exclusion JsonlWriter) -> JsonlWriter;
              LocalPipelineExecutor(tasks=2, workers=2), input in 4 JSONL shards
* datasets    load_dataset("json", num_proc=2) -> map(ftfy) -> filter(length) -> filter(datatrove's
              GopherRepetitionFilter.filter on a Document) -> to_json; num_proc=2 throughout
* thresher    thresher.run with the same three steps: normalize, filter_length, filter_repetition
* thresher    the full typical recipe: + dedup_exact + pii

Both peers use datatrove's FTFYFormatter settings and English word splitting (spaCy's blank "en"
tokenizer, inside the spaCy wheel: nothing is downloaded), as a mixed-language datatrove
pipeline does by default. Writers are uncompressed JSONL for both peers; thresher writes its
run folder (Parquet data, rejects.parquet, manifest.json).

What is measured, per system and size:
* seconds: from spawning the subprocess until its pipeline has written its output, so interpreter
  start, imports, reading, worker pools and writing all count; the datasets run's Arrow cache
  building (load_dataset) is inside that total and also reported on its own;
* docs/s: input documents / seconds;
* peak memory: the largest sum of RSS over the subprocess and all its descendants (worker pools,
  datatrove's manager), sampled every 0.1 s with psutil while the pipeline runs. Pages shared
  after fork are counted once per process, so this over-states what the machine really used;
* cpu seconds: user + system time of that process tree, from the same samples (steadier than
  wall time on a shared machine; the load average before each run is recorded too);
* docs kept, and per language and kind what the repetition step kept of what reached it
  (datatrove: its output plus its exclusion writer's rows; datasets: rows before and after that
  filter; thresher: rows in minus that step's rejects).

    PYTHONPATH=src .venv/bin/python bench/clean_throughput.py                      # 100k docs
    PYTHONPATH=src .venv/bin/python bench/clean_throughput.py --sizes 100000 1000000
    PYTHONPATH=src .venv/bin/python bench/clean_throughput.py --sizes 20000 \
        --out bench/results/clean_throughput_smoke.json

Prints a table and writes bench/results/clean_throughput.json (machine, settings, every run).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from corpus import Corpus, build_corpus  # noqa: E402  (bench/ is not a package)

RESULTS = BENCH / "results"
WORK = BENCH / ".cache" / "work"
SYSTEMS = ("datatrove", "datasets", "thresher", "thresher_full")
MIN_CHARS, MAX_CHARS = 5, 2000
POLL_SECONDS = 0.1
DONE_FILE = "pipeline_done"  # a worker writes it (with the epoch time) when its pipeline ends

# This venv has torch (thresher's train extra), and spaCy's thinc imports torch whenever it is
# installed: 4-25 s more per datatrove worker here, which a cleaning-only environment never pays.
# Every system under test runs with torch hidden by this sitecustomize (--with-torch: not hidden).
HIDE_TORCH = '''"""Written by bench/clean_throughput.py: torch cannot be imported here."""
import sys


class _HideTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the benchmark)",
                                      name=name)
        return None


sys.meta_path.insert(0, _HideTorch())
'''


# ---------------------------------------------------------------- peers (run inside a worker)

def length_ok(text: str) -> bool:
    return MIN_CHARS <= len(text) <= MAX_CHARS


def _keep_length(doc: Any) -> bool:  # datatrove LambdaFilter hook (module level: picklable)
    return length_ok(doc.text)


def run_datatrove(corpus: Corpus, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import GopherRepetitionFilter, LambdaFilter
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    pipeline = [
        JsonlReader(str(corpus.shard_dir), glob_pattern="*.jsonl"),
        FTFYFormatter(),
        LambdaFilter(_keep_length),
        GopherRepetitionFilter(
            exclusion_writer=JsonlWriter(str(work / "removed"), compression=None)),
        JsonlWriter(str(work / "output"), compression=None),
    ]
    executor = LocalPipelineExecutor(pipeline, tasks=args.workers, workers=args.workers,
                                     logging_dir=str(work / "logs"))
    executor.run()
    done = mark_done(work)
    kept = _jsonl_groups(work / "output")
    removed = _jsonl_groups(work / "removed")
    stats = json.loads((work / "logs" / "stats.json").read_text(encoding="utf-8"))
    return {"done": done, "docs_kept": sum(kept.values()),
            "repetition": repetition_summary(kept + removed, kept),
            "step_seconds": _datatrove_step_seconds(stats)}


def _jsonl_groups(folder: Path) -> Counter:
    groups: Counter = Counter()
    for path in folder.rglob("*.jsonl"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                meta = json.loads(line).get("metadata", {})
                groups[f"{meta.get('lang')}/{meta.get('kind')}"] += 1
    return groups


def _datatrove_step_seconds(stats: list[dict[str, Any]]) -> dict[str, float]:
    """Time per pipeline step, summed over tasks, from the executor's merged stats.json."""
    seconds = {}
    for step in stats:
        timing = step.get("time_stats") or {}
        total = timing.get("total", timing.get("sum"))
        if total is not None:
            seconds[step["name"]] = round(float(total), 2)
    return seconds


def run_datasets(corpus: Corpus, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import datasets

    datasets.disable_progress_bars()
    n = args.workers
    start = time.perf_counter()
    ds = datasets.load_dataset("json", data_files=[str(p) for p in corpus.shards], split="train",
                               cache_dir=str(work / "hf_cache"), num_proc=n)
    load_seconds = time.perf_counter() - start
    ds = ds.map(_ftfy_batch, batched=True, num_proc=n)
    ds = ds.filter(_length_batch, batched=True, num_proc=n)
    tick = time.perf_counter()
    before = Counter(_groups(ds))  # counting two small columns: excluded from the time below
    counting = time.perf_counter() - tick
    ds = ds.filter(_gopher_batch, batched=True, num_proc=n)
    ds.to_json(str(work / "output.jsonl"), num_proc=n, force_ascii=False)
    done = mark_done(work, minus=counting)
    after = Counter(_groups(ds))
    return {"done": done, "docs_kept": len(ds), "repetition": repetition_summary(before, after),
            "load_seconds": round(load_seconds, 2)}


def _groups(ds: Any) -> list[str]:
    columns = ds.select_columns(["lang", "kind"]).to_dict()
    return [f"{lang}/{kind}" for lang, kind in zip(columns["lang"], columns["kind"])]


_FTFY = None
_GOPHER = None


def _ftfy_batch(batch: dict[str, list]) -> dict[str, list]:
    global _FTFY
    if _FTFY is None:  # datatrove's FTFY settings, so both peers repair text the same way
        from datatrove.pipeline.formatters import FTFYFormatter

        _FTFY = FTFYFormatter()
    batch["text"] = [_FTFY.format(t) for t in batch["text"]]
    return batch


def _length_batch(batch: dict[str, list]) -> list[bool]:
    return [length_ok(t) for t in batch["text"]]


def _gopher_batch(batch: dict[str, list]) -> list[bool]:
    global _GOPHER
    from datatrove.data import Document

    if _GOPHER is None:
        from datatrove.pipeline.filters import GopherRepetitionFilter

        _GOPHER = GopherRepetitionFilter()
    return [_GOPHER.filter(Document(text=t, id=i)) is True
            for t, i in zip(batch["text"], batch["id"])]


# ---------------------------------------------------------------- thresher (inside a worker)

def thresher_steps(full: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The recipe's steps, leaving out (and naming) any operator not registered yet."""
    from thresher.ops import OPERATORS

    wanted: list[dict[str, Any]] = [
        {"normalize": {}},
        {"filter_length": {"min_chars": MIN_CHARS, "max_chars": MAX_CHARS}},
        {"filter_repetition": {}},
    ]
    if full:
        wanted += [{"dedup_exact": {"conflicts": "drop_all"}}, {"pii": {"mode": "redact"}}]
    steps = [s for s in wanted if next(iter(s)) in OPERATORS]
    missing = [next(iter(s)) for s in wanted if next(iter(s)) not in OPERATORS]
    return steps, missing


def run_thresher(corpus: Corpus, work: Path, args: argparse.Namespace,
                 full: bool = False) -> dict[str, Any]:
    import thresher
    from thresher.recipe import parse_recipe

    steps, missing = thresher_steps(full)
    raw = {"name": f"clean_throughput_{'full' if full else 'same'}", "task": "classification",
           "input": {"path": str(corpus.jsonl), "format": "jsonl", "text": "text",
                     "label": "label", "id": "id"},
           "steps": steps}
    parallel = "num_proc" in inspect.signature(thresher.run).parameters
    extra = {"num_proc": args.workers} if parallel else {}
    result = thresher.run(parse_recipe(raw), work / "run", **extra)
    done = mark_done(work)
    manifest = result.manifest
    return {"done": done, "docs_kept": manifest["rows"]["kept"], "missing_steps": missing,
            "num_proc": args.workers if parallel else None,
            "steps": [{k: s[k] for k in ("name", "rows_in", "rows_out", "rejected", "seconds",
                                         "info")} for s in manifest["steps"]],
            "repetition": _thresher_repetition(corpus, work / "run")}


def _thresher_repetition(corpus: Corpus, run: Path) -> dict[str, Any]:
    """What reached filter_repetition (rows in minus earlier rejects) and what it dropped."""
    import pandas as pd

    rejects = pd.read_parquet(run / "rejects.parquet", columns=["step", "record"])
    order = [s["name"] for s in json.loads((run / "manifest.json").read_text())["steps"]]
    if "filter_repetition" not in order:
        return {}
    earlier = set(order[:order.index("filter_repetition")])
    dropped_earlier, dropped_here = Counter(), Counter()
    for step, record in zip(rejects["step"], rejects["record"]):
        if step in earlier or step == "filter_repetition":
            row = json.loads(record)
            group = f"{row.get('lang')}/{row.get('kind')}"
            (dropped_here if step == "filter_repetition" else dropped_earlier)[group] += 1
    before = Counter({g: n - dropped_earlier[g] for g, n in corpus.counts.items()})
    return repetition_summary(before, before - dropped_here)


# ---------------------------------------------------------------- shared by the workers

def mark_done(work: Path, minus: float = 0.0) -> float:
    """Record when the pipeline ended (epoch seconds); the parent stops sampling memory here."""
    done = time.time() - minus
    (work / DONE_FILE).write_text(repr(done), encoding="utf-8")
    return done


def repetition_summary(before: Counter, after: Counter) -> dict[str, Any]:
    """Per "lang/kind" group: rows that reached the repetition step and rows it kept."""
    groups = {g: {"in": before[g], "kept": after.get(g, 0)} for g in sorted(before) if before[g]}

    def share(match: Any) -> float | None:
        n_in = sum(v["in"] for g, v in groups.items() if match(g))
        kept = sum(v["kept"] for g, v in groups.items() if match(g))
        return round(kept / n_in, 4) if n_in else None

    return {"groups": groups,
            "zh_kept": share(lambda g: g.startswith("zh/")),
            "zh_normal_kept": share(lambda g: g == "zh/normal"),
            "en_normal_kept": share(lambda g: g == "en/normal"),
            "spam_kept": share(lambda g: g.endswith("/spam"))}


WORKERS = {"datatrove": run_datatrove, "datasets": run_datasets, "thresher": run_thresher,
           "thresher_full": lambda c, w, a: run_thresher(c, w, a, full=True)}


def worker(args: argparse.Namespace) -> None:
    corpus = build_corpus(args.size, args.seed)
    result = WORKERS[args.worker](corpus, Path(args.work_dir), args)
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


# ---------------------------------------------------------------- parent: spawn and measure

def measure(system: str, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    """Run one system in a subprocess; time it, sample its process tree's memory and CPU."""
    import psutil

    work = WORK / f"{system}-n{corpus.size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result_path = work / "result.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system, "--size",
           str(corpus.size), "--seed", str(corpus.seed), "--workers", str(args.workers),
           "--work-dir", str(work), "--result", str(result_path)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(work / "hf_cache"), "TOKENIZERS_PARALLELISM": "false"}
    if not args.with_torch:
        hide = work / "hide_torch"
        hide.mkdir()
        (hide / "sitecustomize.py").write_text(HIDE_TORCH, encoding="utf-8")
        paths = [str(hide), env.get("PYTHONPATH", "")]
        env.update(PYTHONPATH=os.pathsep.join(p for p in paths if p), USE_TORCH="0", USE_TF="0")
    log = open(work / "worker.log", "w", encoding="utf-8")
    load = os.getloadavg()[0]  # a shared machine: say how busy it was
    spawned = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    peak, cpu = _sample_tree(proc, psutil, work / DONE_FILE)
    log.close()
    if proc.returncode != 0:
        tail = (work / "worker.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{system} failed (exit {proc.returncode}); log tail:\n{tail}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    seconds = result.pop("done") - spawned
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"system": system, "size": corpus.size, "seconds": round(seconds, 2),
            "docs_per_s": round(corpus.size / seconds, 1), "peak_rss_mb": round(peak / 2**20, 1),
            "cpu_seconds": round(cpu, 2), "load_avg_before": round(load, 2), **result}


def _sample_tree(proc: subprocess.Popen, psutil: Any, done_file: Path) -> tuple[int, float]:
    """Peak summed RSS of the process tree, and its CPU seconds (user + system, last value seen
    per process: up to one poll interval short per process), until the pipeline is done."""
    root, peak, cpu = psutil.Process(proc.pid), 0, {}
    while proc.poll() is None:
        if not done_file.exists():  # after the pipeline: result counting, not the pipeline's cost
            peak = max(peak, _tree_sample(root, psutil, cpu))
        time.sleep(POLL_SECONDS)
    return peak, sum(cpu.values())


def _tree_sample(root: Any, psutil: Any, cpu: dict[int, float]) -> int:
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    rss = 0
    for p in procs:
        try:
            with p.oneshot():
                rss += p.memory_info().rss
                times = p.cpu_times()
            cpu[p.pid] = max(cpu.get(p.pid, 0.0), times.user + times.system)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass  # a worker that ended between listing and reading
    return rss


def machine() -> dict[str, Any]:
    import psutil

    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("thresher", "datatrove", "datasets", "ftfy", "spacy", "pyarrow", "pandas"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001  a package that is not installed: just say so
            versions[name] = None
    return {"cpu": model, "cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions}


def summarize(runs: list[dict[str, Any]], systems: list[str], sizes: list[int]) -> dict[str, Any]:
    """Median per (system, size), the growth of time with size, and thresher's speed-up."""
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for system in systems:
        for size in sizes:
            mine = [r for r in runs if r["system"] == system and r["size"] == size]
            if mine:
                median = sorted(mine, key=lambda r: r["seconds"])[len(mine) // 2]
                table.setdefault(system, {})[size] = median
    growth = {}
    for system, by_size in table.items():
        ordered = sorted(by_size)
        if len(ordered) > 1:
            small, big = ordered[0], ordered[-1]
            ratio = by_size[big]["seconds"] / by_size[small]["seconds"]
            growth[system] = {"size_ratio": big / small, "time_ratio": round(ratio, 2)}
    speedup = {}
    for size in sizes:
        peers = [table[p][size]["docs_per_s"] for p in ("datatrove", "datasets")
                 if size in table.get(p, {})]
        if peers and size in table.get("thresher", {}):
            speedup[size] = round(table["thresher"][size]["docs_per_s"] / max(peers), 2)
    return {"table": table, "growth": growth, "thresher_vs_fastest_peer": speedup}


def print_table(summary: dict[str, Any], corpora: dict[int, Corpus]) -> None:
    head = (f"{'system':14s} {'docs':>9s} {'seconds':>8s} {'docs/s':>8s} {'cpu s':>7s} "
            f"{'peak MB':>8s} {'kept':>9s} {'zh kept*':>8s} {'zh ok*':>7s} {'en ok*':>7s} "
            f"{'spam*':>6s}")
    print(head)
    print("-" * len(head))
    for size in sorted(corpora):
        for system, by_size in summary["table"].items():
            r = by_size.get(size)
            if r is None:
                continue
            rep = r.get("repetition") or {}
            cells = [_pct(rep.get(k)) for k in ("zh_kept", "zh_normal_kept", "en_normal_kept",
                                                "spam_kept")]
            print(f"{system:14s} {size:>9,d} {r['seconds']:>8.1f} {r['docs_per_s']:>8,.0f} "
                  f"{r['cpu_seconds']:>7.1f} {r['peak_rss_mb']:>8,.0f} {r['docs_kept']:>9,d} "
                  f"{cells[0]:>8s} {cells[1]:>7s} {cells[2]:>7s} {cells[3]:>6s}")
    print("* share of what reached the repetition step that it kept: all Chinese rows, normal "
          "Chinese rows, normal English rows, spam rows (lower is better for spam)")
    for size, r in summary["table"].get("datatrove", {}).items():
        steps = r.get("step_seconds") or {}
        gopher = sum(v for k, v in steps.items() if "Gopher" in k)
        if steps and sum(steps.values()):
            print(f"datatrove at {size:,d} docs: the Gopher repetition step took "
                  f"{100 * gopher / sum(steps.values()):.0f}% of its step time")
    for size, r in summary["table"].get("datasets", {}).items():
        print(f"datasets at {size:,d} docs: load_dataset (building the Arrow cache) took "
              f"{r['load_seconds']:.1f} s of its {r['seconds']:.1f} s")
    for system, g in summary["growth"].items():
        print(f"growth {system}: {g['size_ratio']:.0f}x the documents took "
              f"{g['time_ratio']:.2f}x the time (linear = {g['size_ratio']:.0f}x)")
    for size, ratio in summary["thresher_vs_fastest_peer"].items():
        print(f"thresher (same 3 steps) vs the faster peer at {size:,d} docs: {ratio:.2f}x "
              f"(target >= 2x)")
    for size, by_system in _missing(summary).items():
        print(f"note: thresher ran without {', '.join(by_system)} at {size:,d} docs "
              f"(operator not registered)")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _missing(summary: dict[str, Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for by_size in summary["table"].values():
        for size, r in by_size.items():
            for name in r.get("missing_steps") or ():
                if name not in found.setdefault(size, []):
                    found[size].append(name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per system and size (median)")
    parser.add_argument("--workers", type=int, default=2, help="processes for every system")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep outputs in bench/.cache/work")
    parser.add_argument("--with-torch", action="store_true",
                        help="let the systems import torch (spaCy then loads it: slow start)")
    parser.add_argument("--out", type=Path, default=RESULTS / "clean_throughput.json")
    # internal: one system's run inside the measured subprocess
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    corpora, runs = {}, []
    for size in args.sizes:
        corpora[size] = build_corpus(size, args.seed)
        for system in args.systems:
            for _ in range(args.repeat):
                print(f"[{size:,d}] {system} ...", file=sys.stderr, flush=True)
                runs.append(measure(system, corpora[size], args))
    summary = summarize(runs, args.systems, args.sizes)
    print_table(summary, corpora)
    report = {"machine": machine(),
              "settings": {"workers": args.workers, "min_chars": MIN_CHARS,
                           "max_chars": MAX_CHARS, "repeat": args.repeat, "seed": args.seed,
                           "torch_hidden": not args.with_torch,
                           "memory": "peak sum of RSS over the worker process tree, psutil, "
                                     f"every {POLL_SECONDS} s",
                           "cpu": "user + system seconds of the worker process tree, last "
                                  f"psutil sample per process (every {POLL_SECONDS} s)"},
              "corpus": {size: {"folder": str(c.folder), "counts": c.counts,
                                "build_seconds": round(c.build_seconds, 2)}
                         for size, c in corpora.items()},
              "growth": summary["growth"],
              "thresher_vs_fastest_peer": summary["thresher_vs_fastest_peer"],
              "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
