"""How long `thresher profile` takes on 100k short texts, end to end, and where the time goes.

The data: every sentence of the EDA sets SST-2, SUBJ and TREC (train_orig.txt), every
ChnSentiCorp hotel review and every THUCNews dev headline (~39.7k real rows, about 44% of
them Chinese), topped up to N rows with lightly edited copies (an English word gets an "s", a
Chinese text a different end mark), so the file also holds near duplicates, exact duplicates
and texts under two labels, like real scraped data. Labels: the set and its class
("sst2-1", "trec-4", "hotel-pos", the THUCNews topic). Written once to bench/.cache/.

Each repeat runs the CLI in a fresh process, as a user would:
``thresher profile FILE -o OUT --tokenizer minilm`` (profile.json, plots and profile.html),
and records wall seconds, CPU seconds of the process (user + system; steadier than wall time
on a shared machine) and the load average before it. The per-part seconds come from the
profile.json of each run; plots and HTML are timed once more in this process from that JSON.

    PYTHONPATH=src .venv/bin/python bench/profile_speed.py                 # 100k rows, 3 runs
    PYTHONPATH=src .venv/bin/python bench/profile_speed.py --rows 20000 --repeat 1

Prints a table and writes bench/results/profile_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SHARED = BENCH.parents[1] / "shared" / "data"
CACHE = BENCH / ".cache"
END_MARKS = "！。!?…"


def real_rows() -> list[tuple[str, str]]:
    """(text, label) of every source row used."""
    import pandas as pd

    rows = []
    for name in ("sst2", "subj", "trec"):
        lines = (SHARED / "eda" / name / "train_orig.txt").read_text(encoding="utf-8")
        for line in lines.splitlines():
            label, _, text = line.partition("\t")
            if text.strip():
                rows.append((text.strip(), f"{name}-{label}"))
    hotel = pd.read_csv(SHARED / "chnsenticorp" / "ChnSentiCorp_htl_all.csv")
    rows += [(t, "hotel-pos" if lab == 1 else "hotel-neg")
             for lab, t in zip(hotel["label"], hotel["review"]) if isinstance(t, str) and t.strip()]
    topics = (SHARED / "thucnews_titles" / "class.txt").read_text(encoding="utf-8").split()
    for line in (SHARED / "thucnews_titles" / "dev.txt").read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        rows.append((text, topics[int(label)]))
    return rows


def edited(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) > 3:  # English: one word gets a plural "s"
        i = rng.randrange(len(words))
        words[i] += "s"
        return " ".join(words)
    return text.rstrip(END_MARKS) + rng.choice(END_MARKS)  # Chinese: another end mark


def build(rows: int, seed: int = 13) -> Path:
    """The benchmark CSV (text, label) with ``rows`` rows, built once."""
    import pandas as pd

    path = CACHE / f"profile_speed_{rows}_{seed}.csv"
    if path.is_file():
        return path
    rng = random.Random(seed)
    source = real_rows()
    out = list(source)
    while len(out) < rows:
        text, label = rng.choice(source)
        out.append((edited(text, rng), label))
    rng.shuffle(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out[:rows], columns=["text", "label"]).to_csv(path, index=False)
    return path


def cli() -> list[str]:
    script = Path(sys.executable).with_name("thresher")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "thresher.cli.main"]


def run_once(data: Path, out: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*cli(), "profile", str(data), "-o", str(out), "--tokenizer", "minilm"],
                   check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    profile = json.loads((out / "profile.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_before": round(load, 2),
            "parts_s": profile["seconds"], "notes": profile["notes"]}


def draw_time(out: Path) -> dict[str, float]:
    """Plots and HTML again from the last profile.json, in this process."""
    from thresher.quality.profile_html import render_profile_html
    from thresher.quality.profile_plots import write_profile_plots

    p = json.loads((out / "profile.json").read_text(encoding="utf-8"))
    start = time.perf_counter()
    write_profile_plots(p, out / "plots-again")
    plots = time.perf_counter() - start
    start = time.perf_counter()
    render_profile_html(p, {})
    return {"plots_s": round(plots, 2), "html_s": round(time.perf_counter() - start, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "profile_speed.json")
    args = parser.parse_args()
    data = build(args.rows)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            runs.append(run_once(data, Path(tmp) / f"run{k}"))
            print(f"run {k + 1}: {runs[-1]['wall_s']:.1f} s wall, {runs[-1]['cpu_s']:.1f} s CPU "
                  f"(load before {runs[-1]['load_before']:.1f})", flush=True)
        drawn = draw_time(Path(tmp) / f"run{args.repeat - 1}")
    result = {"rows": args.rows, "data": str(data), "machine": {
                  "cpus": os.cpu_count(), "python": platform.python_version(),
                  "platform": platform.platform()},
              "command": "thresher profile FILE -o OUT --tokenizer minilm",
              "median_wall_s": statistics.median(r["wall_s"] for r in runs),
              "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
              "runs": runs, "drawing": drawn}
    print(f"\n{'part':<12} " + " ".join(f"{'run ' + str(k + 1):>8}" for k in range(len(runs))))
    for part in runs[0]["parts_s"]:
        print(f"{part:<12} " + " ".join(f"{r['parts_s'].get(part, 0):8.2f}" for r in runs))
    print(f"{'plots':<12} {drawn['plots_s']:8.2f}   (again, in this process)")
    print(f"\nmedian of {len(runs)}: {result['median_wall_s']:.1f} s wall, "
          f"{result['median_cpu_s']:.1f} s CPU for {args.rows:,} rows")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
