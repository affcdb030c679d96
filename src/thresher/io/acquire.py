"""Downloads: fetched once into a cache, resumed when interrupted, verified by size.

The cache folder is ``cache_dir`` when given, else ``$THRESHER_CACHE/downloads``, else
``~/.cache/thresher/downloads``. Each URL gets its own sub-folder (a hash of the URL), so two
files with the same name never collide. Bytes arrive in ``NAME.part``; an interrupted transfer
is resumed with an HTTP ``Range`` request (or restarted when the server ignores ranges), and the
file is renamed to ``NAME`` only when complete, so a cached file is always whole.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

from thresher.errors import InputError

__all__ = ["cache_folder", "download", "is_url", "sha256_file"]

_ATTEMPTS = 3
_CHUNK = 1 << 20
_TIMEOUT_S = 30


class _Interrupted(Exception):
    """The connection ended before the whole file arrived."""


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def cache_folder(cache_dir: Path | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get("THRESHER_CACHE")
    return Path(root) / "downloads" if root else Path.home() / ".cache" / "thresher" / "downloads"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_name(url: str) -> str:
    name = unquote(Path(urlparse(url).path).name)
    name = re.sub(r"[^\w.\-]+", "_", name).lstrip(".")
    return name or "download"


def download(url: str, cache_dir: Path | None = None) -> Path:
    """The local copy of ``url``, downloading it (or the missing rest of it) when needed."""
    folder = cache_folder(cache_dir) / hashlib.sha256(url.encode()).hexdigest()[:16]
    target = folder / _file_name(url)
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    for _ in range(_ATTEMPTS):
        try:
            _fetch(url, part)
            break
        except (_Interrupted, OSError, http.client.HTTPException) as err:
            last = err
    else:
        raise InputError(f"the download was interrupted {_ATTEMPTS} times ({last})", where=url,
                         fix="run again: the download resumes where it stopped")
    part.replace(target)
    return target


def _request(url: str, have: int) -> urllib.request.Request:
    headers = {"User-Agent": "thresher"}
    if have:
        headers["Range"] = f"bytes={have}-"
    return urllib.request.Request(url, headers=headers)


def _fetch(url: str, part: Path) -> None:
    """Append the missing bytes to ``part``; raise _Interrupted if the transfer stops early."""
    have = part.stat().st_size if part.exists() else 0
    try:
        response = urllib.request.urlopen(_request(url, have), timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part is already whole
            return
        raise InputError(f"the download failed: HTTP {err.code} {err.reason}", where=url,
                         fix="check the URL") from err
    except urllib.error.URLError as err:
        raise InputError(f"cannot reach the server ({err.reason})", where=url,
                         fix="check the network, or download the file yourself and pass its path") from err
    with response:
        resumed = have > 0 and response.status == 206
        expected = _expected_size(response, have if resumed else 0)
        with part.open("ab" if resumed else "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
    size = part.stat().st_size
    if expected is not None and size < expected:
        raise _Interrupted(f"got {size} of {expected} bytes")


def _expected_size(response: object, offset: int) -> int | None:
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None
