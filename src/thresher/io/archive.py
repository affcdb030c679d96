"""Archives (.zip, .tar, .tar.gz, .tgz) and single gzip files, unpacked safely into the cache.

Every member is checked before anything is written: a member whose path is absolute or resolves
outside the target folder (``../evil``), a symbolic or hard link, or a device file makes the
whole archive an :class:`InputError`. Unpacking goes to a temporary folder renamed when done.
Afterwards :func:`data_inside` finds what to read: the single data file, or the folder.
"""

from __future__ import annotations

import gzip
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from thresher.errors import InputError
from thresher.io.hf_reader import HF_MARKERS

__all__ = ["data_inside", "is_archive", "unpack"]

_IGNORED = ("__MACOSX",)


def is_archive(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(4)
    return head.startswith(b"PK\x03\x04") or head.startswith(b"\x1f\x8b") or tarfile.is_tarfile(path)


def _checked(root: Path, name: str, archive: Path) -> Path:
    target = (root / name).resolve()
    if Path(name).is_absolute() or not target.is_relative_to(root.resolve()):
        raise InputError(f"archive member {name!r} would be written outside the unpack folder",
                         where=str(archive),
                         fix="do not use this archive; repack it without '..' or absolute paths")
    return target


def _unsafe_kind(archive: Path, name: str, kind: str) -> InputError:
    return InputError(f"archive member {name!r} is a {kind}; thresher does not unpack links or devices",
                      where=str(archive), fix="repack the archive with plain files only")


def _unpack_zip(archive: Path, root: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _unsafe_kind(archive, info.filename, "link")
            _checked(root, info.filename, archive)
        for info in members:
            target = _checked(root, info.filename, archive)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)


def _unpack_tar(archive: Path, root: Path) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            if member.issym() or member.islnk():
                raise _unsafe_kind(archive, member.name, "link")
            if not (member.isfile() or member.isdir()):
                raise _unsafe_kind(archive, member.name, "device or special file")
            _checked(root, member.name, archive)
        for member in members:
            target = _checked(root, member.name, archive)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tf.extractfile(member)
            with source, target.open("wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(source, out)


def _gunzip(archive: Path, root: Path) -> None:
    name = archive.name[:-3] if archive.name.endswith(".gz") else archive.name + ".out"
    root.mkdir(parents=True, exist_ok=True)
    with gzip.open(archive, "rb") as src, (root / name).open("wb") as out:
        shutil.copyfileobj(src, out)


def unpack(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target`` (once; an existing ``target`` is reused)."""
    if target.exists():
        return target
    temp = target.with_name(target.name + ".tmp")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, temp)
        elif tarfile.is_tarfile(archive):
            _unpack_tar(archive, temp)
        else:
            _gunzip(archive, temp)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, gzip.BadGzipFile) as err:
        shutil.rmtree(temp, ignore_errors=True)
        raise InputError(f"the archive is damaged ({err})", where=str(archive),
                         fix="download or pack it again") from err
    except InputError:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    temp.replace(target)
    return target


def _entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in _IGNORED]


def data_inside(folder: Path) -> Path:
    """The single file inside (through wrapping folders), else the folder to read as a whole."""
    while True:
        entries = _entries(folder)
        if not entries:
            raise InputError("the archive is empty", where=str(folder), fix="pass an archive with data")
        if any((folder / m).exists() for m in HF_MARKERS) or len(entries) > 1:
            return folder
        if entries[0].is_file():
            return entries[0]
        folder = entries[0]
