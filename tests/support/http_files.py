"""A local HTTP server for download tests: serves in-memory files, honours ``Range: bytes=N-``
(and ``N-M``), answers 404 for anything else, can drop a file's first transfer halfway, and can
hold a transfer halfway until the test releases it."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
from typing import Iterator

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class FileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}  # URL path -> body
        self.cut_once: set[str] = set()  # paths whose next full transfer stops halfway
        self.held: dict[str, threading.Event] = {}  # paths whose transfers pause halfway
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: FileServer

    def do_GET(self):
        try:
            self._answer()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client cancelled mid-transfer: what the tests do on purpose

    def _answer(self) -> None:
        requested = self.headers.get("Range")
        self.server.requests.append((self.path, requested))
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        match = _RANGE.match(requested or "")
        start = int(match.group(1)) if match else 0
        end = int(match.group(2)) if match and match.group(2) else len(body) - 1
        if match:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        else:
            self.send_response(200)
        part = body[start:end + 1]
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if self.path in self.server.cut_once and len(part) > 1:
            self.server.cut_once.discard(self.path)
            self.wfile.write(part[:len(part) // 2])
            self.close_connection = True
            return
        held = self.server.held.get(self.path)
        if held is not None and len(part) > 1:
            self.wfile.write(part[:len(part) // 2])
            self.wfile.flush()
            held.wait(30)
            part = part[len(part) // 2:]
        self.wfile.write(part)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving() -> Iterator[FileServer]:
    """A started ``FileServer``, shut down (thread joined) on exit."""
    server = FileServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        for event in server.held.values():
            event.set()
        server.shutdown()
        server.server_close()
        thread.join()
