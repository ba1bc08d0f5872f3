"""A stand-in for `mlflow models serve` that fails on cue, run as a process (`python fake_model_server.py PORT MODE
N`) so that dying, hanging and refusing are real to the client: /ping answers 200, /invocations answers 0.5 for
every row it is sent, one request at a time (as one uvicorn worker does), until the MODE's fault:

- exit N: prints a load error and exits with code N before listening;
- port-clash: prints uvicorn's bind error and exits with code 1;
- die N: answers N requests, then SIGKILLs itself on the next one;
- hang N: answers N requests, then never answers the next one (the process stays alive);
- close N: answers N requests, then stops listening (the process stays alive);
- drop N: closes the first N requests' connections without an answer, then answers.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import sys
import threading

port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print(f"fake model server on port {port}: {mode} {n}", flush=True)
if mode == "exit":
    print("mlflow.exceptions.MlflowException: the model cannot be loaded", flush=True)
    sys.exit(n)
if mode == "port-clash":
    print(f"ERROR: [Errno 98] error while attempting to bind on address ('127.0.0.1', {port}): address already in use")
    sys.exit(1)

posts = 0
closing = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self._reply(200 if self.path == "/ping" else 404, b"")

    def do_POST(self) -> None:  # noqa: N802
        global posts
        posts += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        rows = len(body["dataframe_split"]["data"])
        if self._fault():
            return
        self._reply(200, json.dumps({"predictions": [[0.5, 0.5]] * rows}).encode())
        if mode == "close" and posts >= n:
            closing.set()

    def _fault(self) -> bool:
        """Act out the fault on this request; True when it gets no answer."""
        if mode == "drop" and posts <= n:
            print(f"request {posts}: connection dropped", flush=True)
            self.close_connection = True
            return True
        if posts <= n or mode not in ("die", "hang"):
            return False
        print(f"request {posts}: {mode}", flush=True)
        if mode == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Event().wait()  # hang: the one thread that answers never comes back
        return True

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


httpd = http.server.HTTPServer(("127.0.0.1", port), Handler)
while not closing.is_set():
    httpd.handle_request()
httpd.server_close()
print("stopped listening; still running", flush=True)
threading.Event().wait()
