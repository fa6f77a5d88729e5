"""What every simulated source system shares: an HTTP server on loopback, OAuth2
client-credentials tokens, a request-rate limit answered with 429 + Retry-After,
and faults injected on demand, so that clients are tested against real failures.

A service serves `Reply` objects from its routes; faults act on the wire (latency,
5xx, a dropped connection, a truncated body) or on the page (a malformed envelope,
records repeated from the page before, records edited: a new field, a wrong type, a
missing key), exactly where a real system fails.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

FAULT_KINDS = ("latency", "error", "drop", "truncate", "malformed", "duplicate", "edit")
TOKEN_SECONDS = 3600


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    base_url: str
    fault: Fault | None = None


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str
    path: str = ""  # applies to requests whose path contains this
    times: int = 1
    seconds: float = 0.0  # latency
    status: int = 503  # error
    after: int = 0  # let this many matching requests pass first (fail page 3, not page 1)
    edit: Callable[[Any], None] | None = None  # edit: changes the reply body in place


Route = Callable[[Request], Reply]


class Service:
    """One source system's HTTP API. Subclasses add routes and `advance(day)`."""

    name = "service"
    token_path = "/oauth/token"

    def __init__(self, max_requests_per_second: float = 200.0) -> None:
        self.client_id = f"finsync-{self.name}"
        self.client_secret = secrets.token_urlsafe(24)
        self.max_requests_per_second = max_requests_per_second
        self.routes: dict[str, Route] = {}
        self.status_counts: Counter[int] = Counter()
        # (arrival, status, path) of every request answered, for tests and load figures
        self.served: deque[tuple[float, int, str]] = deque(maxlen=100_000)
        self.token_seconds = TOKEN_SECONDS
        self._tokens: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.last_request_at = time.monotonic()

    # ---------------------------------------------------------------- lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, f"{self.name} is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---------------------------------------------------------------- faults and limits
    def inject(self, kind: str, path: str = "", times: int = 1, **options: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self._faults.append(Fault(kind, path, times, **options))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path in path:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _over_rate(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self.last_request_at = now
            while self._recent and now - self._recent[0] > 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.max_requests_per_second:
                return True
            self._recent.append(now)
            return False

    # ---------------------------------------------------------------- auth
    def issue_token(self, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "client_credentials" or (
            form.get("client_id"),
            form.get("client_secret"),
        ) != (self.client_id, self.client_secret):
            return Reply({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_seconds
        return Reply(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_seconds}
        )

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        expires = self._tokens.get(header.removeprefix("Bearer "))
        return expires is not None and expires > time.monotonic()

    # ---------------------------------------------------------------- dispatch
    def handle(self, request: Request) -> Reply:
        for prefix, route in sorted(self.routes.items(), key=lambda r: -len(r[0])):
            if request.path == prefix or request.path.startswith(prefix + "/"):
                return route(request)
        return Reply({"error": f"no such resource {request.path}"}, 404)


def _handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the tests and the UI have their own logs."""

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            self.arrived = time.monotonic()
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path == service.token_path and method == "POST":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                return self._send(service.issue_token(form))
            if not service.authorized(self.headers.get("Authorization")):
                return self._send(
                    Reply({"error": "invalid_token"}, 401, {"WWW-Authenticate": "Bearer"})
                )
            if service._over_rate():
                return self._send(Reply({"error": "rate limit"}, 429, {"Retry-After": "1"}))
            fault = service._take_fault(url.path)
            if fault and fault.kind == "latency":
                time.sleep(fault.seconds)
            if fault and fault.kind == "error":
                return self._send(Reply({"error": "injected"}, fault.status))
            if fault and fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            body = json.loads(raw) if raw else {}
            request = Request(
                method,
                url.path,
                {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
                body,
                f"http://{self.headers.get('Host')}",
                fault,
            )
            try:
                reply = service.handle(request)
            except ValueError as error:  # a bad query: the client's fault, say so
                reply = Reply({"error": str(error)}, 400)
            if fault and fault.kind == "edit" and fault.edit is not None:
                fault.edit(reply.body)
            if fault and fault.kind == "malformed":
                reply = Reply({"error": None, "page": "<html>gateway timeout</html>"}, 200)
            self._send(reply, truncate=bool(fault and fault.kind == "truncate"))

        def _send(self, reply: Reply, truncate: bool = False) -> None:
            # orjson: ~5x json's speed; a vendor's server is not the bottleneck of its client.
            # A body already in bytes (a CSV page) goes as it is, with its own Content-Type.
            headers = dict(reply.headers)
            content_type = headers.pop("Content-Type", "application/json")
            if isinstance(reply.body, bytes | bytearray):
                payload = bytes(reply.body)
            else:
                payload, content_type = orjson.dumps(reply.body), "application/json"
            if truncate:
                payload = payload[: len(payload) // 2]
            service.status_counts[reply.status] += 1
            service.served.append((self.arrived, reply.status, urlsplit(self.path).path))
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
