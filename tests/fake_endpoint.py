"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for the tests of the LLM
paraphrase augmenter and the LLM judge (both talk through thresher.llm_client).

Use it as a context manager: it listens on a free port in a thread, logs every request, answers
from ``script`` first (scripted statuses, raw bodies, delays) and then from ``answer``, and shuts
down at once on exit (the server polls every 50 ms, and handler threads are daemons, so a
client that gave up on a slow answer does not hold the test).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

__all__ = ["FakeEndpoint", "completion"]

Answer = Callable[[dict[str, Any]], str]


def completion(content: str) -> bytes:
    """The body of a successful chat completion whose reply is ``content``."""
    return json.dumps({"choices": [{"message": {"role": "assistant",
                                                "content": content}}]}).encode()


class FakeEndpoint:
    """``url`` ends in /v1; ``requests`` holds each request's path, JSON body, arrival time
    (time.monotonic) and Authorization header. ``script`` is a queue of (status, body) or
    (status, body, delay_s) answers for the next requests, the body sent as it is (Retry-After
    is 0 on a 429); once it is empty, ``answer(body)`` gives the reply's content."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.script: list[tuple[Any, ...]] = []
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.handle_error = lambda *args: None  # a client that timed out is expected
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> FakeEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self, body: dict[str, Any]) -> tuple[int, bytes, float]:
        if not self.script:
            return 200, completion(self.answer(body)), 0.0
        status, payload, *delay = self.script.pop(0)
        raw = payload.encode() if isinstance(payload, str) else payload
        return status, raw, delay[0] if delay else 0.0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "time": time.monotonic(),
                                      "auth": self.headers.get("Authorization")})
                status, payload, delay = fake._next(body)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
