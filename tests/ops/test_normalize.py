from __future__ import annotations

import pandas as pd

from thresher.engine.local import run_step
from thresher.ops import Normalize
from thresher.ops.normalize import normalize_text


def test_fullwidth_folds_without_nfkc_and_leaves_other_compatibility_forms():
    text = "ＡＢＣ１２３，好！　酒店①"
    raw = {"nfkc": False, "fix_mojibake": False}  # ftfy also folds character width
    assert normalize_text(text, **raw, fullwidth=True) == "ABC123,好! 酒店①"
    assert normalize_text(text, **raw) == "ＡＢＣ１２３，好！ 酒店①"  # \u3000 is whitespace
    assert normalize_text(text) == "ABC123,好! 酒店1"  # NFKC also folds ①


def test_fullwidth_is_a_no_op_under_the_default_nfkc():
    texts = ["Ｔｈｅ ｒｏｏｍ ｗａｓ ｃｌｅａｎ．", "房间很干净，服务也好！", "cafÃ© ok"]
    assert [normalize_text(t, fullwidth=True) for t in texts] == [normalize_text(t) for t in texts]


def test_normalize_defaults_are_unchanged():
    op = Normalize()
    assert op.settings() == {"fix_mojibake": True, "nfkc": True, "control_chars": True,
                             "whitespace": True, "lowercase": False, "fullwidth": False}


def test_normalize_step_with_fullwidth_only():
    t = pd.DataFrame({"id": ["a", "b"], "text": ["Ｇｏｏｄ　ｈｏｔｅｌ！", "环境不错，ＷＩＦＩ很快"],
                      "label": ["1", "1"], "source": ["f:1", "f:2"]})
    out, rejects, _ = run_step(Normalize(nfkc=False, fix_mojibake=False, fullwidth=True), t)
    assert list(out.text) == ["Good hotel!", "环境不错,WIFI很快"] and rejects == []
