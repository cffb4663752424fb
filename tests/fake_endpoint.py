"""A local OpenAI-compatible endpoint for tests: a real HTTP server on 127.0.0.1 that answers every POST with
``reply(body)`` and keeps the request bodies (with the ``Authorization`` header and path as ``_auth``/``_path``)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[[dict], tuple[int, bytes]]


@dataclass
class FakeEndpoint:
    """What a test sets (``reply``) and reads (``requests``, ``url``: the ``…/v1`` base URL)."""

    reply: Reply
    requests: list[dict] = field(default_factory=list)
    url: str = ""
    text: str = ""  # what a chat endpoint (:func:`serve_chat`) answers


@contextlib.contextmanager
def serve(reply: Reply) -> Iterator[FakeEndpoint]:
    """Run a fake endpoint until the block ends."""
    endpoint = FakeEndpoint(reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body["_auth"], body["_path"] = self.headers.get("Authorization"), self.path
            endpoint.requests.append(body)
            status, data = endpoint.reply(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None  # a client that timed out closed the socket: expected
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_chat() -> Iterator[FakeEndpoint]:
    """A chat-completions endpoint whose every answer is ``endpoint.text`` (set it before the request)."""
    with serve(lambda body: (200, b"")) as endpoint:
        endpoint.reply = lambda body: (200, json.dumps({"choices": [{"message": {"content": endpoint.text}}]}).encode())
        yield endpoint
