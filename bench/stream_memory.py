"""Memory and speed of the local engine on an input larger than it may hold: a 2 GB JSONL.

The input is built from the benchmark corpus's real English and Chinese texts (bench/corpus.py):
each normal document gets a second sentence from the same language drawn at random, so
documents stay short (one review or headline or one or two sentences, plus one more) and
nearly all are distinct; the corpus's own duplicates, spam, short rows and mojibake stay in.
It is written once under bench/.cache/.

thresher then runs a cleaning recipe (normalize, filter_length, dedup_exact; no split; --steps
picks some of them) on it with the local engine, in a subprocess. While it runs, the RSS of the whole process tree
(driver + workers) is summed every 0.2 s, and the PSS (shared pages counted once, split
between the processes sharing them) every 2 s, both read from /proc. After fork the workers share the
driver's pages, so the RSS sum counts those pages more than once; PSS is what the machine
really gave the run. The target: peak under 2 GB for a 2 GB input.

    .venv/bin/python bench/stream_memory.py                       # 2 GB, all cores
    .venv/bin/python bench/stream_memory.py --docs 100000 --num-proc 1   # throughput, small

Prints a table and writes bench/results/stream_memory.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from corpus import CACHE, Generator  # noqa: E402  (bench/ is not a package)

RESULTS = BENCH / "results"
STEPS = {"normalize": {}, "filter_length": {"min_chars": 5, "max_chars": 2000}, "dedup_exact": {}}
RECENT = 100_000  # the generator keeps earlier documents to copy; bound that list
RUNNER = """
import json, sys, time
import thresher
from thresher.recipe import parse_recipe
raw, out, num_proc = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
result = thresher.run(parse_recipe(raw), out, num_proc=num_proc)
print(json.dumps({"seconds": time.perf_counter() - start, "rows": result.manifest["rows"],
                  "steps": [{k: s[k] for k in ("name", "rows_in", "rows_out", "rejected", "seconds")}
                            for s in result.manifest["steps"]]}))
"""


def build_input(size_bytes: int | None, docs: int | None, seed: int = 13) -> tuple[Path, int]:
    """A JSONL of short en+zh documents of about ``size_bytes`` (or ``docs`` rows), cached."""
    name = f"stream-{docs}docs" if docs else f"stream-{size_bytes / 2**30:g}gb"
    path = CACHE / f"{name}-seed{seed}.jsonl"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())["docs"]
    path.parent.mkdir(parents=True, exist_ok=True)
    generator, written, count = Generator(seed), 0, 0
    english = [s[0] for s in generator.english]
    titles = [s[0] for s in generator.titles]
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        while (docs and count < docs) or (not docs and written < size_bytes):
            doc = generator.document()
            if doc["kind"] == "normal":  # one more sentence: distinct documents at any size
                extra = generator.rng.choice(english if doc["lang"] == "en" else titles)
                doc = {**doc, "text": f"{doc['text']} {extra}"}
            line = json.dumps({"id": f"d{count:09d}", **doc}, ensure_ascii=False) + "\n"
            handle.write(line)
            written += len(line.encode("utf-8"))
            count += 1
            if len(generator.normal) > 2 * RECENT:
                del generator.normal[:RECENT]
    tmp.rename(path)
    meta.write_text(json.dumps({"docs": count, "bytes": written}))
    return path, count


def tree_memory(pid: int, pss: bool) -> dict[int, tuple[int, int]]:
    """{pid: (RSS, PSS or 0)} in bytes for ``pid`` and all its descendants.

    Read from /proc directly (statm, smaps_rollup): psutil's full memory info parses every
    mapping and would take a good share of a core away from the run it measures.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        pids = [pid, *(c.pid for c in root.children(recursive=True))]
    except psutil.NoSuchProcess:
        return {}
    page = os.sysconf("SC_PAGE_SIZE")
    found = {}
    for p in pids:
        try:
            rss = int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            found[p] = (rss, _pss(p) if pss else 0)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) << 10
    return 0


def run_once(path: Path, num_proc: int, out: Path, steps: list[str]) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)  # a finished run folder would be skipped, not re-run
    raw = {"input": {"path": str(path), "text": "text", "label": "label", "id": "id"},
           "steps": [{name: STEPS[name]} for name in steps]}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(raw), str(out), str(num_proc)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"rss": 0, "pss": 0, "driver_rss": 0, "worker_rss": 0, "processes": 0}
    timeline, samples = [], 0
    while proc.poll() is None:
        found = tree_memory(proc.pid, pss=samples % 10 == 0)
        rss, pss = sum(v[0] for v in found.values()), sum(v[1] for v in found.values())
        workers = [v[0] for p, v in found.items() if p != proc.pid]
        peak = {"rss": max(peak["rss"], rss), "pss": max(peak["pss"], pss),
                "driver_rss": max(peak["driver_rss"], found.get(proc.pid, (0, 0))[0]),
                "worker_rss": max([peak["worker_rss"], *workers]),
                "processes": max(peak["processes"], len(found))}
        if samples % 10 == 0:
            timeline.append([round(time.perf_counter() - start, 1), rss >> 20, pss >> 20,
                             found.get(proc.pid, (0, 0))[0] >> 20, len(found)])
        samples += 1
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"thresher failed:\n{stderr[-3000:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return {"wall_seconds": round(time.perf_counter() - start, 1),
            "run_seconds": round(report["seconds"], 1), "peak_rss_mb": peak["rss"] >> 20,
            "peak_pss_mb": peak["pss"] >> 20, "peak_driver_rss_mb": peak["driver_rss"] >> 20,
            "peak_worker_rss_mb": peak["worker_rss"] >> 20, "processes": peak["processes"],
            "rows": report["rows"], "steps": report["steps"],
            "timeline_s_rss_pss_driver_mb_processes": timeline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--docs", type=int, default=None, help="rows instead of a size")
    parser.add_argument("--num-proc", type=int, default=os.cpu_count())
    parser.add_argument("--steps", nargs="+", default=list(STEPS), choices=list(STEPS))
    parser.add_argument("--out", type=Path, default=RESULTS / "stream_memory.json")
    args = parser.parse_args()
    path, docs = build_input(int(args.size_gb * 2**30), args.docs)
    size_mb = path.stat().st_size >> 20
    result = run_once(path, args.num_proc, CACHE / "stream-run", args.steps)
    result.update({"input": str(path.relative_to(BENCH)), "input_mb": size_mb, "docs": docs,
                   "num_proc": args.num_proc, "recipe_steps": args.steps,
                   "docs_per_s": round(docs / result["run_seconds"]),
                   "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}})
    print(f"input {size_mb:,d} MB, {docs:,d} docs, num_proc={args.num_proc}")
    print(f"{'run s':>8} {'docs/s':>9} {'peak RSS MB':>12} {'peak PSS MB':>12} {'driver MB':>10} "
          f"{'worker MB':>10} {'processes':>10}")
    print(f"{result['run_seconds']:>8} {result['docs_per_s']:>9,d} {result['peak_rss_mb']:>12,d} "
          f"{result['peak_pss_mb']:>12,d} {result['peak_driver_rss_mb']:>10,d} "
          f"{result['peak_worker_rss_mb']:>10,d} {result['processes']:>10}")
    for step in result["steps"]:
        print(f"  {step['name']:14s} {step['rows_in']:>11,d} -> {step['rows_out']:>11,d}  "
              f"{step['seconds']:8.1f} s  {step['rejected']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
