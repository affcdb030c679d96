"""Strip HTML markup with a few compiled regexes: fast, and good enough for scraped reviews.

A real parser (BeautifulSoup, lxml) is 10-50x slower and buys little for short texts. Tags are
removed, script/style/comment contents go with them, entities are unescaped last (so that an
escaped ``&lt;b&gt;`` survives as literal text), and block-level tags become a space so that
``<p>one</p><p>two</p>`` does not fuse into ``onetwo``. A ``<`` not followed by a tag name
(``a < b``) is left alone.
"""

from __future__ import annotations

import html
import re

from thresher.ops.base import COUNTS, Batch, Mapper

__all__ = ["StripHtml", "strip_html"]

_HIDDEN = re.compile(r"<!--.*?(?:-->|$)|<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|$)",
                     re.DOTALL | re.IGNORECASE)
_BLOCK_TAGS = ("address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|figure|footer|form|"
               "h[1-6]|header|hr|li|main|nav|ol|option|p|pre|section|table|tbody|td|tfoot|th|"
               "thead|title|tr|ul")
_BLOCK = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>")
_SPACE_RUNS = re.compile(r"[ \t]{2,}")


def strip_html(text: str, *, unescape: bool = True) -> str:
    """Text content of an HTML fragment (returned unchanged when it has no markup)."""
    if "<" in text:
        text = _HIDDEN.sub("", text)
        text = _BLOCK.sub(" ", text)
        text = _TAG.sub("", text)
        text = _SPACE_RUNS.sub(" ", text).strip()
    if unescape and "&" in text:
        text = html.unescape(text)
    return text


class StripHtml(Mapper):
    """Remove HTML tags (and script/style contents), keep the text, unescape entities."""

    name = "strip_html"

    def __init__(self, *, unescape: bool = True) -> None:
        self.unescape = unescape

    def map_batch(self, batch: Batch) -> Batch:
        texts, counts = [], []
        for text in batch["text"]:
            new = strip_html(text, unescape=self.unescape)
            texts.append(new)
            counts.append({"stripped": 1} if new != text else {})
        batch["text"] = texts
        batch[COUNTS] = counts
        return batch
