"""The HTTP layer: a threaded stdlib server speaking the Bot API's URLs.

``/bot<token>/<method>`` runs a Bot API method (methods/), ``/file/bot<token>/<path>``
downloads a stored file, ``/_control/<action>`` is the test control API (control.py).
Why hand-written responses: keep-alive (httpx reuses connections), TCP_NODELAY and a
single write per response keep a request well under a millisecond.  Unknown methods
answer 400, never 404, because PTB maps 404 to ``InvalidToken`` and would stop polling.
"""

from __future__ import annotations

import select
import socket
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ._parsing import UploadedFile, parse_body, parse_query
from .methods import DISPATCH
from .records import Aborted, ApiError, Injection, Request, fault_error, json_bytes

if TYPE_CHECKING:
    from .server import LocalBotApi


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # bursts from httpx's 256-connection pool must not be refused

    def __init__(self, address, handler, api: LocalBotApi):
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        if not self.api._stopping:
            traceback.print_exc()


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: httpx reuses connections
    server_version = "LocalBotApi/1.0"
    sys_version = ""
    server: HTTPServer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.api._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.api._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.api.verbose:
            sys.stderr.write(f"[local_bot_api] {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self.server.api._handle_http(self)

    do_POST = do_GET

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Write status line, headers and body in ONE send (avoids Nagle/delayed-ACK stalls)."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        head = (
            f"HTTP/1.1 {status} {reason}\r\nServer: {self.server_version}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write(head.encode("latin-1") + b"\r\n" + body)

    def alive(self) -> bool:
        """False once the client closed the connection (used while long-polling)."""
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return True
            return sock.recv(1, socket.MSG_PEEK) != b""
        except (OSError, ValueError):
            return False


class HttpLayer:
    """Routes each HTTP request to a Bot API method, a file download or the control API."""

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def _handle_http(self, h: RequestHandler) -> None:
        started = time.time()
        split = urlsplit(h.path)
        path = split.path
        try:
            body = h.read_body()
        except (ValueError, OSError):
            h.close_connection = True
            h.send_bytes(400, json_bytes({"ok": False, "error_code": 400, "description": "Bad Request: bad body"}))
            return
        if path.startswith("/bot"):
            token, _, method = path[4:].partition("/")
            if not method or "/" in method:
                h.send_bytes(404, json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))
                return
            h.hold = 0.0
            out = self._api_call(h, unquote(token), method, split.query, body, started)
            if out is None:  # client gone, or a dropped connection injected
                h.close_connection = True
                return
            if h.hold > 0:  # a slow answer injected: the call is done, its answer waits
                time.sleep(h.hold)
            h.send_bytes(*out)
        elif path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            h.send_bytes(*self._download(unquote(token), unquote(file_path), started))
        elif path.startswith("/_control/"):
            h.send_bytes(*self._control(h.command, path[len("/_control/"):], split.query, body))
        else:
            h.send_bytes(404, json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))

    def _api_call(self, h: RequestHandler, token: str, method: str, query: str, body: bytes,
                  started: float) -> tuple[int, bytes] | None:
        files: dict[str, UploadedFile] = {}
        entry = DISPATCH.get(method.lower())
        name = entry[0] if entry else method
        try:
            params = parse_query(query)
            body_params, files = parse_body(h.headers.get("Content-Type"), body)
            params.update(body_params)
        except ValueError as exc:
            params = {}
            payload: dict = ApiError(400, f"Bad Request: can't parse request: {exc}").payload()
        else:
            payload = {}
        with self._cond:
            bot = self._bots.get(token)
            if payload:
                pass
            elif bot is None:
                payload = ApiError(401, "Unauthorized").payload()
            else:
                injection = self._take_injection(token, name)
                if injection is not None and injection.drop:
                    self._record(token, name, params, files, 0, {"ok": False, "description": "dropped (injected)"},
                                 started)
                    return None
                if injection is not None and injection.delay > 0:
                    h.hold, injection = injection.delay, None
                if injection is not None:
                    payload = injection.error.payload()
                elif entry is None:
                    payload = ApiError(400, "Bad Request: method not found").payload()
                else:
                    try:
                        result = entry[1](self, Request(bot, name, params, files, h.alive))
                        payload = {"ok": True, "result": result}
                    except ApiError as exc:
                        payload = exc.payload()
                    except Aborted:
                        return None
                    except Exception as exc:  # a bug in the fake: make it loud, not silent
                        traceback.print_exc()
                        payload = ApiError(500, f"Internal Server Error: {exc!r}").payload()
            status = 200 if payload.get("ok") else payload["error_code"]
            data = json_bytes(payload)
            self._record(token, name, params, files, status, payload, started)
        return status, data

    def _take_injection(self, token: str, method: str) -> Injection | None:
        """The fault for this call: a queued one (fail_next, drop_next, delay_next) first, else a random
        one (inject_faults), else None."""
        lowered = method.lower()
        for inj in self._injections:
            if inj.method == lowered and (inj.token is None or inj.token == token):
                inj.remaining -= 1
                if inj.remaining <= 0:
                    self._injections.remove(inj)
                return inj
        plan = self._fault_plans.get((lowered, token)) or self._fault_plans.get((lowered, None))
        if plan is None or plan.rng.random() >= plan.rate:
            return None
        kind = plan.rng.choice(plan.kinds)
        plan.counts[kind] = plan.counts.get(kind, 0) + 1
        if kind == "drop":
            return Injection(lowered, token, 1, drop=True)
        if kind == "slow":
            return Injection(lowered, token, 1, delay=plan.rng.uniform(*plan.slow))
        status = int(kind)
        return Injection(lowered, token, 1, error=fault_error(status, 1 if status == 429 else None))

    def _download(self, token: str, file_path: str, started: float) -> tuple[int, bytes, str]:
        with self._cond:
            rec = self._files_by_path.get(file_path)
            if token not in self._bots:
                status, body, ctype = 401, json_bytes(ApiError(401, "Unauthorized").payload()), "application/json"
            elif rec is None:
                status, body, ctype = 404, json_bytes(ApiError(404, "Not Found").payload()), "application/json"
            else:
                status, body, ctype = 200, rec.data, rec.mime_type
            self._record(token, "file_download", {"file_path": file_path}, {}, status,
                         {"ok": status == 200, "result": {"file_path": file_path, "size": len(body)}}, started)
        return status, body, ctype
