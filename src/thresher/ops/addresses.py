"""Postal addresses in text, for ``thresher.ops.pii`` (kind ``address``).

English: a house number, one to four capitalised words ending in a street type ("258 Cedar
Court", "14 N. Harbor Rd"), then optionally a unit ("Apt 4", "Suite 200", "#12") and a town
with a ZIP code (", Springdale, AR 91396"). A town without a ZIP is left alone: it is rarely
personal on its own, and ", Texas" after any street-like phrase would otherwise be swallowed.

Chinese: a road (路, 街, 大道, 巷, 弄, 胡同) with a house number (12号), then optionally
building, unit, floor and room (3栋1502室), preceded by administrative divisions. Chinese has no
spaces, so where the address starts is the hard part ("新地址是上海市徐汇区…" must not take
"新地址是"): it starts at the first province, city or county name from GB/T 2260 (the list
python-stdnum ships for resident IDs, full and short forms: 上海市 and 上海) found in the
characters before the road; failing that, a road name of at most six characters right after
punctuation or the start of the text ("地址：文三路8号"). A road without a house number is not an
address.
"""

from __future__ import annotations

import functools
import re

__all__ = ["find_addresses"]

_STREET_TYPES = ("Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl"
                 "|Way|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Close|Crescent"
                 "|Gardens|Row|Trail|Alley")
_WORD = r"[A-Z][A-Za-z'\u2019\-]*\.?"
_EN = re.compile(
    rf"(?<![\w$.,/#-])\d{{1,5}}[A-Za-z]?\s+(?:{_WORD}\s+){{0,3}}{_WORD}\s+(?:{_STREET_TYPES})\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#)\.?\s*#?[0-9A-Za-z]{1,6}\b)?"
    r"(?:,\s*[A-Z][A-Za-z .'\-]{1,40}?(?:,\s*[A-Z]{2})?\s+\d{5}(?:-\d{4})?(?!\d))?")
_EN_HINT = re.compile(r"\d\s+[A-Z]")

_CJK = "\u4e00-\u9fff"
# the road and house number; building / unit / floor / room may follow
_ZH = re.compile(
    r"(?:路|街|大道|巷|弄|胡同)\s*\d{1,5}\s*号"
    r"(?:\s*(?:\d{1,4}|[一二三四五六七八九十]{1,3})\s*(?:号楼|栋|幢|座|单元|楼|层))*"
    r"(?:\s*\d{1,5}\s*(?:室|房))?")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ZH_MAX_BEFORE = 30  # characters looked at before the road type for the divisions
_ZH_BARE_ROAD = 6  # a road name without divisions: at most this long, after punctuation


def find_addresses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each address found, left to right; English and Chinese may mix."""
    found: list[tuple[int, int]] = []
    if _EN_HINT.search(text):
        found += [(m.start(), m.end()) for m in _EN.finditer(text)]
    if "号" in text:
        found += [span for m in _ZH.finditer(text) if (span := _chinese(text, m)) is not None]
    return sorted(found)


def _chinese(text: str, road: re.Match[str]) -> tuple[int, int] | None:
    """Where the address whose road type and number ``road`` matched starts, if it is one."""
    run_start = road.start()
    while run_start > 0 and road.start() - run_start < _ZH_MAX_BEFORE and \
            _CJK_CHAR.match(text[run_start - 1]):
        run_start -= 1
    if run_start == road.start():  # "路12号" with no name: not an address
        return None
    names, longest = _division_names()
    for i in range(run_start, road.start()):
        if any(text[i:i + n] in names for n in range(2, longest + 1)):
            return i, road.end()
    bounded = run_start == 0 or not text[run_start - 1].isalnum()
    if bounded and road.start() - run_start <= _ZH_BARE_ROAD:
        return run_start, road.end()
    return None


@functools.cache
def _division_names() -> tuple[frozenset[str], int]:
    """Province, prefecture and county names of GB/T 2260, with short forms (广东省 → 广东),
    and the length of the longest (how far a name can reach from where it starts)."""
    from stdnum import numdb

    names: set[str] = set()

    def walk(parts: list) -> None:
        for _length, _low, _high, props, children in parts:
            for key in ("province", "prefecture", "county"):
                name = props.get(key, "")
                if len(name) >= 2 and name not in ("市辖区", "县", "省直辖县级行政区划"):
                    names.add(name)
                    short = re.sub("(?:省|市|自治区|特别行政区)$", "", name)
                    if len(short) >= 2:
                        names.add(short)
            walk(children)

    walk(numdb.get("cn/loc").prefixes)
    return frozenset(names), max(len(name) for name in names)
