"""One client for OpenAI-compatible chat endpoints, shared by the LLM paraphrase augmenter and
the LLM judge.

Both talk to the same kind of server (OpenAI, vLLM, llama.cpp's server, Ollama, ...) and need
the same care: requests spaced by a rate limit, retries with exponential backoff on 429, 5xx,
timeouts and dropped connections (honouring Retry-After), errors that stop at once and name the
setting to fix for 401/403/404, and an on-disk answer cache so a re-run costs no request. Each
caller passes its own ``where`` (the recipe key its messages name) and its own words for its
settings, so an error from the judge never points at the augmenter's settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

from thresher.errors import ModelError, OutputError

__all__ = ["ChatEndpoint", "MAX_WAIT_S", "RETRY_STATUS", "ResponseCache", "cache_key",
           "retry_after_seconds"]

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_WAIT_S = 60.0  # longest pause between two tries, whatever Retry-After says


class ChatEndpoint:
    """One ``{base_url}/chat/completions`` endpoint: rate limit, retries, clear errors.

    ``rate_limit`` is in requests per second (None or 0: no limit), counted over every try.
    ``api_key_env`` names the environment variable holding the key, never the key itself.
    ``where`` prefixes the recipe key in error messages (e.g. ``evaluate.judge``);
    ``rate_limit_name`` is what the caller calls its rate-limit setting, for the same messages.
    """

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = None,
                 rate_limit: float | None = None, retries: int = 5, backoff_s: float = 1.0,
                 timeout_s: float = 60.0, temperature: float = 0.0, max_tokens: int = 256,
                 where: str, rate_limit_name: str = "rate_limit") -> None:
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.rate_limit = rate_limit
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.where = where
        self.rate_limit_name = rate_limit_name
        self.url = str(base_url).rstrip("/") + "/chat/completions"
        self._gap = 1.0 / rate_limit if rate_limit and rate_limit > 0 else 0.0
        self._next_start = 0.0

    def chat(self, prompt: str, *, seed: int) -> str:
        """The answer's text to one user message; retried on 429/5xx/timeouts, a ModelError
        once retries run out or at once for an answer that retrying cannot fix."""
        body = json.dumps({"model": self.model, "temperature": self.temperature,
                           "max_tokens": self.max_tokens, "seed": seed,
                           "messages": [{"role": "user", "content": prompt}]}).encode("utf-8")
        last = ""
        for attempt in range(self.retries + 1):
            self._wait_turn()
            status, payload, retry_after = self._post(body)
            if status == 200:
                return self._content(payload)
            if status is not None and status not in RETRY_STATUS:
                raise self._refused(status, payload)
            last = f"HTTP {status}" if status is not None else payload.decode("utf-8", "replace")
            if attempt < self.retries:
                time.sleep(min(MAX_WAIT_S, retry_after if retry_after is not None
                               else self.backoff_s * 2 ** attempt))
        raise ModelError(f"{self.url} still failed after {self.retries} retries (last: {last})",
                         where=f"{self.where}.base_url",
                         fix=f"Check that the server is up; lower {self.rate_limit_name} or "
                         "raise retries and backoff_s if it is overloaded")

    def _wait_turn(self) -> None:
        """Start requests at least 1/rate_limit seconds apart (tries included)."""
        now = time.monotonic()
        if self._next_start > now:
            time.sleep(self._next_start - now)
            now = self._next_start
        self._next_start = now + self._gap

    def _post(self, body: bytes) -> tuple[int | None, bytes, float | None]:
        """(status, body, Retry-After seconds); status None for a timeout or lost connection."""
        import http.client
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env or "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, response.read(), None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), retry_after_seconds(exc.headers.get("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused, dropped
            reason = getattr(exc, "reason", exc)
            return None, f"no answer ({reason})".encode(), None

    def _content(self, payload: bytes) -> str:
        fix = "Check that base_url points to an OpenAI-compatible API (it usually ends in /v1)"
        try:
            data = json.loads(payload)
        except ValueError:
            start = payload[:60].decode("utf-8", "replace")
            raise ModelError(f"the answer of {self.url} is not JSON (it starts with {start!r})",
                             where=f"{self.where}.base_url", fix=fix) from None
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise ModelError(f"the answer of {self.url} has no choices[0].message.content",
                             where=f"{self.where}.base_url", fix=fix)
        return content

    def _refused(self, status: int, payload: bytes) -> ModelError:
        env = self.api_key_env
        if status in (401, 403):
            unset = "" if env and os.environ.get(env) else " (it is not set now)"
            return ModelError(
                f"{self.url} refused the API key (HTTP {status})",
                where=f"{self.where}.api_key_env",
                fix=f"Set the environment variable {env} to a valid key{unset}" if env else
                "Set api_key_env to the name of the environment variable that holds the key")
        if status == 404:
            return ModelError(f"{self.url} answered HTTP 404: no such endpoint or model "
                              f"{self.model!r}", where=f"{self.where}.base_url",
                              fix="Check base_url (it usually ends in /v1) and model")
        detail = payload[:200].decode("utf-8", "replace")
        return ModelError(f"{self.url} rejected the request (HTTP {status}: {detail})",
                          where=f"{self.where}.base_url",
                          fix="Check model, temperature and max_tokens against the endpoint")


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's delay in seconds; None when absent or an HTTP date (the caller
    then waits its usual backoff instead)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ResponseCache:
    """Answers on disk, each a list of texts under a key (SQLite: safe for two runs at once,
    one small file). ``what`` names the answers in the error when the file cannot be opened."""

    def __init__(self, path: Path, what: str = "response") -> None:
        self.path = path
        self.what = what
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> ResponseCache:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("CREATE TABLE IF NOT EXISTS answers "
                            "(key TEXT PRIMARY KEY, answers TEXT NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(f"cannot open the {self.what} cache ({exc})", where=str(self.path),
                              fix="Set cache_dir to a writable folder") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def get(self, key: str) -> list[str] | None:
        """The answers stored under ``key``, or None."""
        assert self.db is not None, "use the cache inside a with block"
        row = self.db.execute("SELECT answers FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, answers: list[str]) -> None:
        """Store (or replace) ``answers`` under ``key``, committed at once."""
        assert self.db is not None, "use the cache inside a with block"
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)",
                            (key, json.dumps(answers, ensure_ascii=False)))


def cache_key(*parts: str | int | float | None) -> str:
    """A cache key from what an answer depends on (endpoint, model, prompt, sampling settings,
    seed); settings left out (rate limit, retries) reuse the answer. The hash of the parts as a
    JSON list, so keys written before this module existed still match."""
    return hashlib.sha256(json.dumps(list(parts), ensure_ascii=False).encode("utf-8")).hexdigest()
