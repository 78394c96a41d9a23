"""Fake SMS provider endpoints on 127.0.0.1 (a thread in the test process). Each records every
request; a test sets ``respond`` to shape answers. No test reaches the internet."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    def __init__(self, respond):
        self.requests: list[dict] = []
        self.respond = respond  # (request dict) -> (status, body dict)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": parsed.path,
                    "query": dict(urllib.parse.parse_qsl(parsed.query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "raw": raw,
                    "form": dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"))),
                }
                with server.lock:
                    server.requests.append(request)
                status, body = server.respond(request)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class RecordingProvider:
    """The provider behind FakeHttpGateway: records a send on arrival, then (optionally) sleeps
    before answering, so a worker can be killed after the provider got the message."""

    def __init__(self, *, sleep_first: float = 0.0):
        self.sleep_first = sleep_first
        self.sends: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, request):
        if request["path"] == "/send":
            message = json.loads(request["raw"])
            with self._lock:
                self.sends.append(message)
                first = len(self.sends) == 1
                message_id = f"fake-{len(self.sends)}"
            if first and self.sleep_first:
                time.sleep(self.sleep_first)
            return 200, {"id": message_id}
        if request["path"] == "/lookup":
            reference = request["query"]["reference"]
            with self._lock:
                for index, message in enumerate(self.sends, start=1):
                    if message["reference"] == reference:
                        return 200, {"found": True, "id": f"fake-{index}"}
            return 200, {"found": False}
        return 404, {}

    def count(self, reference: str) -> int:
        with self._lock:
            return sum(1 for m in self.sends if m["reference"] == reference)
