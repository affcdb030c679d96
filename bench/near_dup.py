"""Near-duplicate detection: thresher's dedup_near against datasketch, on real texts.

Data: real sentences from ../shared/data (English SST-2 reviews, English TREC questions, which
share a few templates and so test false positives, Chinese ChnSentiCorp hotel reviews, Chinese
THUCNews headlines). For each set and edit rate, N originals are drawn
(seeded); half of them get copies: at rate 0 one exact copy, otherwise three copies, one
with character edits, one with word edits and one with punctuation/whitespace/case changes,
each touching ``rate`` of the characters (or words). Rows are shuffled.

Ground truth: a copy belongs to its original's cluster; every other row is alone.
Quality: pairwise precision / recall / F1 over clusters, the same for every tool: a pair of
rows is "found" when the tool puts both in one cluster (connected components of the pairs it
reports), "true" when both are in one true cluster. ``exactJ`` is the same score for exact
Jaccard >= threshold (what MinHash approximates); ``fidelity`` is a tool's pairwise F1 against
those exact-Jaccard clusters. Both tools use the same shingles
(``thresher.ops.minhash.shingle_set``), threshold and num_perm; datasketch picks its own bands
x rows (its default optimiser), thresher its recall-leaning ones (it verifies candidates).

Speed: docs/s of the whole path from raw text to clusters (shingling, hashing, LSH,
components), best of ``--repeats``, as wall time and as CPU time of the process (steadier on a
shared machine). datasketch runs MinHash.bulk with xxh32 as hash function (faster than its
default sha1) and an insertion session, in one process (it has no parallel mode); thresher
runs in one process and in two (a warm pool of 2 workers holding the operator, as the local
engine's workers do, then ``decide`` in the parent).

    .venv/bin/python bench/near_dup.py --docs 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import random
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thresher.ops.dedup_exact import dedup_key
from thresher.ops.dedup_near import DedupNear, cluster_rows
from thresher.ops.minhash import shingle_set

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
OUT = Path(__file__).resolve().parent / "results" / "near_dup.json"
RATES = (0.0, 0.05, 0.10, 0.20)
KINDS = ("char", "word", "punct")
BATCH = 500  # rows per signature_batch call (the engines use 1000; 500 balances 2 workers)


# --- data -------------------------------------------------------------------------------------

def load(dataset: str) -> list[str]:
    """Real texts of one set, distinct after normalisation, long enough to edit."""
    if dataset == "en-sst2":
        lines = (DATA / "eda" / "sst2" / "train_orig.txt").read_text("utf-8").splitlines()
        texts = [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]
        texts = [t for t in texts if len(t.split()) >= 8]
    elif dataset == "en-trec":  # questions from a few templates: hard negatives
        lines = (DATA / "eda" / "trec" / "train_orig.txt").read_text("utf-8").splitlines()
        texts = [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]
        texts = [t for t in texts if len(t.split()) >= 6]
    elif dataset == "zh-reviews":
        frame = pd.read_csv(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv")
        texts = [t.strip() for t in frame["review"].dropna().astype(str)]
        texts = [t for t in texts if len(t) >= 15]
    elif dataset == "zh-titles":
        lines = (DATA / "thucnews_titles" / "dev.txt").read_text("utf-8").splitlines()
        texts = [line.split("\t", 1)[0].strip() for line in lines]
        texts = [t for t in texts if len(t) >= 12]
    else:
        raise ValueError(dataset)
    seen, out = set(), []
    for t in texts:
        if (key := dedup_key(t)) not in seen:
            seen.add(key)
            out.append(t)
    return out


class Editor:
    """Seeded edits: characters, words, or punctuation/whitespace/case only."""

    EN_PUNCT, ZH_PUNCT = list(",.!?;:'\"-"), list("，。！？、；：“”…,.! ")

    def __init__(self, texts: list[str], chinese: bool, rng: random.Random) -> None:
        self.chinese, self.rng = chinese, rng
        self.chars = sorted({c for t in texts for c in t if c.isalpha()})
        self.words = sorted({w for t in texts[:3000] for w in self.split(t)})

    def split(self, text: str) -> list[str]:
        if not self.chinese:
            return text.split()
        import jieba

        jieba.setLogLevel(60)
        return jieba.lcut(text)

    def join(self, words: list[str]) -> str:
        return ("" if self.chinese else " ").join(words)

    def edit(self, text: str, kind: str, rate: float) -> str:
        if rate == 0:
            return text
        return getattr(self, f"_{kind}")(text, rate)

    def _count(self, n: int, rate: float) -> int:
        return max(1, round(n * rate))

    def _char(self, text: str, rate: float) -> str:
        chars = list(text)
        for _ in range(self._count(len(text), rate)):
            i, op = self.rng.randrange(len(chars)), self.rng.choice("sid")
            if op == "s":
                chars[i] = self.rng.choice(self.chars)
            elif op == "i":
                chars.insert(i, self.rng.choice(self.chars))
            elif len(chars) > 1:
                del chars[i]
        return "".join(chars)

    def _word(self, text: str, rate: float) -> str:
        words = self.split(text)
        for _ in range(self._count(len(words), rate)):
            i, op = self.rng.randrange(len(words)), self.rng.choice("sidw")
            if op == "s":
                words[i] = self.rng.choice(self.words)
            elif op == "i":
                words.insert(i, self.rng.choice(self.words))
            elif op == "d" and len(words) > 1:
                del words[i]
            elif i + 1 < len(words):
                words[i], words[i + 1] = words[i + 1], words[i]
        return self.join(words)

    def _punct(self, text: str, rate: float) -> str:
        """Punctuation and spaces at word boundaries, case changes, full/half-width forms."""
        if self.chinese:
            chars = list(text)
            for _ in range(self._count(len(text), rate)):
                i = self.rng.randrange(len(chars) + 1)
                punct = [j for j, c in enumerate(chars) if not c.isalnum()]
                if punct and self.rng.random() < 0.4:
                    del chars[self.rng.choice(punct)]
                else:
                    chars.insert(i, self.rng.choice(self.ZH_PUNCT))
            return "".join(chars)
        words = text.split()
        for _ in range(self._count(len(text), rate)):
            i, op = self.rng.randrange(len(words)), self.rng.choice("pcs")
            if op == "p":
                words[i] += self.rng.choice(self.EN_PUNCT)
            elif op == "c":
                words[i] = words[i].upper() if self.rng.random() < 0.3 else words[i].capitalize()
            else:
                words[i] += " "
        return re.sub(r"^ +", "", " ".join(words))


def build(dataset: str, originals: list[str], rate: float, seed: int) -> pd.DataFrame:
    rng = random.Random(f"{dataset}:{rate}:{seed}")
    editor = Editor(originals, dataset.startswith("zh"), rng)
    rows = [(t, i, "original") for i, t in enumerate(originals)]
    for i in rng.sample(range(len(originals)), len(originals) // 2):
        for kind in (("exact",) if rate == 0 else KINDS):
            rows.append((editor.edit(originals[i], kind, rate), i, kind))
    rng.shuffle(rows)
    return pd.DataFrame({"id": [f"r{k}" for k in range(len(rows))], "text": [r[0] for r in rows],
                         "truth": [r[1] for r in rows], "kind": [r[2] for r in rows]})


# --- the two tools ----------------------------------------------------------------------------

def run_thresher(op: DedupNear, table: pd.DataFrame, pool=None) -> np.ndarray:
    """Row -> cluster representative row, through the operator's two halves."""
    chunks = [{"text": table["text"].iloc[s:s + BATCH].tolist()}
              for s in range(0, len(table), BATCH)]
    parts = map(op.signature_batch, chunks) if pool is None else pool.map(_sign, chunks)
    keys = pd.concat([pd.DataFrame(k) for k in parts], ignore_index=True)
    keys["_row"] = range(len(table))
    keys["id"] = table["id"].to_numpy()
    cluster = op.decide(keys).columns["cluster"]
    return pd.Index(table["id"]).get_indexer(cluster)


_WORKER_OP: DedupNear | None = None  # a worker's operator, set once when the pool starts


def _start_worker(op: DedupNear) -> None:
    """As the local engine does: the operator goes to each worker once and stays there, so its
    MinHash scratch buffer is allocated once, not per task."""
    global _WORKER_OP
    _WORKER_OP = op


def _sign(chunk: dict) -> dict:
    assert _WORKER_OP is not None
    return _WORKER_OP.signature_batch(chunk)


def run_datasketch(table: pd.DataFrame, threshold: float, num_perm: int, tokens: str,
                   ngram: int | None, seed: int,
                   params: tuple[int, int] | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    shingles = [[s.encode("utf-8") for s in shingle_set(t, tokens, ngram)] for t in table["text"]]
    hashes = MinHash.bulk(shingles, num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
    with lsh.insertion_session() as session:
        for k, m in enumerate(hashes):
            session.insert(k, m, check_duplication=False)
    i, j = [], []
    for k, m in enumerate(hashes):
        for other in lsh.query(m):
            if other != k:
                i.append(k)
                j.append(other)
    return cluster_rows(len(table), np.array(i, dtype=np.int64),
                        np.array(j, dtype=np.int64)), (lsh.b, lsh.r)


# --- scoring ----------------------------------------------------------------------------------

def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def exact_clusters(table: pd.DataFrame, threshold: float, tokens: str,
                   ngram: int | None) -> np.ndarray:
    """What both tools approximate: components of the pairs whose exact Jaccard >= threshold."""
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for k, text in enumerate(table["text"]):
        for s in shingle_set(text, tokens, ngram):
            rows.append(k)
            cols.append(vocab.setdefault(s, len(vocab)))
    x = csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)),
                   shape=(len(table), len(vocab)))
    shared = (x @ x.T).tocoo()
    size = np.asarray(x.sum(axis=1)).ravel()
    upper = shared.row < shared.col
    i, j, both = shared.row[upper], shared.col[upper], shared.data[upper]
    close = both / (size[i] + size[j] - both) >= threshold
    return cluster_rows(len(table), i[close], j[close])


def fidelity(exact: np.ndarray, rep: np.ndarray) -> float:
    """Pairwise F1 of a tool's clusters against the exact-Jaccard clusters."""
    both = _pairs(pd.Series(list(zip(exact, rep, strict=True))).value_counts())
    found, true = _pairs(pd.Series(rep).value_counts()), _pairs(pd.Series(exact).value_counts())
    return round(2 * both / (found + true), 4) if found + true else 1.0


def score(table: pd.DataFrame, rep: np.ndarray) -> dict[str, float]:
    truth, pred = table["truth"].to_numpy(), rep
    both = _pairs(pd.Series(list(zip(truth, pred, strict=True))).value_counts())
    found, true = _pairs(pd.Series(pred).value_counts()), _pairs(pd.Series(truth).value_counts())
    p = both / found if found else 1.0
    r = both / true if true else 1.0
    out = {"precision": round(p, 4), "recall": round(r, 4),
           "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    original = {t: k for k, (t, kind) in enumerate(zip(truth, table["kind"], strict=True))
                if kind == "original"}
    for kind in ("exact", *KINDS):
        rows = np.flatnonzero(table["kind"].to_numpy() == kind)
        if len(rows):
            hit = [pred[k] == pred[original[truth[k]]] for k in rows]
            out[f"recall_{kind}"] = round(float(np.mean(hit)), 4)
    return out


def timed(fn, repeats: int):
    """(best wall seconds, best CPU seconds of this process, result) over ``repeats`` runs."""
    wall = cpu = float("inf")
    result = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, result


# --- main -------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="originals per set and rate")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=None, help="default: dedup_near's")
    parser.add_argument("--num-perm", type=int, default=None)
    parser.add_argument("--ngram", type=int, default=None)
    parser.add_argument("--bands", type=int, default=None, help="with --rows; both tools use them")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--no-verify", action="store_true", help="thresher without verification")
    parser.add_argument("--datasets", default="en-sst2,en-trec,zh-reviews,zh-titles")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    op = DedupNear(**{k: v for k, v in [("threshold", args.threshold),
                                        ("num_perm", args.num_perm),
                                        ("ngram", args.ngram), ("bands", args.bands),
                                        ("rows", args.rows)] if v is not None},
                  verify=not args.no_verify)
    op.check()
    settings = op.resolved()
    results = []
    print(HEADER)
    with multiprocessing.get_context("fork").Pool(2, initializer=_start_worker,
                                                  initargs=(op,)) as pool:
        pool.map(_sign, [{"text": ["warm up"]}] * 2)
        warm = build("en-sst2", ["a warm up text", "another one"], 0.0, 0)
        run_thresher(op, warm)  # imports and caches, outside the timings
        run_datasketch(warm, op.threshold, op.num_perm, op.tokens, op.ngram, 1)
        for dataset in args.datasets.split(","):
            texts = load(dataset)
            random.Random(args.seed).shuffle(texts)
            for rate in RATES:
                table = build(dataset, texts[:args.docs], rate, args.seed)
                results.append(compare(dataset, rate, table, op, pool, args.repeats))
                print(_line(results[-1]), flush=True)
    summary = {tool: {k: round(float(np.mean([r[tool][k] for r in results])), 4)
                      for k in ("precision", "recall", "f1", "fidelity_f1", "docs_per_s",
                                "docs_per_cpu_s")
                      if k in results[0][tool]}
               for tool in ("exact_jaccard", "thresher", "thresher_2proc", "datasketch")}
    report = {"settings": settings, "docs": args.docs, "repeats": args.repeats,
              "seed": args.seed, "machine": {"cpus": multiprocessing.cpu_count(),
                                             "python": platform.python_version()},
              "rows": results, "mean": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print("mean:", json.dumps(summary))


def compare(dataset: str, rate: float, table: pd.DataFrame, op: DedupNear, pool,
            repeats: int) -> dict:
    s = op.resolved()
    t1, c1, rep1 = timed(lambda: run_thresher(op, table), repeats)
    t2, _, rep2 = timed(lambda: run_thresher(op, table, pool), repeats)
    assert (rep1 == rep2).all(), "thresher's result depends on the number of processes"
    fixed = (op.bands, op.rows) if op.bands is not None and op.rows is not None else None
    td, cd, (rep_d, params) = timed(lambda: run_datasketch(table, op.threshold, op.num_perm,
                                                       op.tokens, op.ngram, 1, fixed), repeats)
    n = len(table)
    exact = exact_clusters(table, op.threshold, op.tokens, op.ngram)
    row = {"dataset": dataset, "rate": rate, "rows": n,
           "exact_jaccard": score(table, exact),
           "thresher": {**score(table, rep1), "fidelity_f1": fidelity(exact, rep1),
                        "docs_per_s": round(n / t1), "docs_per_cpu_s": round(n / c1),
                        "bands_rows": [s["bands"], s["rows"]]},
           "thresher_2proc": {**score(table, rep2), "docs_per_s": round(n / t2)},
           "datasketch": {**score(table, rep_d), "fidelity_f1": fidelity(exact, rep_d),
                          "docs_per_s": round(n / td), "docs_per_cpu_s": round(n / cd),
                          "bands_rows": list(params)}}
    return row


HEADER = (f"{'dataset':<10} {'rate':>4} {'rows':>5} | {'exactJ':>6} | {'thresher P/R/F1':^17} | "
          f"{'datasketch P/R/F1':^17} | {'fidelity':^11} | {'thresher docs/s':^22} | "
          f"{'datasketch':^13} | speedup\n{'':<24}| {'F1':>6} | {'':17} | {'':17} | "
          f"{'thr':>5} {'ds':>5} | {'1p':>6} {'1p cpu':>7} {'2p':>6} | {'wall':>6} {'cpu':>6} | "
          f"2p/wall cpu/cpu")


def _line(row: dict) -> str:
    t, t2, d = row["thresher"], row["thresher_2proc"], row["datasketch"]

    def prf(x: dict) -> str:
        return f"{x['precision']:.3f} {x['recall']:.3f} {x['f1']:.3f}"

    return (f"{row['dataset']:<10} {row['rate']:>4.2f} {row['rows']:>5} | "
            f"{row['exact_jaccard']['f1']:>6.3f} | {prf(t)} | {prf(d)} | "
            f"{t['fidelity_f1']:>5.3f} {d['fidelity_f1']:>5.3f} | {t['docs_per_s']:>6} "
            f"{t['docs_per_cpu_s']:>7} {t2['docs_per_s']:>6} | {d['docs_per_s']:>6} "
            f"{d['docs_per_cpu_s']:>6} | {t2['docs_per_s'] / d['docs_per_s']:>6.1f}x "
            f"{t['docs_per_cpu_s'] / d['docs_per_cpu_s']:>4.1f}x")


if __name__ == "__main__":
    main()
