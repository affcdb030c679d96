"""Fixtures for the engine tests."""

from __future__ import annotations

import pytest

from thresher.io import stream


@pytest.fixture
def small_chunks(monkeypatch):
    """Read in chunks of 50 rows so a few hundred rows make several shards."""
    monkeypatch.setattr(stream, "CHUNK_ROWS", 50)
    monkeypatch.setattr(stream, "STREAM_ABOVE", 0)
