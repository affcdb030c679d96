"""Personal data in text: find, count, redact, or drop e-mails, phones, IPs, cards, CN IDs, URLs
and postal addresses (English street addresses, Chinese road + house number: ``addresses``).

Detection is regex plus a validator per kind (``ipaddress`` for IPs, Luhn for cards, the GB 11643
checksum, birth date and place for Chinese resident IDs, ``phonenumbers`` for phones), so that a
long order number is not reported as a card and a date is not reported as a phone.

Speed matters: this runs over every row of a cleaning recipe, and most reviews hold no personal
data at all. Cheap pre-checks (an '@', a '://' or 'www.', two colons, an IPv4-like or a run of
six digits) rule a text out before any detector runs. ``phonenumbers`` is slow (pure Python, it
parses every number in a text, prices and dates included, once per region), so it only sees
windows around runs of six or more digits: numbers shorter than that (a few small territories)
are not looked for. Cards and IDs are read in ASCII digits: run ``normalize`` (NFKC) first so
that full-width digits are folded.

Overlapping matches are resolved by length, then by how specific the kind is (a CN ID beats a
card with the same digits; an e-mail beats a URL of the same span), so an e-mail's domain is
never also a URL and the digits of an ID never also a phone.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, NamedTuple

from thresher.ops.addresses import find_addresses
from thresher.ops.base import COUNTS, Batch, Filter, Mapper, Verdict

__all__ = ["DEFAULT_REGIONS", "KINDS", "PLACEHOLDERS", "DropPii", "Pii", "PiiMatch", "find_pii",
           "redact_pii"]

# most specific first: on equal length the earlier kind wins
KINDS = ("cn_id", "credit_card", "email", "url", "ip", "phone", "address")
PLACEHOLDERS = {"cn_id": "<CN_ID>", "credit_card": "<CREDIT_CARD>", "email": "<EMAIL>",
                "url": "<URL>", "ip": "<IP>", "phone": "<PHONE>", "address": "<ADDRESS>"}
DEFAULT_REGIONS = ("CN", "US", "GB")  # regions for phone numbers written without "+country"


class PiiMatch(NamedTuple):
    kind: str
    start: int
    end: int
    text: str


# Pre-checks. Digit groups in phones, cards and IDs are separated by at most four of these
# (dashes, spaces, dots, slashes, brackets, tildes; full-width too), as phonenumbers allows.
_SEP = r"[\s\-./\u2010-\u2015\u2212\u30fc\uff0d-\uff0f()\uff08\uff09\[\]\uff3b\uff3d~\u223c\uff5e]"
_LONG_NUMBER = re.compile(rf"\d(?:{_SEP}{{0,4}}\d){{5,}}")  # >= 6 digits: phones, cards, IDs
_NUMERIC_HINT = re.compile(rf"\d(?:\.\d{{1,3}}\.\d|(?:{_SEP}{{0,4}}\d){{5,}})")  # or an IPv4

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
                    r"(?![A-Za-z0-9\-])")
# ASCII only on purpose: in Chinese text a URL is usually followed directly by Chinese
_URL = re.compile(r"(?<![A-Za-z0-9])(?:(?:https?|ftp)://|www\.)"
                  r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z]|\.[0-9])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
                   r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:])")
# a card is one whole digit group: no digit may continue it, even after a separator
_CARD = re.compile(r"(?<![0-9])(?<![0-9][ \-])[0-9](?:[ \-]?[0-9]){12,18}(?![ \-]?[0-9])")
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{7,15}(?![0-9A-Za-z])")  # one unbroken number
_CN_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


def _regex(kind: str, pattern: re.Pattern[str], valid: Callable[[str], bool],
           text: str) -> list[PiiMatch]:
    return [PiiMatch(kind, m.start(), m.end(), m.group()) for m in pattern.finditer(text)
            if valid(m.group())]


def _url(text: str) -> list[PiiMatch]:
    found = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?'\"")
        while url.endswith(")") and url.count(")") > url.count("("):  # "(see http://x.io)"
            url = url[:-1].rstrip(".,;:!?'\"")
        if not url.lower().endswith(("://", "www.")):
            found.append(PiiMatch("url", m.start(), m.start() + len(url), url))
    return found


def _valid_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return any(c.isalnum() for c in candidate)  # "::" alone is an address, not personal data


def _valid_card(candidate: str) -> bool:
    from stdnum import luhn

    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn.is_valid(digits)


def _valid_cn_id(candidate: str) -> bool:
    from stdnum.cn import ric

    return ric.is_valid(candidate)  # checksum, birth date and a known birth place code


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """Spans around each long number: its whole run of non-letters, plus one letter each side.

    The matcher only reads a candidate and the characters right next to it (a Latin letter
    there rejects it; ":30" after it marks a time), so matching inside a window finds what
    matching the whole text would, without parsing every price and date in the text.
    """
    windows: list[tuple[int, int]] = []
    for m in _LONG_NUMBER.finditer(text):
        if windows and m.start() < windows[-1][1]:
            continue
        start, end = m.start(), m.end()
        while start > 0 and not text[start - 1].isalpha():
            start -= 1
        while end < len(text) and not text[end].isalpha():
            end += 1
        windows.append((max(start - 1, 0), min(end + 1, len(text))))
    return windows


def _phones(text: str, regions: Sequence[str]) -> list[PiiMatch]:
    import phonenumbers

    spans: dict[tuple[int, int], str] = {}

    def match(start: int, end: int) -> None:
        for region in regions:
            valid = phonenumbers.Leniency.VALID
            for m in phonenumbers.PhoneNumberMatcher(text[start:end], region, leniency=valid):
                spans[(start + m.start, start + m.end)] = m.raw_string

    for start, end in _phone_windows(text):
        match(start, end)
    # The matcher drops a whole candidate such as "150(13812345678" (a price, then a phone in
    # brackets) without trying the digit run inside it: give such runs a try on their own.
    for m in _DIGIT_RUN.finditer(text):
        if not any(start < m.end() and m.start() < end for start, end in spans):
            match(m.start(), m.end())
    return [PiiMatch("phone", start, end, raw) for (start, end), raw in spans.items()]


def _detect(text: str, regions: Sequence[str]) -> Iterable[PiiMatch]:
    """Run each detector whose pre-check the text passes (``in`` tests first: they cost least)."""
    if "@" in text:
        yield from _regex("email", _EMAIL, bool, text)
    if "://" in text or "www." in text or "WWW." in text or "Www." in text:
        yield from _url(text)
    if text.count(":") >= 2:
        yield from _regex("ip", _IPV6, _valid_ip, text)
    if _NUMERIC_HINT.search(text):
        yield from _regex("ip", _IPV4, _valid_ip, text)
        yield from _regex("cn_id", _CN_ID, _valid_cn_id, text)
        yield from _regex("credit_card", _CARD, _valid_card, text)
        yield from _phones(text, regions)
    yield from (PiiMatch("address", start, end, text[start:end])
                for start, end in find_addresses(text))


def _resolve(matches: Iterable[PiiMatch]) -> list[PiiMatch]:
    """Keep non-overlapping matches: longer first, then the more specific kind, then leftmost."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    chosen: list[PiiMatch] = []
    for m in sorted(matches, key=lambda m: (m.start - m.end, rank[m.kind], m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


def find_pii(text: str, kinds: Sequence[str] | None = None,
             regions: Sequence[str] = DEFAULT_REGIONS) -> list[PiiMatch]:
    """Personal data in ``text``, left to right, without overlaps.

    Overlaps are resolved over all kinds before ``kinds`` filters the result, so a span gets
    the same kind whichever kinds were asked for.
    """
    found = list(_detect(text, regions)) if text else []
    if not found:
        return []
    matches = _resolve(found)
    return matches if kinds is None else [m for m in matches if m.kind in kinds]


def redact_pii(text: str, matches: Sequence[PiiMatch]) -> str:
    """Replace each match (as returned by ``find_pii``) with its kind's placeholder."""
    parts, last = [], 0
    for m in matches:
        parts += [text[last:m.start], PLACEHOLDERS[m.kind]]
        last = m.end
    parts.append(text[last:])
    return "".join(parts)


def _check(kinds: Sequence[str] | None, regions: Sequence[str]) -> None:
    import phonenumbers

    if kinds is not None and not kinds:
        raise ValueError("kinds is empty; name at least one kind, or leave it out for all kinds")
    unknown = [k for k in kinds or () if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown PII kinds {unknown}; known kinds: {', '.join(KINDS)}")
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ValueError(f"unknown phone regions {unknown}; use ISO 3166 codes such as CN, US, GB")


class Pii(Mapper):
    """Count personal data by kind per row (``report``), or also replace it by placeholders."""

    name = "pii"

    def __init__(self, *, mode: Literal["report", "redact"] = "report",
                 kinds: list[str] | None = None,  # None: every kind in KINDS
                 regions: list[str] | tuple[str, ...] = DEFAULT_REGIONS) -> None:
        self.mode = mode
        self.kinds = kinds
        self.regions = regions

    def check(self) -> None:
        if self.mode not in ("report", "redact"):
            raise ValueError(f"mode must be 'report' or 'redact', got {self.mode!r}")
        _check(self.kinds, self.regions)

    def map_batch(self, batch: Batch) -> Batch:
        texts, counts = [], []
        for text in batch["text"]:
            matches = find_pii(text, self.kinds, self.regions)
            counts.append(dict(Counter(m.kind for m in matches)) if matches else {})
            texts.append(redact_pii(text, matches) if matches and self.mode == "redact" else text)
        batch["text"] = texts
        batch[COUNTS] = counts
        return batch


class DropPii(Filter):
    """Drop rows holding personal data; the detail names the kinds found, never the data."""

    name = "drop_pii"

    def __init__(self, *, kinds: list[str] | None = None,  # None: every kind in KINDS
                 regions: list[str] | tuple[str, ...] = DEFAULT_REGIONS) -> None:
        self.kinds = kinds
        self.regions = regions

    def check(self) -> None:
        _check(self.kinds, self.regions)

    def keep(self, record: dict[str, Any]) -> Verdict:
        matches = find_pii(record["text"], self.kinds, self.regions)
        if not matches:
            return True
        return False, "pii", ",".join(sorted({m.kind for m in matches}))

    def keep_batch(self, batch: Batch) -> list[Verdict]:
        return [self.keep({"text": text}) for text in batch["text"]]
