"""Reading data: every supported format into the task's table, with rejects and a description.

The one entry point is :func:`read_source`; :class:`ReadResult` holds the table, the rejected
rows and a :class:`SourceInfo` for the run manifest. :func:`iter_source` gives the same in
chunks, streaming large files so that memory stays bounded.
"""

from __future__ import annotations

from thresher.io.acquire import cache_folder, download, sha256_file
from thresher.io.detect import FORMATS
from thresher.io.encoding import detect_encoding
from thresher.io.result import BadLine, ColumnInfo, ReadResult, SourceInfo
from thresher.io.source import read_source
from thresher.io.stream import iter_source

__all__ = [
    "FORMATS",
    "BadLine",
    "ColumnInfo",
    "ReadResult",
    "SourceInfo",
    "cache_folder",
    "detect_encoding",
    "download",
    "iter_source",
    "read_source",
    "sha256_file",
]
