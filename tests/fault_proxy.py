"""A fault-injecting HTTP proxy in front of ``moto_server``, for the S3 store's fault tests.

Every request is forwarded to the real S3 server unless the seeded schedule picks a fault for
it. The decision is a hash of (seed, method, path, query without the upload id, how many times
this request was seen before), so a schedule is reproducible whatever order the client's
threads send requests in. Faults:

- ``500``, ``503``, ``slowdown``: an S3 error answer (InternalError, ServiceUnavailable,
  SlowDown), nothing forwarded;
- ``reset``: the request is forwarded, half the response body is sent, then the connection is
  reset (RST);
- ``truncate``: the response's headers announce the whole body, half of it is sent, then the
  connection is closed;
- ``delay``: the answer is held back ``delay`` seconds (beyond the client's read timeout it is
  a timeout);
- ``drop-part``: an UploadPart is answered 200 with a made-up ETag but never forwarded (the
  server lost it: CompleteMultipartUpload says InvalidPart);
- ``strip-conditions``: ``If-None-Match`` is removed from requests (a server that ignores
  conditional writes).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("500", "503", "slowdown", "reset", "truncate", "delay", "drop-part")
_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
}
_BODY_FAULTS = ("reset", "truncate")
Match = Callable[[str, str, dict[str, list[str]]], bool]


@dataclass
class Schedule:
    """Which faults, how often (``rate`` of eligible requests), and how many times in a row
    one request may fail (``per_request``; large = a permanent fault)."""

    kinds: tuple[str, ...] = KINDS
    rate: float = 0.2
    seed: int = 0
    per_request: int = 1
    delay: float = 0.3
    only: Match | None = None  # restrict faults to matching requests
    strip_conditions: bool = False

    def pick(self, method: str, path: str, query: dict[str, list[str]], seen: int) -> str | None:
        """The fault for the ``seen``-th occurrence of this request, or None."""
        if seen >= self.per_request or (self.only and not self.only(method, path, query)):
            return None
        stable = sorted((k, v) for k, v in query.items() if k != "uploadId")
        digest = hashlib.sha256(f"{self.seed}|{method}|{path}|{stable}|{seen}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        eligible = [k for k in self.kinds if _eligible(k, method, query)]
        if not eligible:
            return None
        return eligible[int.from_bytes(digest[8:12], "big") % len(eligible)]


def _eligible(kind: str, method: str, query: dict[str, list[str]]) -> bool:
    if kind == "drop-part":
        return method == "PUT" and "partNumber" in query and "uploadId" in query
    if kind in _BODY_FAULTS:
        return method == "GET"
    return True


@dataclass
class FaultProxy:
    """A running proxy: ``url`` to give the store, ``injected`` faults as (kind, method, path)."""

    upstream: str
    schedule: Schedule = field(default_factory=Schedule)
    url: str = ""
    injected: list[tuple[str, str, str]] = field(default_factory=list)
    forwarded: int = 0
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FaultProxy:
        """Listen on a free loopback port (a daemon thread serves)."""
        proxy = self

        class Handler(_Handler):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self, schedule: Schedule) -> None:
        """A new schedule, counts cleared."""
        with self._lock:
            self.schedule = schedule
            self.injected.clear()
            self._seen.clear()
            self.forwarded = 0

    def decide(self, method: str, raw_path: str) -> tuple[str | None, dict[str, list[str]]]:
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        stable = sorted((k, v) for k, v in query.items() if k != "uploadId")
        key = f"{method} {parsed.path} {stable}"
        with self._lock:
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
            kind = self.schedule.pick(method, parsed.path, query, seen)
            if kind is not None:
                self.injected.append((kind, method, parsed.path))
        return kind, query


def _read_chunked(rfile: io.BufferedIOBase) -> bytes:
    """A chunked request body, raw (framing kept), up to its last chunk and trailers."""
    out = bytearray()
    while True:
        line = rfile.readline()
        out += line
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = rfile.readline()
                out += trailer
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(out)
        out += rfile.read(size + 2)


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _error(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>fault</RequestId></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _hang_up(self, reset: bool) -> None:
        self.wfile.flush()
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.wfile = io.BytesIO()  # nothing more goes out
        self.close_connection = True

    def _handle(self) -> None:
        try:
            self._forward()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.close_connection = True

    def _forward(self) -> None:
        body = self._body()
        kind, _ = self.owner.decide(self.command, self.path)
        if kind in _ERRORS:
            self._error(*_ERRORS[kind])
            return
        if kind == "drop-part":
            self.send_response(200)
            self.send_header("ETag", f'"{hashlib.md5(b"lost" + body).hexdigest()}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "delay":
            time.sleep(self.owner.schedule.delay)
        upstream = urllib.parse.urlsplit(self.owner.upstream)
        conn = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=120
        )
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if self.owner.schedule.strip_conditions and name.lower() == "if-none-match":
                    continue
                conn.putheader(name, value)
            conn.endheaders(body or None)
            reply = conn.getresponse()
            data = reply.read()
            with self.owner._lock:
                self.owner.forwarded += 1
            self.send_response(reply.status, reply.reason)
            for name, value in reply.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            length = len(data)
            if self.command == "HEAD":
                length = int(reply.getheader("Content-Length") or 0)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command == "HEAD":
                return
            if kind in _BODY_FAULTS and len(data) > 1:
                self.wfile.write(data[: len(data) // 2])
                self._hang_up(reset=kind == "reset")
                return
            self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815


def running(upstream: str, schedule: Schedule | None = None) -> Iterator[FaultProxy]:
    """A started proxy (a generator, for fixtures); stopped afterwards."""
    proxy = FaultProxy(upstream, schedule or Schedule(rate=0.0)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
