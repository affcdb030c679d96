"""Downloads (cache, resume with Range), archives (safe unpacking), all against a local server."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from thresher.errors import InputError
from thresher.io import cache_folder, read_source

CSV = ("label,text\n" + "".join(f"{i % 2},example number {i}\n" for i in range(200))).encode()


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    log: list[tuple[str, str | None]] = []
    drop_first: set[str] = set()
    ranges = True

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.log.append((self.path, self.headers.get("Range")))
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = int(self.headers["Range"][6:-1]) if self.ranges and self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if self.path in self.drop_first:  # send half, then hang up
            self.drop_first.discard(self.path)
            self.wfile.write(body[start: start + (len(body) - start) // 2])
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    _Handler.files, _Handler.log, _Handler.drop_first, _Handler.ranges = {}, [], set(), True
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield _Handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_once_then_from_cache(server, cache):
    handler, base = server
    handler.files["/data/reviews.csv"] = CSV
    first = read_source(f"{base}/data/reviews.csv", cache_dir=cache)
    second = read_source(f"{base}/data/reviews.csv", cache_dir=cache)
    assert len(handler.log) == 1
    assert len(first.table) == len(second.table) == 200
    assert first.info.url == f"{base}/data/reviews.csv"
    assert first.info.sha256 == hashlib.sha256(CSV).hexdigest()
    assert first.table["source"][0] == f"{base}/data/reviews.csv:2"


def test_interrupted_download_resumes_with_range(server, cache):
    handler, base = server
    handler.files["/big.csv"] = CSV
    handler.drop_first.add("/big.csv")
    result = read_source(f"{base}/big.csv", cache_dir=cache)
    assert len(result.table) == 200
    assert handler.log == [("/big.csv", None), ("/big.csv", f"bytes={len(CSV) // 2}-")]
    assert not list(cache.rglob("*.part"))


def test_server_without_range_support_restarts(server, cache):
    handler, base = server
    handler.files["/big.csv"] = CSV
    handler.drop_first.add("/big.csv")
    handler.ranges = False
    assert len(read_source(f"{base}/big.csv", cache_dir=cache).table) == 200
    assert next(cache.rglob("big.csv")).read_bytes() == CSV


def test_http_404_and_unreachable(server, cache):
    _, base = server
    with pytest.raises(InputError, match="HTTP 404"):
        read_source(f"{base}/missing.csv", cache_dir=cache)
    with pytest.raises(InputError, match="cannot reach the server"):
        read_source("http://127.0.0.1:9/x.csv", cache_dir=cache)


def test_cache_folder_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("THRESHER_CACHE", str(tmp_path / "c"))
    assert cache_folder() == tmp_path / "c" / "downloads"
    assert cache_folder(tmp_path / "x") == tmp_path / "x"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tf.addfile(info)
    return buffer.getvalue()


def test_zip_download_reads_the_single_file_inside(server, cache):
    handler, base = server
    handler.files["/pack.zip"] = _zip({"pack/": b"", "pack/train.csv": CSV})
    result = read_source(f"{base}/pack.zip", cache_dir=cache)
    assert len(result.table) == 200
    assert result.table["source"][0] == f"{base}/pack.zip!pack/train.csv:2"


def test_local_tgz_with_a_folder_per_class(write, cache):
    path = write("d.tgz", _tar({"d/pos/1.txt": b"good", "d/neg/2.txt": b"bad"}))
    result = read_source(path, cache_dir=cache)
    assert result.info.format == "folder"
    assert sorted(result.table["label"]) == ["neg", "pos"]


def test_gzip_single_file(write, cache):
    result = read_source(write("d.csv.gz", gzip.compress(CSV)), cache_dir=cache)
    assert len(result.table) == 200 and result.info.format == "csv"


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_archive_member_escaping_the_folder_is_refused(write, cache, tmp_path, kind):
    members = {"ok.csv": CSV, "../evil.csv": b"pwned"}
    path = write(f"evil.{kind}", _zip(members) if kind == "zip" else _tar(members))
    with pytest.raises(InputError) as err:
        read_source(path, cache_dir=cache)
    assert err.value.what == "archive member '../evil.csv' would be written outside the unpack folder"
    assert not (cache / "evil.csv").exists() and not list(tmp_path.rglob("evil.csv"))


def test_archive_with_a_link_is_refused(write, cache):
    path = write("link.tgz", _tar({"ok.csv": CSV}, link="passwd"))
    with pytest.raises(InputError, match="'passwd' is a link"):
        read_source(path, cache_dir=cache)


def test_damaged_archive(write, cache):
    path = write("broken.zip", _zip({"a.csv": CSV})[:60])
    with pytest.raises(InputError):
        read_source(path, cache_dir=cache)
    assert not any(p.name.endswith(".tmp") for p in Path(cache).rglob("*"))
