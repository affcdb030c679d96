from __future__ import annotations

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.ops import WebTokens


def rewrite(text, **modes):
    return WebTokens(**modes).map_batch({"text": [text]})["text"][0]


def test_english_defaults_replace_urls_emails_mentions_keep_hashtags():
    text = "Booked via https://booking.com/hotel?id=3, mail a.b@example.co.uk. @john_doe #travel"
    assert rewrite(text) == "Booked via <URL>, mail <EMAIL>. <USER> #travel"


def test_chinese_without_spaces():
    text = "详情看http://t.cn/A6xYz很划算，联系abc@qq.com或@携程旅行网，#酒店推荐#真不错"
    assert rewrite(text) == "详情看<URL>很划算，联系<EMAIL>或<USER>，#酒店推荐#真不错"
    assert rewrite(text, hashtag="replace") == "详情看<URL>很划算，联系<EMAIL>或<USER>，酒店推荐真不错"
    assert rewrite(text, url="remove", email="remove", mention="remove", hashtag="remove") == \
        "详情看很划算，联系或，真不错"


def test_modes_keep_and_remove_in_english():
    text = "Great stay! see www.example.com/rooms (photos) #NoFilter @anna"
    assert rewrite(text, url="keep", mention="keep") == text
    removed = rewrite(text, url="remove", mention="remove", hashtag="remove")
    assert removed == "Great stay! see (photos)"
    assert rewrite(text, hashtag="replace", url="keep") == \
        "Great stay! see www.example.com/rooms (photos) NoFilter <USER>"


def test_not_mistaken_for_tokens():
    for text in ["I code in C# and F#", "5 @ 10 dollars", "it&#39;s fine", "第1#楼", "a@b"]:
        assert rewrite(text, hashtag="remove") == text
    assert rewrite("write to x@y.com", mention="remove") == "write to <EMAIL>"  # not a mention


def test_counts_per_kind_in_step_info():
    t = pd.DataFrame({"id": ["a", "b"], "label": ["1", "0"], "source": ["f", "f"],
                      "text": ["@a @b see http://x.io", "#话题# 好"]})
    _, rejects, stats = run_step(WebTokens(), t)
    assert rejects == [] and stats.info == {"counts": {"hashtag": 1, "mention": 2, "url": 1}}


def test_check_rejects_unknown_mode():
    with pytest.raises(ValueError, match="url must be keep, replace or remove, got 'drop'"):
        WebTokens(url="drop").check()
