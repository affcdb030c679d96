"""Benchmark corpus: N short English and Chinese documents built from real texts in ../shared/data.

Cleaning benchmarks need data on which every step has work, at sizes (10^5..10^6 rows) that no
real labelled set here reaches. So real sentences are recombined: English documents are one or
two sentences from the EDA sets (SST-2, SUBJ, CR, TREC, Pro/Con), Chinese documents are one
ChnSentiCorp hotel review or one to three THUCNews headlines. A seeded generator varies them
lightly (capitals, end punctuation) and mixes in the rows a cleaning recipe exists for:

* normal (~90%): real sentences, reviews, headlines; no step should drop them;
* duplicate (~5%): an exact copy of an earlier document (dedup_exact drops it);
* pii (~1%): a normal document plus an e-mail address or a phone number (pii masks it);
* spam (~2%): a spam phrase repeated 4-15 times (filter_repetition drops it);
* short (~1%): "ok", "好", "", ... (filter_length drops it);
* mojibake (~1%): a normal document's UTF-8 bytes read as Windows-1252 (ftfy repairs it).

About half of all documents are Chinese. Every row has ``id``, ``text``, ``label``, ``lang``
(en/zh), ``kind`` (above) and ``origin`` (the source set), so benchmarks can say what each
system kept per language and per kind. The corpus is written once per (size, seed, VERSION)
under bench/.cache/ as one JSONL file, the same rows in ``SHARDS`` JSONL shards (executors such
as datatrove parallelise over files) and one Parquet file.

    python bench/corpus.py --size 100000        # build (or find) and print the counts
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SHARED = BENCH.parents[1] / "shared" / "data"
CACHE = BENCH / ".cache"
VERSION = 2  # bump when the generator changes: cached corpora are keyed on it
SHARDS = 4

SHARES = {"duplicate": 0.05, "pii": 0.01, "spam": 0.02, "short": 0.01, "mojibake": 0.01}
EN_SETS = ("sst2", "subj", "cr", "trec", "pc")
MAX_REVIEW_CHARS = 300  # "short documents": longer ChnSentiCorp reviews are left out

SPAM_EN = ("buy now", "click here", "free followers", "best price guaranteed",
           "limited offer act now", "win a free iphone")
SPAM_ZH = ("加微信领红包", "点击链接免费领取", "好评返现", "低价出售", "私聊有惊喜",
           "扫码进群")
SHORT = ("ok", "good", "nice", "a", "好", "不错", "赞", "...", "", " ", "!!", "嗯")
EN_OPENERS = ("", "", "", "", "honestly, ", "overall, ", "in short, ", "i think ", "well, ",
              "to be fair, ", "so, ", "in my opinion ")
ZH_OPENERS = ("", "", "", "", "说实话，", "总的来说，", "补充一下：", "转：", "个人觉得", "顺便说一句，",
              "总之，", "我觉得")
_ZH_SENTENCE = re.compile(r"[^。！？!?.;；]+[。！？!?.;；]*")
_ZH_CLAUSE = re.compile(r"[^，,]+[，,]*")
NAMES = ("john.smith", "mary.lee", "wang.wei", "li.na", "zhang.min", "david.chen", "anna.k")


@dataclass(frozen=True)
class Corpus:
    """Where one built corpus lies and what is in it."""

    size: int
    seed: int
    folder: Path
    counts: dict[str, int] = field(default_factory=dict)  # "lang/kind" -> rows
    build_seconds: float = 0.0  # 0.0 when it came from the cache

    @property
    def jsonl(self) -> Path:
        return self.folder / "corpus.jsonl"

    @property
    def parquet(self) -> Path:
        return self.folder / "corpus.parquet"

    @property
    def shard_dir(self) -> Path:
        return self.folder / "shards"

    @property
    def shards(self) -> list[Path]:
        return sorted(self.shard_dir.glob("*.jsonl"))


Sentence = tuple[str, str, str]  # text, label, origin


def english_sentences() -> list[Sentence]:
    """Every sentence of the five EDA sets' train and test files (lower-case, no punctuation)."""
    rows = []
    for name in EN_SETS:
        for part in ("train_orig.txt", "test.txt"):
            with open(SHARED / "eda" / name / part, encoding="utf-8") as f:
                for line in f:
                    label, _, text = line.rstrip("\n").partition("\t")
                    if text.strip():
                        rows.append((text.strip(), f"{name}_{label}", name))
    return rows


def chinese_reviews() -> list[Sentence]:
    rows = []
    path = SHARED / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    with open(path, encoding="utf-8", newline="") as f:
        for record in csv.DictReader(f):
            text = (record["review"] or "").strip()
            if text and len(text) <= MAX_REVIEW_CHARS:
                rows.append((text, f"hotel_{record['label']}", "chnsenticorp"))
    return rows


def chinese_titles() -> list[Sentence]:
    folder = SHARED / "thucnews_titles"
    classes = (folder / "class.txt").read_text(encoding="utf-8").split()
    rows = []
    for part in ("dev.txt", "test.txt"):
        with open(folder / part, encoding="utf-8") as f:
            for line in f:
                title, _, label = line.rstrip("\n").rpartition("\t")
                if title.strip():
                    rows.append((title.strip(), f"news_{classes[int(label)]}", "thucnews"))
    return rows


class Generator:
    """Draws one document at a time; the same seed gives the same corpus."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.english = english_sentences()
        self.reviews = chinese_reviews()
        self.titles = chinese_titles()
        self.normal: list[dict[str, str]] = []  # earlier normal documents, sources of duplicates

    def document(self) -> dict[str, str]:
        u, edge = self.rng.random(), 0.0
        for kind, share in SHARES.items():
            edge += share
            if u < edge:
                return getattr(self, kind)()
        doc = self.fresh()
        self.normal.append(doc)
        return doc

    def fresh(self) -> dict[str, str]:
        return self.english_doc() if self.rng.random() < 0.5 else self.chinese_doc()

    # Openers and endings multiply the variants of a one-sentence document, so that repeating
    # the sources up to 10^6 documents adds few accidental duplicates to the planned ~5%.
    def english_doc(self) -> dict[str, str]:
        r = self.rng
        picked = [r.choice(self.english) for _ in range(r.choice((1, 1, 2, 2, 3)))]
        sentences = [text + r.choice((".", ".", ".", "!", "", "...")) for text, _, _ in picked]
        sentences[0] = r.choice(EN_OPENERS) + sentences[0]
        text = " ".join(s[:1].upper() + s[1:] for s in sentences)
        return {"text": text, "label": picked[0][1], "lang": "en",
                "kind": "normal", "origin": picked[0][2]}

    def chinese_doc(self) -> dict[str, str]:
        r = self.rng
        if r.random() < 0.4:
            text, label, origin = r.choice(self.reviews)
            sentences = _ZH_SENTENCE.findall(text)
            if len(sentences) == 1:
                sentences = _ZH_CLAUSE.findall(text)
            if len(sentences) > 1:  # a run of the review's sentences, often not all of them
                start = r.randrange(len(sentences))
                text = "".join(sentences[start:r.randrange(start, len(sentences)) + 1])
        else:
            picked = [r.choice(self.titles) for _ in range(r.choice((1, 2, 3)))]
            text = r.choice(("，", "。", " ")).join(t for t, _, _ in picked)
            label, origin = picked[0][1], picked[0][2]
        text = r.choice(ZH_OPENERS) + text + r.choice(("", "", "。", "！", "~"))
        return {"text": text, "label": label, "lang": "zh", "kind": "normal", "origin": origin}

    def duplicate(self) -> dict[str, str]:
        if not self.normal:
            return self.document()
        return {**self.rng.choice(self.normal), "kind": "duplicate"}

    def pii(self) -> dict[str, str]:
        doc = self.fresh()
        r = self.rng
        domain = "example.com" if doc["lang"] == "en" else "example.cn"  # reserved: no one's
        email = f"{r.choice(NAMES)}{r.randrange(10, 100)}@{domain}"
        if doc["lang"] == "en":
            phone = f"+1 202-555-01{r.randrange(100):02d}"  # 555-01xx: reserved for fiction
            extra = r.choice((f" Contact me at {email}.", f" Call me on {phone}."))
        else:
            phone = f"{r.choice(('138', '139', '150', '186'))}{r.randrange(10**8):08d}"
            spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
            extra = r.choice((f"有问题请联系{phone}", f"，邮箱：{email}", f"，电话 {spaced}"))
        return {**doc, "text": doc["text"] + extra, "kind": "pii"}

    def spam(self) -> dict[str, str]:
        r = self.rng
        lang = r.choice(("en", "zh"))
        phrase = r.choice(SPAM_EN if lang == "en" else SPAM_ZH)
        joiner = r.choice(("! ", " ", "\n") if lang == "en" else ("！", "，", "", "\n"))
        text = joiner.join([phrase] * r.randrange(4, 16))
        return {"text": text, "label": "spam", "lang": lang, "kind": "spam", "origin": "generated"}

    def short(self) -> dict[str, str]:
        text = self.rng.choice(SHORT)
        lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
        return {"text": text, "label": "short", "lang": lang, "kind": "short",
                "origin": "generated"}

    def mojibake(self) -> dict[str, str]:
        import ftfy.bad_codecs  # noqa: F401  registers "sloppy-windows-1252" (all 256 bytes decode)

        doc = self.fresh()
        # EDA sentences are ASCII, which no codec mix-up changes: quote them with curly quotes
        text = f"\u201c{doc['text']}\u201d" if doc["lang"] == "en" else doc["text"]
        broken = text.encode("utf-8").decode("sloppy-windows-1252")
        return {**doc, "text": broken, "kind": "mojibake"}


def build_corpus(size: int, seed: int = 13) -> Corpus:
    """Build the corpus once, or return the cached one with the same size, seed and VERSION."""
    folder = CACHE / f"corpus-v{VERSION}-n{size}-seed{seed}"
    meta = folder / "corpus.json"
    if meta.exists():
        info = json.loads(meta.read_text(encoding="utf-8"))
        return Corpus(size, seed, folder, info["counts"], 0.0)
    start = time.perf_counter()
    generator = Generator(seed)
    docs = []
    for i in range(size):
        docs.append({"id": f"d{i:07d}", **generator.document()})
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    _write(tmp, docs)
    counts = dict(sorted(Counter(f"{d['lang']}/{d['kind']}" for d in docs).items()))
    seconds = time.perf_counter() - start
    (tmp / "corpus.json").write_text(json.dumps(
        {"size": size, "seed": seed, "version": VERSION, "counts": counts,
         "build_seconds": round(seconds, 2)}, indent=1), encoding="utf-8")
    tmp.rename(folder)  # a killed build leaves only a .tmp- folder, never a half corpus
    return Corpus(size, seed, folder, counts, seconds)


def _write(folder: Path, docs: list[dict[str, str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [json.dumps(d, ensure_ascii=False) + "\n" for d in docs]
    (folder / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")
    (folder / "shards").mkdir()
    per_shard = -(-len(lines) // SHARDS)
    for k in range(SHARDS):
        part = lines[k * per_shard:(k + 1) * per_shard]
        (folder / "shards" / f"part-{k:05d}.jsonl").write_text("".join(part), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(docs), folder / "corpus.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    corpus = build_corpus(args.size, args.seed)
    print(f"{corpus.folder} ({corpus.build_seconds:.1f} s to build)")
    for key, n in corpus.counts.items():
        print(f"  {key:16s} {n:>9,d}")


if __name__ == "__main__":
    main()
