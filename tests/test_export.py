"""`thresher export RUN --onnx` on a tiny BERT classifier made here: onnxruntime equals torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresher.cli.main import main
from thresher.errors import ModelError

NO_EXTRA = "the export extra is not installed: pip install 'thresher[export]'"
pytest.importorskip("onnxruntime", reason=NO_EXTRA)
pytest.importorskip("onnxscript", reason=NO_EXTRA)

WORDS = ("[PAD] [UNK] [CLS] [SEP] the a room was is clean dirty staff friendly rude good bad very "
         "service 房 间 很 干 净 服 务 差").split()
TEXTS = ["the room was clean", "very rude staff", "good", "房 间 很 干 净",
         "the staff was very very friendly and the room was clean", "服 务 很 差", "bad bad room"]


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder whose model/ is a 2-layer, 32-wide BERT with three labels (random weights),
    saved by thresher's own TransformerClassifier, and a test split to check on."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from thresher.train.transformer import TransformerClassifier

    run = tmp_path_factory.mktemp("export") / "run"
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=3)
    info = {"kind": "transformer", "load": "full", "precision": "fp32", "max_length": 32}
    TransformerClassifier(BertForSequenceClassification(config), _tokenizer(), ["neg", "neu", "pos"],
                          max_length=32, device="cpu", precision="fp32", info=info).save(run / "model")
    (run / "data").mkdir()
    pd.DataFrame({"id": [f"r{i}" for i in range(len(TEXTS))], "text": TEXTS, "label": "pos"}).to_parquet(
        run / "data" / "test.parquet")
    (run / "manifest.json").write_text(json.dumps({"recipe": {}, "steps": []}), encoding="utf-8")
    return run


def test_export_matches_torch_in_onnxruntime(run_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    import onnx
    import onnxruntime

    from thresher.train import load_classifier

    out = tmp_path / "tiny.onnx"
    assert main(["export", str(run_dir), "--onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "opset 18" in printed and "check on 7 rows of data/test.parquet" in printed
    result = json.loads((run_dir / "export.json").read_text(encoding="utf-8"))
    check = result["check"]
    assert check["passed"] and check["same_predictions"] and check["max_abs_diff"] < 1e-5
    assert check["shapes"] == [[7, 13], [1, 6]]  # all rows padded together, then the first alone
    assert (result["onnx"], result["file_bytes"]) == (str(out), out.stat().st_size)
    assert result["labels"] == ["neg", "neu", "pos"] and result["opset"] == 18
    graph = onnx.load(str(out))
    assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) == 18
    assert [i.name for i in graph.graph.input] == ["input_ids", "attention_mask"]
    dims = [d for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert all(d.dim_param and not d.dim_value for d in dims)  # batch and sequence are dynamic
    # New rows, a batch shape the export never saw: onnxruntime still equals torch.
    classifier = load_classifier(run_dir / "model", device="cpu")
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    texts = ["service was very good", "房 间 很 脏", "the a the a the a the a staff room room room"]
    proba = classifier.predict_proba(texts)
    encoded = classifier.tokenizer(texts, padding=True, return_tensors="np")
    inputs = {k: encoded[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
    logits = session.run(["logits"], inputs)[0]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert np.abs(shifted / shifted.sum(axis=1, keepdims=True) - proba).max() < 1e-5


def test_export_needs_a_format_and_a_transformer(run_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    from thresher.export import export_onnx
    from thresher.train import BaselineClassifier

    assert main(["export", str(run_dir)]) == 2
    assert capsys.readouterr().err == (f"error: {run_dir}: choose one export format. pass --onnx "
                                       "(a classifier) or --merged (an SFT run).\n")
    baseline_run = tmp_path / "run"
    BaselineClassifier().fit(TEXTS, ["pos", "neg"] * 3 + ["pos"]).save(baseline_run / "model")
    with pytest.raises(ModelError, match="only fine-tuned transformers export to ONNX, not a Baseline"):
        export_onnx(baseline_run)
    assert not (baseline_run / "export.json").exists()
