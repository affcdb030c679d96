"""Bytes -> lines: binary check, encoding detection, and decoding that never crashes.

Lines are split on ``\\n`` only (a trailing ``\\r`` is dropped); ``\\r``, U+0085 and U+2028
inside a line are content, not line breaks, so ``str.splitlines`` is never used.

Mixed encodings are decoded line by line: a line that is not valid in the file's encoding is
kept (undecodable bytes shown as U+FFFD) but flagged ``undecodable_line``, and the row it
belongs to is rejected with its line number. We reject rather than guess a second encoding per
line, because a guess on one short line is often wrong and would silently produce mojibake.
NUL bytes inside an otherwise textual file are removed from the line and the row is rejected
with reason ``nul_bytes``: they mark corruption (padding, truncated writes) more often than data.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from thresher.errors import InputError

__all__ = ["DecodedText", "decode_lines", "detect_encoding", "load_text", "read_bytes", "sniff_binary"]

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_MAGIC = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an executable"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
]
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_SURROGATE = re.compile("[\udc80-\udcff]")
_SURROGATE_MARK = "\udcff"
_CHINESE = {"gb2312", "gbk", "gb18030", "hz"}


@dataclass
class DecodedText:
    """The file as lines (line i+1 of the file is ``lines[i]``) and the lines that are damaged."""

    lines: list[str]
    encoding: str
    flags: dict[int, tuple[str, str]] = field(default_factory=dict)  # line -> (reason, detail)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, unreadable or empty file is an :class:`InputError`."""
    if not path.exists():
        raise InputError("file not found", where=str(path), fix="check the path")
    if path.is_dir():
        raise InputError("is a folder, not a file", where=str(path), fix="pass a data file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror})", where=str(path),
                         fix="check that the file is readable by this user") from err
    if not data:
        raise InputError("the file is empty (0 bytes)", where=str(path), fix="pass a file with data")
    return data


def sniff_binary(data: bytes) -> str | None:
    """A short description when ``data`` is not text (an image, archive, ...), else None."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:65536]
    if any(head.startswith(bom) for bom, _ in _BOMS) or _utf16_without_bom(head):
        return None
    if head.count(0) > 0.1 * len(head):
        return "many NUL bytes"
    controls = sum(head.count(c) for c in _CONTROL)
    if controls > 0.05 * len(head):
        return "many control bytes"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: ASCII characters put a NUL in every other byte, and only there."""
    half = len(head) // 2
    if half < 2 or head.count(0) < 0.3 * len(head):
        return None
    even, odd = head[0:2 * half:2].count(0), head[1:2 * half:2].count(0)
    if odd > 0.9 * half and even < 0.1 * half:
        name = "utf-16-le"
    elif even > 0.9 * half and odd < 0.1 * half:
        name = "utf-16-be"
    else:
        return None
    try:  # incremental: a character cut at the end of the sample is not an error
        codecs.getincrementaldecoder(name)().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return name


def detect_encoding(data: bytes) -> str:
    """The encoding of ``data``: BOM, then strict UTF-8, then charset-normalizer's best guess.

    A file where most non-ASCII lines are valid UTF-8 is UTF-8 even if some lines are not (those
    lines are rejected). GBK and GB2312 are reported as GB18030, their superset.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    utf16 = _utf16_without_bom(data[:65536])
    if utf16:
        return utf16
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    foreign = [line for line in data.split(b"\n") if not line.isascii()]
    valid = sum(1 for line in foreign if _is_utf8(line))
    if valid >= 0.5 * len(foreign):
        return "utf-8"
    return _guess(b"\n".join(foreign)[: 1 << 18])


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return "utf-8"
    name = codecs.lookup(best.encoding).name
    if name in _CHINESE or name.replace("_", "") in _CHINESE:
        return "gb18030"
    return "utf-8" if name == "ascii" else name


def decode_lines(data: bytes, encoding: str, where: str = "") -> DecodedText:
    """Split ``data`` into lines on ``\\n``; flag lines that do not decode or hold NUL bytes."""
    try:
        text = data.decode(encoding)
        damaged = False
    except LookupError as err:
        raise InputError(f"unknown encoding {encoding!r}", where=where or None,
                         fix="pass a Python codec name such as utf-8, gb18030 or latin-1") from err
    except UnicodeDecodeError:
        text, damaged = _decode_damaged(data, encoding), True
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    flags: dict[int, tuple[str, str]] = {}
    if damaged:
        _flag_undecodable(lines, encoding, flags)
    if "\x00" in text:
        _flag_nul(lines, flags)
    return DecodedText(lines=lines, encoding=encoding, flags=flags)


def _decode_damaged(data: bytes, encoding: str) -> str:
    """Undecodable bytes become lone surrogates (or U+FFFD where the codec cannot escape them)."""
    try:
        return data.decode(encoding, errors="surrogateescape")
    except UnicodeDecodeError:  # e.g. a truncated UTF-16 code unit: not escapable
        return _SURROGATE_MARK.join(data.decode(encoding, errors="replace").split("\ufffd"))


def _flag_undecodable(lines: list[str], encoding: str, flags: dict[int, tuple[str, str]]) -> None:
    detail = f"not valid {encoding}; the file mixes encodings or is damaged on this line"
    for i, line in enumerate(lines):
        if _SURROGATE.search(line):
            flags[i + 1] = ("undecodable_line", detail)
            lines[i] = _SURROGATE.sub("\ufffd", line)


def _flag_nul(lines: list[str], flags: dict[int, tuple[str, str]]) -> None:
    for i, line in enumerate(lines):
        if "\x00" in line:
            flags.setdefault(i + 1, ("nul_bytes", f"{line.count(chr(0))} NUL bytes removed"))
            lines[i] = line.replace("\x00", "")


def load_text(path: Path, encoding: str | None = None) -> DecodedText:
    """Read, check and decode a text file; binary content is an :class:`InputError`."""
    data = read_bytes(path)
    what = sniff_binary(data)
    if what is not None:
        raise InputError(f"looks binary ({what}), not text", where=str(path),
                         fix="pass a CSV, TSV, JSON(L), TXT or Parquet file, or a folder")
    decoded = decode_lines(data, encoding or detect_encoding(data), where=str(path))
    if not any(line.strip() for line in decoded.lines):
        raise InputError("the file holds only blank lines", where=str(path), fix="pass a file with data")
    return decoded
