from __future__ import annotations

import pandas as pd

from thresher.engine.local import run_step
from thresher.ops import StripHtml
from thresher.ops.html import strip_html


def test_tags_scripts_and_entities_english():
    html = ('<html><head><style>p {color: red}</style><script>var a = "<b>x</b>";</script></head>'
            '<body><!-- nav --><p>The room was <b>very</b> clean.</p><p>Staff &amp; food: 5/5'
            '&nbsp;&#33;</p></body></html>')
    assert strip_html(html) == "The room was very clean. Staff & food: 5/5\xa0!"


def test_block_tags_separate_words_and_inline_tags_do_not():
    assert strip_html("<div>Good</div><div>hotel</div>") == "Good hotel"
    assert strip_html("Good<br/>hotel") == "Good hotel"
    assert strip_html("un<i>believ</i>able") == "unbelievable"


def test_chinese_html():
    html = "<p>房间很<strong>干净</strong>，服务很好。</p><p>早餐一般&hellip;</p><SCRIPT>alert(1)</SCRIPT>"
    assert strip_html(html) == "房间很干净，服务很好。 早餐一般…"


def test_plain_text_is_left_alone():
    for text in ["a < b and c > d", "I <3 this hotel", "价格<200元，很划算", "AT&T phone"]:
        assert strip_html(text) == text
    assert strip_html("&lt;b&gt; is a tag") == "<b> is a tag"  # escaped markup stays text
    assert strip_html("a &amp; b", unescape=False) == "a &amp; b"


def test_step_counts_changed_rows():
    t = pd.DataFrame({"id": ["a", "b", "c"], "label": ["1"] * 3, "source": ["f"] * 3,
                      "text": ["<b>好</b>", "plain text", "Tom &amp; Jerry"]})
    out, rejects, stats = run_step(StripHtml(), t)
    assert list(out.text) == ["好", "plain text", "Tom & Jerry"] and rejects == []
    assert stats.info == {"counts": {"stripped": 2}}
