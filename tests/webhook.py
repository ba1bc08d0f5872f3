"""A local webhook receiver for the alert tests: http.server on 127.0.0.1, a free port, in a thread."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    """What the local webhook got, and the statuses it answers with in turn (200 once they run out)."""

    url: str
    received: list[tuple[str, dict]] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    hold: threading.Event | None = None  # when set up, the handler answers only once this is set
    auth: list[str | None] = field(default_factory=list)


@contextmanager
def local_receiver() -> Iterator[Receiver]:
    """A receiver listening until the block ends; each POST is recorded before it is answered."""
    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.received.append((self.path, json.loads(body)))
            box.auth.append(self.headers.get("Authorization"))
            if box.hold is not None:
                box.hold.wait()
            self.send_response(box.codes.pop(0) if box.codes else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield box
    finally:
        if box.hold is not None:
            box.hold.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
