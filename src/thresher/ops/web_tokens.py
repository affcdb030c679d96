"""URLs, e-mail addresses, @mentions and #hashtags: keep, replace by a token, or remove.

One compiled alternation finds all four kinds in a single left-to-right pass, so an address is
never also read as a mention (``a@b.com`` is an e-mail, not ``@b``), and kept items stay whole.
Chinese text puts no spaces around them, so a URL ends at the first CJK character or full-width
punctuation mark (``看http://t.cn/A6x很好`` -> URL ``http://t.cn/A6x``), mentions may be Chinese
names (``@人民日报``), and Weibo topics are written ``#话题#``.
"""

from __future__ import annotations

import re
from typing import Literal

from thresher.ops.base import COUNTS, Batch, Mapper
from thresher.ops.chinese import CJK_CHARS

__all__ = ["WebTokens"]

Mode = Literal["keep", "replace", "remove"]
TOKENS = {"url": "<URL>", "email": "<EMAIL>", "mention": "<USER>"}

# Where a URL stops: space, quotes/brackets, CJK text, CJK and full-width punctuation.
_URL_STOP = rf"\s<>\"'{CJK_CHARS}\u3000-\u303f\uff00-\uffef"
_PATTERN = re.compile(
    # scheme or www., then anything up to a stop; never end on sentence punctuation
    rf"(?P<url>(?:https?://|ftp://|www\.)[^{_URL_STOP}]*[^{_URL_STOP}.,;:!?)\]}}])"
    r"|(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
    # a mention/hashtag must not continue an ASCII word (a@b, C#, &#39;)
    r"|(?<![A-Za-z0-9_.&])(?:"
    r"(?P<mention>@[\w\-]{1,30})"
    r"|#(?P<topic>[^#\s]{1,40})#"  # Weibo topic: #话题#
    r"|#(?P<hashtag>\w+))"
)
_SPACE_RUNS = re.compile(r"[ \t]{2,}")


class WebTokens(Mapper):
    """Handle URLs, e-mails, @mentions and #hashtags; each mode is keep, replace or remove.

    ``replace`` writes ``<URL>``, ``<EMAIL>``, ``<USER>``; for a hashtag it keeps the word
    without ``#`` (``#酒店#`` -> ``酒店``, ``#travel`` -> ``travel``). ``remove`` deletes the item
    and the double space it leaves. Counts per kind go into the step's info.
    """

    name = "web_tokens"

    def __init__(self, *, url: Mode = "replace", email: Mode = "replace",
                 mention: Mode = "replace", hashtag: Mode = "keep") -> None:
        self.url = url
        self.email = email
        self.mention = mention
        self.hashtag = hashtag

    def check(self) -> None:
        for kind in ("url", "email", "mention", "hashtag"):
            mode = getattr(self, kind)
            if mode not in ("keep", "replace", "remove"):
                raise ValueError(f"{kind} must be keep, replace or remove, got {mode!r}")

    def map_batch(self, batch: Batch) -> Batch:
        texts, counts = [], []
        for text in batch["text"]:
            found: dict[str, int] = {}
            texts.append(self._rewrite(text, found))
            counts.append(found)
        batch["text"] = texts
        batch[COUNTS] = counts
        return batch

    def _rewrite(self, text: str, found: dict[str, int]) -> str:
        removed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal removed
            kind = match.lastgroup
            word = match[kind]
            kind = "hashtag" if kind == "topic" else kind
            found[kind] = found.get(kind, 0) + 1
            mode = getattr(self, kind)
            if mode == "keep":
                return match[0]
            if mode == "remove":
                removed = True
                return ""
            return word if kind == "hashtag" else TOKENS[kind]

        new = _PATTERN.sub(replace, text)
        return _SPACE_RUNS.sub(" ", new).strip() if removed else new
