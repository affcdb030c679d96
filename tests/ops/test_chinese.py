from __future__ import annotations

import importlib.util
import pickle

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.errors import RecipeError
from thresher.ops import ToSimplified
from thresher.ops.chinese import cjk_ratio, has_cjk, jieba_words, require_zh

needs_opencc = pytest.mark.skipif(importlib.util.find_spec("opencc") is None,
                                  reason="to_simplified needs the zh extra (OpenCC)")


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["1"] * len(texts), "source": ["f"] * len(texts)})


@needs_opencc
def test_traditional_to_simplified_and_english_untouched():
    texts = ["這間飯店的服務很好，房間也很乾淨。", "The room was clean.", "简体字不变", "早餐種類不多, but OK"]
    out, rejects, stats = run_step(ToSimplified(), table(texts))
    assert list(out.text) == ["这间饭店的服务很好，房间也很干净。", "The room was clean.", "简体字不变",
                              "早餐种类不多, but OK"]
    assert rejects == [] and stats.info == {"counts": {"converted": 2}}


@needs_opencc
def test_taiwan_phrases():
    out, _, _ = run_step(ToSimplified(config="tw2sp"), table(["這個軟體的滑鼠操作很方便"]))
    assert out.text[0] == "这个软件的鼠标操作很方便"


@needs_opencc
def test_pickles_without_the_converter():
    op = ToSimplified()
    run_step(op, table(["臺灣"]))
    clone = pickle.loads(pickle.dumps(op))
    assert clone.settings() == {"config": "t2s"} and not hasattr(clone, "_opencc")
    assert run_step(clone, table(["臺灣"]))[0].text[0] == "台湾"


@needs_opencc
def test_check_and_missing_dependency_message():
    with pytest.raises(ValueError, match="config must be one of"):
        ToSimplified(config="s2t").check()
    ToSimplified().check()
    with pytest.raises(RecipeError, match=r"pip install 'thresher\[zh\]'"):
        require_zh("no_such_module_thresher", "to_simplified")


def test_script_helpers():
    assert has_cjk("好的 ok") and not has_cjk("ok, fine")
    assert cjk_ratio("好的 ok") == 0.5 and cjk_ratio("   ") == 0.0
    assert jieba_words("我们住的房间很干净。") == ["我们", "住", "的", "房间", "很", "干净"]
