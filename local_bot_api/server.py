"""A local, in-memory Telegram Bot API server for end-to-end tests.

Why: e2e tests of a python-telegram-bot application should exercise the real
PTB stack (httpx requests, polling loop, rate limiter, file download, webhook
handler) without touching api.telegram.org.  ``LocalBotApi`` speaks the same
HTTP protocol (``/bot<token>/<method>``, ``/file/bot<token>/<path>``), keeps a
per-bot update queue with real getUpdates semantics, records every call for
assertions and lets a test inject failures.

Design notes:

* stdlib only: ``ThreadingHTTPServer`` in a background thread, HTTP/1.1
  keep-alive (httpx reuses connections) and TCP_NODELAY with single-write
  responses so a request costs well under a millisecond.
* One ``threading.Condition`` guards all state.  API methods are small and run
  under it; long-polling getUpdates and ``wait_for`` sleep on it, so an update or
  a recorded call wakes them immediately (no polling sleeps in the hot path).
* Errors mimic Telegram's JSON error bodies.  Unknown methods answer 400, never
  404, because PTB maps 404 to ``InvalidToken`` and would stop polling.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import copy
import itertools
import json
import mimetypes
import secrets
import select
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from ._formatting import FormatError, auto_entities, check_markdown_v2, parse_html
from ._parsing import UploadedFile, parse_body, parse_query

__all__ = ["DEFAULT_TOKEN", "ApiError", "Call", "LocalBotApi", "StoredFile", "UploadedFile"]

#: Token used when none is given.  The part before ':' becomes the bot's user id.
DEFAULT_TOKEN = "123456:LOCAL-TEST-TOKEN"

_MAX_POLL_TIMEOUT = 50.0
_ALIVE_CHECK_INTERVAL = 0.25
_MAX_DOWNLOAD = 20 * 1024 * 1024
_GROUP_DEFAULT_IDS = {"group": -100200300, "supergroup": -1001002003004, "channel": -1001002003005}
_FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
_FAKE_OGG = b"OggS\x00\x02" + b"\x00" * 40
_FAKE_WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 28
_INLINE_BUTTON_ACTIONS = {
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
}
_MESSAGE_META = {
    "message_id", "from", "chat", "date", "edit_date", "reply_to_message", "forward_origin",
    "reply_markup", "media_group_id", "sender_chat", "message_thread_id", "is_topic_message",
    "has_protected_content", "author_signature",
}


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class ApiError(Exception):
    """A Bot API error answer: HTTP status + Telegram-style ``description``."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        out = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


class _Aborted(Exception):
    """The client went away (e.g. PTB cancelled a long poll): send and record nothing."""


@dataclass(eq=False)
class Call:
    """One recorded request: what the bot sent and what the server answered."""

    index: int
    method: str
    params: dict
    time: float
    token: str
    status: int = 200
    response: dict | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def to_json(self) -> dict:
        """JSON-safe form (file bytes base64-encoded) used by the control endpoint."""
        return {
            "index": self.index,
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "token": self.token,
            "status": self.status,
            "response": self.response,
            "files": {
                k: {
                    "name": f.name,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "data_b64": base64.b64encode(f.data).decode(),
                }
                for k, f in self.files.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> Call:
        files = {
            k: UploadedFile(v["name"], v["filename"], v["content_type"], base64.b64decode(v["data_b64"]))
            for k, v in (data.get("files") or {}).items()
        }
        return cls(
            index=data["index"],
            method=data["method"],
            params=data["params"],
            time=data["time"],
            token=data["token"],
            status=data["status"],
            response=data["response"],
            files=files,
        )

    def __repr__(self) -> str:
        return f"<Call #{self.index} {self.method} {self.status} params={_short(self.params)}>"


@dataclass(eq=False)
class StoredFile:
    """A file known to the server (pushed by a test or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    file_name: str | None = None

    def meta(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data)}


@dataclass
class _Injection:
    method: str
    token: str | None
    remaining: int
    error: ApiError


class _BotState:
    """Everything the server knows per bot token."""

    def __init__(self, token: str, user: dict):
        self.token = token
        self.user = user
        self.updates: list[dict] = []
        self.next_update_id = 1
        self.poll_seq = 0
        self.allowed_updates: list[str] | None = None
        self.webhook: dict | None = None
        self.webhook_thread: threading.Thread | None = None
        self.webhook_retry_at = 0.0
        self.webhook_deliveries: list[dict] = []
        self.commands: dict[tuple[str, str], list] = {}
        self.menu_buttons: dict[Any, dict] = {}
        self.chats: dict[int, dict] = {}
        self.messages: dict[tuple[int, int], dict] = {}
        self.msg_counter: dict[int, int] = {}
        self.callback_ids: set[str] = set()
        self.inline_ids: set[str] = set()
        self.blocked: set[int] = set()
        self.members: dict[tuple[int, int], dict] = {}
        self.waiting_polls = 0  # getUpdates requests currently held open


class _Request:
    __slots__ = ("alive", "bot", "files", "method", "params")

    def __init__(self, bot, method, params, files, alive):
        self.bot: _BotState = bot
        self.method: str = method
        self.params: dict = params
        self.files: dict[str, UploadedFile] = files
        self.alive: Callable[[], bool] = alive


class _Matcher:
    """Incremental call matcher so waiting for N calls stays O(N)."""

    def __init__(self, method, predicate, match, ok, since, token):
        self.method = method
        self.predicate = predicate
        self.match = match or {}
        self.ok = ok
        self.next_index = since
        self.token = token
        self.found: list[Call] = []

    def accepts(self, c: Call) -> bool:
        if self.method is not None and c.method != self.method:
            return False
        if self.token is not None and c.token != self.token:
            return False
        if self.ok is not None and c.ok != self.ok:
            return False
        for k, v in self.match.items():
            if c.params.get(k, _UNSET) != v:
                return False
        return self.predicate is None or bool(self.predicate(c))

    def describe(self) -> str:
        parts = [self.method or "<any method>"]
        if self.match:
            parts.append(f"match={self.match!r}")
        if self.ok is not None:
            parts.append(f"ok={self.ok}")
        if self.predicate is not None:
            parts.append(f"predicate={getattr(self.predicate, '__name__', self.predicate)!s}")
        if self.next_index:
            parts.append(f"since=#{self.next_index}")
        return " ".join(parts)


def _short(obj: Any, limit: int = 160) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bot_id_from_token(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 100000000 + zlib.crc32(token.encode()) % 900000000


def _update_type(update: dict) -> str | None:
    return next((k for k in update if k != "update_id"), None)


def _strip_reply(msg: dict) -> dict:
    out = copy.deepcopy(msg)
    out.pop("reply_to_message", None)
    return out


def _required(params: dict, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f'Bad Request: parameter "{name}" is required')
    return value


def _int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid integer value {value!r}") from None


class _HTTPServer(ThreadingHTTPServer):
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: httpx reuses connections
    server_version = "LocalBotApi/1.0"
    sys_version = ""
    server: _HTTPServer

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


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class LocalBotApi:
    """Fake Telegram Bot API server hosting one or more bot tokens.

    Usage::

        with LocalBotApi() as api:
            app = api.application_builder().build()   # or .base_url(f"{api.url}/bot")...
            api.push_message(42, "hello")
            call = api.wait_for("sendMessage", match={"chat_id": 42})

    All public methods are thread-safe; the ``*_async`` variants exist so async
    tests never block the event loop the bot under test is running on.
    """

    def __init__(
        self,
        tokens: str | Iterable[str] = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str | None = None,
        bot_first_name: str = "Local Test Bot",
        strict_formatting: bool = True,
        verbose: bool = False,
    ):
        self.host = host
        self._requested_port = port
        self.verbose = verbose
        self.strict_formatting = strict_formatting
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._bots: dict[str, _BotState] = {}
        self._default_token: str | None = None
        self._users: dict[int, dict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._calls: list[Call] = []
        self._call_seq = 0
        self._listeners: list[Callable[[], None]] = []
        self._injections: list[_Injection] = []
        self._ids = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._started = False
        for i, token in enumerate([tokens] if isinstance(tokens, str) else list(tokens)):
            self.add_bot(token, username=bot_username if i == 0 else None, first_name=bot_first_name)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalBotApi:
        """Bind a (free, if port=0) port and serve in a daemon thread."""
        if self._started:
            raise RuntimeError("LocalBotApi can only be started once")
        self._started = True
        self._httpd = _HTTPServer((self.host, self._requested_port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="LocalBotApi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes long polls and closes keep-alive connections so nothing hangs."""
        if self._httpd is None or self._stopping:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            listeners = list(self._listeners)
        for wake in listeners:
            wake()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        for bot in self._bots.values():
            if bot.webhook_thread is not None:
                bot.webhook_thread.join(5)

    def __enter__(self) -> LocalBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalBotApi:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:41234`` (what TELEGRAM_API_BASE_URL should hold)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``: PTB appends the token to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``: PTB appends the token to it."""
        return f"{self.url}/file/bot"

    @property
    def token(self) -> str:
        """The default (first) bot token."""
        assert self._default_token is not None
        return self._default_token

    @property
    def tokens(self) -> list[str]:
        return list(self._bots)

    # ------------------------------------------------------------------ bots
    def add_bot(self, token: str, *, username: str | None = None, first_name: str = "Local Test Bot") -> dict:
        """Host another bot token on this server; returns its getMe user object."""
        with self._lock:
            if token in self._bots:
                return dict(self._bots[token].user)
            bot_id = _bot_id_from_token(token)
            user = {
                "id": bot_id,
                "is_bot": True,
                "first_name": first_name,
                "username": username or f"local_{bot_id}_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
            self._bots[token] = _BotState(token, user)
            if self._default_token is None:
                self._default_token = token
            return dict(user)

    def bot_user(self, token: str | None = None) -> dict:
        """The bot's own User object (as returned by getMe)."""
        with self._lock:
            return dict(self._bot(token).user)

    @property
    def bot_username(self) -> str:
        return self.bot_user()["username"]

    def application_builder(self, token: str | None = None):
        """``telegram.ext.Application.builder()`` pre-pointed at this server."""
        from telegram.ext import Application  # local import: the package itself is stdlib-only

        return (
            Application.builder()
            .token(token or self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    def _bot(self, token: str | None) -> _BotState:
        try:
            return self._bots[token or self.token]
        except KeyError:
            raise ValueError(f"unknown bot token {token!r}") from None

    # ------------------------------------------------------------------ users/chats/messages
    def _user(self, user_id: int, username=None, first_name=None, last_name=None, language_code=None) -> dict:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"user{user_id}",
                    "language_code": "en"}
            self._users[user_id] = user
        for key, value in (("username", username), ("first_name", first_name), ("last_name", last_name),
                           ("language_code", language_code)):
            if value == "":
                user.pop(key, None)
            elif value is not None:
                user[key] = value
        return dict(user)

    def _chat_for_push(self, bot: _BotState, user: dict, chat_id, chat_type: str, title) -> dict:
        if chat_type == "private":
            cid = user["id"] if chat_id is None else chat_id
            chat = {"id": cid, "type": "private", "first_name": user.get("first_name", "")}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
        else:
            if chat_type not in _GROUP_DEFAULT_IDS:
                raise ValueError(f"unsupported chat_type {chat_type!r}")
            cid = _GROUP_DEFAULT_IDS[chat_type] if chat_id is None else chat_id
            known = bot.chats.get(cid, {})
            chat = {"id": cid, "type": chat_type, "title": title or known.get("title") or "Test Group"}
            if "username" in known:
                chat["username"] = known["username"]
        bot.chats[cid] = chat
        return dict(chat)

    def _resolve_chat(self, bot: _BotState, chat_id: Any) -> dict:
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            else:
                name = chat_id.lstrip("@").lower()
                for chat in bot.chats.values():
                    if str(chat.get("username", "")).lower() == name:
                        return chat
                raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        chat = bot.chats.get(chat_id)
        if chat is None:  # lenient: bots may message users the test never pushed
            if chat_id > 0:
                user = self._users.get(chat_id, {"first_name": f"User{chat_id}"})
                chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}
                if "username" in user:
                    chat["username"] = user["username"]
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            bot.chats[chat_id] = chat
        return chat

    def _new_message(self, bot: _BotState, chat: dict, sender: dict, date: int | None = None) -> dict:
        cid = chat["id"]
        mid = bot.msg_counter.get(cid, 0) + 1
        bot.msg_counter[cid] = mid
        return {"message_id": mid, "from": sender, "chat": dict(chat), "date": int(date or time.time())}

    def _store(self, bot: _BotState, msg: dict) -> None:
        bot.messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)

    def _lookup_message(self, bot: _BotState, ref: Any, chat_id: int | None) -> dict:
        """Resolve a message reference (dict, Call, update dict or message_id) to its stored state."""
        if isinstance(ref, Call):
            ref = ref.result
        if isinstance(ref, dict) and "update_id" in ref:
            ref = ref.get("message") or ref.get("edited_message") or ref
        if isinstance(ref, dict):
            stored = bot.messages.get((ref["chat"]["id"], ref["message_id"]))
            return _strip_reply(stored if stored is not None else ref)
        if isinstance(ref, int) and chat_id is not None:
            stored = bot.messages.get((chat_id, ref))
            if stored is not None:
                return _strip_reply(stored)
        raise ValueError(f"unknown message reference {ref!r} (chat {chat_id})")

    def chat_history(self, chat_id: int, *, token: str | None = None) -> list[dict]:
        """Current state (after edits/deletes) of all messages in a chat, oldest first."""
        with self._lock:
            bot = self._bot(token)
            keys = sorted(k for k in bot.messages if k[0] == chat_id)
            return [copy.deepcopy(bot.messages[k]) for k in keys]

    # ------------------------------------------------------------------ files
    def add_file(self, content: bytes, *, mime_type: str = "application/octet-stream",
                 file_name: str | None = None, kind: str = "documents") -> StoredFile:
        """Register bytes the bot can fetch with getFile + download."""
        with self._lock:
            n = next(self._ids)
            ext = ""
            if file_name and "." in file_name:
                ext = "." + file_name.rsplit(".", 1)[1]
            elif mime_type:
                ext = mimetypes.guess_extension(mime_type) or ""
            tag = secrets.token_hex(4)
            rec = StoredFile(
                file_id=f"LBA{kind[:3].upper()}{n:06d}{tag}",
                file_unique_id=f"U{n:06d}{tag}",
                # unique path: PTB treats an *existing local* relative path as a local file
                file_path=f"{kind}/file_{n}_{tag}{ext}",
                data=bytes(content),
                mime_type=mime_type or "application/octet-stream",
                file_name=file_name,
            )
            self._files[rec.file_id] = rec
            self._files_by_path[rec.file_path] = rec
            return rec

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    @staticmethod
    def _media_object(kind: str, rec: StoredFile, p: dict | None = None) -> Any:
        """Telegram media object for a stored file (what appears in Message.<kind>)."""
        p = p or {}
        base = rec.meta()
        if kind == "photo":
            w, h = int(p.get("width", 1280)), int(p.get("height", 960))
            # callers swap in a separately registered thumbnail file for the small size
            return [dict(base, width=max(1, w // 16), height=max(1, h // 16)), dict(base, width=w, height=h)]
        if kind == "sticker":
            out = dict(base, type="regular", width=512, height=512, is_animated=False, is_video=False)
            for key in ("emoji", "set_name"):
                if p.get(key):
                    out[key] = p[key]
            return out
        out = dict(base, mime_type=rec.mime_type)
        if rec.file_name and kind in ("document", "audio", "video", "animation"):
            out["file_name"] = rec.file_name
        if kind in ("audio", "voice", "video", "animation", "video_note"):
            out["duration"] = int(p.get("duration") or 1)
        if kind in ("video", "animation"):
            out["width"], out["height"] = int(p.get("width") or 640), int(p.get("height") or 480)
        if kind == "video_note":
            out["length"] = int(p.get("length") or 240)
            out.pop("mime_type", None)
        if kind == "audio":
            for key in ("title", "performer"):
                if p.get(key):
                    out[key] = p[key]
        return out

    # ------------------------------------------------------------------ pushing updates
    def _push(self, bot: _BotState, payload: dict, enqueue: bool) -> dict:
        update = {"update_id": bot.next_update_id}
        bot.next_update_id += 1
        update.update(copy.deepcopy(payload))
        if enqueue:
            bot.updates.append(update)
            self._cond.notify_all()
        return copy.deepcopy(update)

    def push_update(self, update: dict, *, token: str | None = None, enqueue: bool = True) -> dict:
        """Queue a raw update (any type); ``update_id`` is assigned by the server."""
        with self._cond:
            payload = {k: v for k, v in update.items() if k != "update_id"}
            return self._push(self._bot(token), payload, enqueue)

    def push_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        entities: list[dict] | None = None,
        reply_to_message: Any = None,
        message_thread_id: int | None = None,
        date: int | None = None,
        token: str | None = None,
        enqueue: bool = True,
        **fields: Any,
    ) -> dict:
        """Queue a message from a user; returns the update.

        ``chat_type``: "private" (chat id = user id), "group", "supergroup" or
        "channel" (becomes a ``channel_post``); group chats get a default id/title.

        Entities for /commands, @mentions, urls and #hashtags are computed (UTF-16
        offsets) unless ``entities`` is given.  Extra ``fields`` go into the
        Message verbatim (e.g. ``contact={...}``, ``caption="..."``).
        ``reply_to_message`` may be a message dict, a ``Call`` (its result) or a message_id.
        """
        with self._cond:
            bot = self._bot(token)
            user = self._user(user_id, username, first_name, last_name, language_code)
            chat = self._chat_for_push(bot, user, chat_id, chat_type, title)
            msg = self._new_message(bot, chat, user, date)
            if chat_type == "channel":  # channel posts have a sender_chat instead of a sender
                del msg["from"]
                msg["sender_chat"] = dict(chat)
            if message_thread_id is not None:
                msg["message_thread_id"] = message_thread_id
                msg["is_topic_message"] = True
            if reply_to_message is not None:
                msg["reply_to_message"] = self._lookup_message(bot, reply_to_message, chat["id"])
            if text is not None:
                msg["text"] = text
                ents = auto_entities(text) if entities is None else entities
                if ents:
                    msg["entities"] = ents
            for key, value in fields.items():
                if value is not None:
                    msg[key] = value
            if msg.get("caption") and "caption_entities" not in msg:
                ents = auto_entities(msg["caption"])
                if ents:
                    msg["caption_entities"] = ents
            self._store(bot, msg)
            return self._push(bot, {"channel_post" if chat_type == "channel" else "message": msg}, enqueue)

    def push_group_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        title: str | None = None,
        mention_bot: bool = False,
        **kwargs: Any,
    ) -> dict:
        """Group/supergroup message; ``mention_bot=True`` prefixes ``@<botusername> `` (mention entity)."""
        if mention_bot:
            text = f"@{self.bot_user(kwargs.get('token'))['username']} {text}"
        return self.push_message(user_id, text, chat_id=chat_id, chat_type=chat_type, title=title, **kwargs)

    def push_location(self, user_id: int, latitude: float, longitude: float, **kwargs: Any) -> dict:
        """A shared location (Message.location)."""
        return self.push_message(user_id, None, location={"latitude": latitude, "longitude": longitude}, **kwargs)

    def push_sticker(self, user_id: int, emoji: str = "👍", *, content: bytes = _FAKE_WEBP,
                     set_name: str | None = None, **kwargs: Any) -> dict:
        """A sticker message; its bytes are downloadable via getFile."""
        rec = self.add_file(content, mime_type="image/webp", kind="stickers")
        sticker = self._media_object("sticker", rec, {"emoji": emoji, "set_name": set_name})
        return self.push_message(user_id, None, sticker=sticker, **kwargs)

    def push_photo(self, user_id: int, content: bytes = _FAKE_JPEG, *, caption: str | None = None,
                   width: int = 1280, height: int = 960, **kwargs: Any) -> dict:
        """A photo message (two PhotoSizes, largest last, like Telegram)."""
        rec = self.add_file(content, mime_type="image/jpeg", kind="photos")
        small = self.add_file(content, mime_type="image/jpeg", kind="photos")
        photo = self._media_object("photo", rec, {"width": width, "height": height})
        photo[0].update(small.meta())
        return self.push_message(user_id, None, photo=photo, caption=caption, **kwargs)

    def push_voice(self, user_id: int, content: bytes = _FAKE_OGG, *, duration: int = 2,
                   mime_type: str = "audio/ogg", caption: str | None = None, **kwargs: Any) -> dict:
        """A voice note; bytes downloadable via getFile."""
        rec = self.add_file(content, mime_type=mime_type, kind="voice")
        voice = self._media_object("voice", rec, {"duration": duration})
        return self.push_message(user_id, None, voice=voice, caption=caption, **kwargs)

    def push_document(self, user_id: int, filename: str, content: bytes, mime_type: str | None = None,
                      *, caption: str | None = None, **kwargs: Any) -> dict:
        """A document; the bot can get_file() it and download exactly ``content``."""
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        rec = self.add_file(content, mime_type=mime_type, file_name=filename, kind="documents")
        return self.push_message(
            user_id, None, document=self._media_object("document", rec), caption=caption, **kwargs
        )

    def push_callback_query(
        self,
        user_id: int,
        data: str | None,
        message: Any = None,
        *,
        chat_id: int | None = None,
        inline_message_id: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """A button press on ``message`` (dict / Call / message_id of a message the bot sent).

        The update carries the message's *current* stored state (after edits).
        """
        with self._cond:
            bot = self._bot(token)
            user = self._user(user_id, username, first_name)
            cq_id = str(4_000_000_000_000_000_000 + next(self._ids))
            cq: dict[str, Any] = {"id": cq_id, "from": user}
            if message is not None:
                msg = self._lookup_message(bot, message, user_id if chat_id is None else chat_id)
                cq["message"] = msg
                cq["chat_instance"] = str(-(abs(msg["chat"]["id"]) * 1_000_003 % 10**18))
            else:
                cq["chat_instance"] = str(-(user_id * 1_000_003 % 10**18))
                cq["inline_message_id"] = inline_message_id or f"inline-{next(self._ids)}"
            if data is not None:
                cq["data"] = data
            bot.callback_ids.add(cq_id)
            return self._push(bot, {"callback_query": cq}, enqueue)

    def push_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        location: dict | None = None,
        username: str | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """An inline query ``@bot <query>``; answer it with answerInlineQuery."""
        with self._cond:
            bot = self._bot(token)
            iq_id = str(5_000_000_000_000_000_000 + next(self._ids))
            iq: dict[str, Any] = {"id": iq_id, "from": self._user(user_id, username), "query": query, "offset": offset}
            if chat_type:
                iq["chat_type"] = chat_type
            if location:
                iq["location"] = location
            bot.inline_ids.add(iq_id)
            return self._push(bot, {"inline_query": iq}, enqueue)

    def push_edited_message(
        self,
        user_id: int,
        message: Any,
        text: str,
        *,
        chat_id: int | None = None,
        entities: list[dict] | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """The user edits an earlier message (dict / update / message_id) to ``text``."""
        with self._cond:
            bot = self._bot(token)
            msg = self._lookup_message(bot, message, user_id if chat_id is None else chat_id)
            if msg.get("from", {}).get("id") != user_id:
                raise ValueError("users can only edit their own messages")
            msg["text"] = text
            msg.pop("entities", None)
            ents = auto_entities(text) if entities is None else entities
            if ents:
                msg["entities"] = ents
            msg["edit_date"] = int(time.time())
            self._store(bot, msg)
            return self._push(bot, {"edited_message": msg}, enqueue)

    def pending_updates(self, *, token: str | None = None) -> list[dict]:
        """Updates queued and not yet confirmed by an offset (or webhook 2xx)."""
        with self._lock:
            return copy.deepcopy(self._bot(token).updates)

    # ------------------------------------------------------------------ test controls
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: float = 1,
        count: int = 1,
        *,
        description: str | None = None,
        parameters: dict | None = None,
        token: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail (default: 429 flood control).

        Note: PTB only raises RetryAfter when retry_after is truthy (0 -> NetworkError).
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: injected failure",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, f"Error {status}")
        if parameters is None and status == 429:
            parameters = {"retry_after": retry_after}
        with self._lock:
            self._injections.append(_Injection(method.lower(), token, count, ApiError(status, description, parameters)))

    def block_user(self, user_id: int, *, token: str | None = None) -> None:
        """Sending to this private chat answers 403 'bot was blocked by the user'."""
        with self._lock:
            self._bot(token).blocked.add(user_id)

    def unblock_user(self, user_id: int, *, token: str | None = None) -> None:
        with self._lock:
            self._bot(token).blocked.discard(user_id)

    def set_chat_member(self, chat_id: int, user_id: int, status: str = "member", *,
                        token: str | None = None, **fields: Any) -> dict:
        """Define what getChatMember returns (status: creator/administrator/member/restricted/left/kicked)."""
        with self._lock:
            bot = self._bot(token)
            user = bot.user if user_id == bot.user["id"] else self._users.get(user_id) or self._user(user_id)
            member = _chat_member(dict(user), status, fields)
            bot.members[(chat_id, user_id)] = member
            return copy.deepcopy(member)

    def webhook_info(self, *, token: str | None = None) -> dict | None:
        """The last setWebhook parameters (None when no webhook is set)."""
        with self._lock:
            hook = self._bot(token).webhook
            return dict(hook) if hook else None

    def webhook_deliveries(self, *, token: str | None = None) -> list[dict]:
        """Automatic webhook delivery attempts: [{update_id, status, time}]."""
        with self._lock:
            return list(self._bot(token).webhook_deliveries)

    def commands(self, *, scope: dict | None = None, language_code: str = "", token: str | None = None) -> list:
        """Commands stored by setMyCommands for that scope/language."""
        with self._lock:
            key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or "")
            return copy.deepcopy(self._bot(token).commands.get(key, []))

    # ------------------------------------------------------------------ recorder
    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls (since the last clear())."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str, *, token: str | None = None, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [
                c for c in self._calls
                if c.method == method and (token is None or c.token == token) and (ok is None or c.ok == ok)
            ]

    def mark(self) -> int:
        """Index of the next call; pass as ``since=`` to only wait for calls after this point."""
        with self._lock:
            return self._call_seq

    def clear(self) -> None:
        """Forget recorded calls and pending failure injections (state such as messages stays)."""
        with self._lock:
            self._calls = []
            self._injections = []

    def _scan(self, m: _Matcher) -> None:
        calls = self._calls
        start = bisect.bisect_left(calls, m.next_index, key=lambda c: c.index)
        for i in range(start, len(calls)):
            if m.accepts(calls[i]):
                m.found.append(calls[i])
        m.next_index = self._call_seq

    def _timeout_error(self, m: _Matcher, count: int, timeout: float) -> AssertionError:
        recent = self._calls[-15:]
        lines = "\n".join(f"  {c!r}" for c in recent) or "  (no calls recorded)"
        hint = ""
        try:
            asyncio.get_running_loop()
            hint = ("\nHint: wait_for() blocked the running event loop; in async tests use "
                    "`await api.wait_for_async(...)`.")
        except RuntimeError:
            pass
        return AssertionError(
            f"Timed out after {timeout}s waiting for {count} call(s) of {m.describe()}; "
            f"got {len(m.found)}. Last {len(recent)} calls:\n{lines}{hint}"
        )

    def _wait_until(self, probe: Callable[[], Any], timeout: float, on_timeout: Callable[[], Exception]) -> Any:
        """Re-evaluate ``probe`` (under the lock) whenever state changes until it is truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = probe()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise on_timeout()
                self._cond.wait(remaining)

    async def _wait_until_async(self, probe: Callable[[], Any], timeout: float,
                                on_timeout: Callable[[], Exception]) -> Any:
        """Like _wait_until but awaits: handler threads wake us via call_soon_threadsafe."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            if not event.is_set():
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # loop closed
                    pass

        deadline = time.monotonic() + timeout
        with self._lock:
            self._listeners.append(wake)
        try:
            while True:
                event.clear()
                with self._lock:
                    result = probe()
                    error = on_timeout() if not result and time.monotonic() >= deadline else None
                if result:
                    return result
                if error is not None:
                    raise error
                try:
                    await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    pass
        finally:
            with self._lock:
                self._listeners.remove(wake)

    def _count_probe(self, m: _Matcher, count: int) -> Callable[[], list[Call] | None]:
        def probe() -> list[Call] | None:
            self._scan(m)
            return m.found[:count] if len(m.found) >= count else None

        return probe

    def wait_for_count(
        self,
        method: str | None,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        match: dict | None = None,
        ok: bool | None = None,
        since: int = 0,
        token: str | None = None,
    ) -> list[Call]:
        """Block until ``count`` matching calls were recorded; return the first ``count``."""
        m = _Matcher(method, predicate, match, ok, since, token)
        return self._wait_until(self._count_probe(m, count), timeout, lambda: self._timeout_error(m, count, timeout))

    def wait_for(
        self,
        method: str | None,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        match: dict | None = None,
        ok: bool | None = None,
        since: int = 0,
        token: str | None = None,
    ) -> Call:
        """Block until a matching call exists (already recorded ones count); return it.

        ``match`` compares decoded params for equality, ``ok`` filters by success,
        ``since`` (from mark()) ignores older calls.  Raises AssertionError listing
        the recent calls on timeout.  In async tests use wait_for_async.
        Calls are recorded when answered, so a long-polling getUpdates shows up
        only once it returns (use wait_until_polling to know the bot is polling).
        """
        return self.wait_for_count(method, 1, predicate, timeout, match=match, ok=ok, since=since, token=token)[0]

    async def wait_for_count_async(
        self,
        method: str | None,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        match: dict | None = None,
        ok: bool | None = None,
        since: int = 0,
        token: str | None = None,
    ) -> list[Call]:
        """Async wait_for_count: yields to the event loop (the bot may run on it)."""
        m = _Matcher(method, predicate, match, ok, since, token)
        return await self._wait_until_async(
            self._count_probe(m, count), timeout, lambda: self._timeout_error(m, count, timeout)
        )

    def _polling_probe(self, token: str | None) -> Callable[[], bool]:
        bot = self._bot(token)
        return lambda: bot.waiting_polls > 0

    def _polling_timeout(self, timeout: float) -> AssertionError:
        return AssertionError(f"No getUpdates long poll was held open within {timeout}s (is the bot polling?)")

    def wait_until_polling(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        """Block until the bot sits in a long-polling getUpdates (i.e. it is up and idle).

        Useful before pushing when the bot starts with drop_pending_updates=True.
        """
        self._wait_until(self._polling_probe(token), timeout, lambda: self._polling_timeout(timeout))

    async def wait_until_polling_async(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        await self._wait_until_async(self._polling_probe(token), timeout, lambda: self._polling_timeout(timeout))

    async def wait_for_async(
        self,
        method: str | None,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        match: dict | None = None,
        ok: bool | None = None,
        since: int = 0,
        token: str | None = None,
    ) -> Call:
        """Async wait_for (same semantics)."""
        found = await self.wait_for_count_async(
            method, 1, predicate, timeout, match=match, ok=ok, since=since, token=token
        )
        return found[0]

    def _record(self, token: str, method: str, params: dict, files: dict, status: int,
                response: dict | None, started: float) -> Call:
        call = Call(self._call_seq, method, params, started, token, status, response, files)
        self._call_seq += 1
        self._calls.append(call)
        self._notify()
        return call

    def _notify(self) -> None:
        """Wake sync waiters (condition) and async waiters (their event loops)."""
        self._cond.notify_all()
        for wake in self._listeners:
            wake()

    # ------------------------------------------------------------------ webhook
    def post_webhook(self, update: dict, *, url: str | None = None, secret_token: Any = _UNSET,
                     token: str | None = None, timeout: float = 5.0) -> int:
        """POST ``update`` to the bot's webhook like Telegram; return the HTTP status.

        ``url`` defaults to the URL from setWebhook; ``secret_token`` defaults to the
        one from setWebhook (pass None to omit the header, or a wrong string).
        Blocking: from async tests use post_webhook_async.
        """
        with self._lock:
            hook = self._bot(token).webhook or {}
        url = url or hook.get("url")
        if not url:
            raise ValueError("no webhook URL: pass url= or let the bot call setWebhook first")
        if secret_token is _UNSET:
            secret_token = hook.get("secret_token")
        return _post_json(url, update, secret_token, timeout)

    async def post_webhook_async(self, update: dict, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.post_webhook, update, **kwargs)

    def _ensure_webhook_worker(self, bot: _BotState) -> None:
        if bot.webhook_thread is None or not bot.webhook_thread.is_alive():
            bot.webhook_thread = threading.Thread(
                target=self._webhook_loop, args=(bot,), name="LocalBotApi-webhook", daemon=True
            )
            bot.webhook_thread.start()

    def _filter_allowed(self, bot: _BotState) -> None:
        if bot.allowed_updates:
            allowed = set(bot.allowed_updates)
            bot.updates = [u for u in bot.updates if _update_type(u) in allowed]

    def _webhook_loop(self, bot: _BotState) -> None:
        """Deliver queued updates to the webhook in order, like Telegram (retry until 2xx)."""
        backoff = 0.05
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    self._filter_allowed(bot)
                    ready = bot.webhook is not None and bot.updates
                    wait = bot.webhook_retry_at - time.monotonic() if ready else 1.0
                    if ready and wait <= 0:
                        break
                    self._cond.wait(min(max(wait, 0.005), 1.0))
                update = bot.updates[0]
                url, secret = bot.webhook["url"], bot.webhook.get("secret_token")
            status = _post_json(url, update, secret, 10.0)
            with self._cond:
                bot.webhook_deliveries.append({"update_id": update["update_id"], "status": status, "time": time.time()})
                if 200 <= status < 300:
                    if bot.updates and bot.updates[0] is update:
                        bot.updates.pop(0)
                    backoff, bot.webhook_retry_at = 0.05, 0.0
                else:
                    bot.webhook_retry_at = time.monotonic() + backoff
                    backoff = min(backoff * 2, 2.0)
                self._cond.notify_all()

    # ------------------------------------------------------------------ HTTP plumbing
    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def _handle_http(self, h: _Handler) -> None:
        started = time.time()
        split = urlsplit(h.path)
        path = split.path
        try:
            body = h.read_body()
        except (ValueError, OSError):
            h.close_connection = True
            h.send_bytes(400, _dumps({"ok": False, "error_code": 400, "description": "Bad Request: bad body"}))
            return
        if path.startswith("/bot"):
            token, _, method = path[4:].partition("/")
            if not method or "/" in method:
                h.send_bytes(404, _dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
                return
            out = self._api_call(h, unquote(token), method, split.query, body, started)
            if out is None:  # client gone
                h.close_connection = True
                return
            h.send_bytes(*out)
        elif path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            h.send_bytes(*self._download(unquote(token), unquote(file_path), started))
        elif path.startswith("/_control/"):
            h.send_bytes(*self._control(h.command, path[len("/_control/"):], split.query, body))
        else:
            h.send_bytes(404, _dumps({"ok": False, "error_code": 404, "description": "Not Found"}))

    def _api_call(self, h: _Handler, token: str, method: str, query: str, body: bytes,
                  started: float) -> tuple[int, bytes] | None:
        files: dict[str, UploadedFile] = {}
        entry = _DISPATCH.get(method.lower())
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
                if injection is not None:
                    payload = injection.payload()
                elif entry is None:
                    payload = ApiError(400, "Bad Request: method not found").payload()
                else:
                    try:
                        result = entry[1](self, _Request(bot, name, params, files, h.alive))
                        payload = {"ok": True, "result": result}
                    except ApiError as exc:
                        payload = exc.payload()
                    except _Aborted:
                        return None
                    except Exception as exc:  # a bug in the fake: make it loud, not silent
                        traceback.print_exc()
                        payload = ApiError(500, f"Internal Server Error: {exc!r}").payload()
            status = 200 if payload.get("ok") else payload["error_code"]
            data = _dumps(payload)
            self._record(token, name, params, files, status, payload, started)
        return status, data

    def _take_injection(self, token: str, method: str) -> ApiError | None:
        lowered = method.lower()
        for inj in self._injections:
            if inj.method == lowered and (inj.token is None or inj.token == token):
                inj.remaining -= 1
                if inj.remaining <= 0:
                    self._injections.remove(inj)
                return inj.error
        return None

    def _download(self, token: str, file_path: str, started: float) -> tuple[int, bytes, str]:
        with self._cond:
            rec = self._files_by_path.get(file_path)
            if token not in self._bots:
                status, body, ctype = 401, _dumps(ApiError(401, "Unauthorized").payload()), "application/json"
            elif rec is None:
                status, body, ctype = 404, _dumps(ApiError(404, "Not Found").payload()), "application/json"
            else:
                status, body, ctype = 200, rec.data, rec.mime_type
            self._record(token, "file_download", {"file_path": file_path}, {}, status,
                         {"ok": status == 200, "result": {"file_path": file_path, "size": len(body)}}, started)
        return status, body, ctype

    # ------------------------------------------------------------------ control endpoint
    _CONTROL_ACTIONS = frozenset({
        "push_update", "push_message", "push_group_message", "push_location", "push_sticker",
        "push_photo", "push_voice", "push_document", "push_callback_query", "push_inline_query",
        "push_edited_message", "fail_next", "clear", "block_user", "unblock_user",
        "set_chat_member", "add_bot", "post_webhook", "pending_updates", "chat_history",
        "webhook_info", "webhook_deliveries", "commands", "bot_user", "add_file", "mark",
    })

    def _control(self, http_method: str, action: str, query: str, body: bytes) -> tuple[int, bytes]:
        """JSON control API for tests in another process (see client.RemoteBotApi)."""
        try:
            args: dict = dict(parse_query(query))
            if body:
                args.update(json.loads(body.decode("utf-8")))
            if action == "batch":  # many actions in one request (bulk pushes for benchmarks)
                result: Any = [self._control_action(item["action"], dict(item.get("args") or {}))
                               for item in args["calls"]]
            else:
                result = self._control_action(action, args)
            return 200, _dumps({"ok": True, "result": result})
        except LookupError as exc:
            return 404, _dumps({"ok": False, "description": f"unknown control action {exc}"})
        except (TypeError, ValueError) as exc:
            return 400, _dumps({"ok": False, "description": f"{type(exc).__name__}: {exc}"})

    def _control_action(self, action: str, args: dict) -> Any:
        for key in [k for k in args if k.endswith("_b64")]:
            args[key[:-4]] = base64.b64decode(args.pop(key))
        if action == "health":
            return {"url": self.url, "tokens": self.tokens}
        if action == "calls":
            return self._control_calls(args, wait=False)
        if action == "wait_calls":
            return self._control_calls(args, wait=True)
        if action == "wait_until_polling":
            try:
                self.wait_until_polling(float(args.get("timeout", 5.0)), token=args.get("token"))
                return True
            except AssertionError:
                return False
        if action not in self._CONTROL_ACTIONS:
            raise LookupError(repr(action))
        try:
            result = getattr(self, action)(**args)
        except KeyError as exc:  # e.g. unknown file id: a caller error, not a missing action
            raise ValueError(f"not found: {exc}") from None
        if isinstance(result, StoredFile):
            result = {**result.meta(), "file_path": result.file_path}
        return result

    def _control_calls(self, args: dict, wait: bool) -> list[dict]:
        m = _Matcher(args.get("method"), None, args.get("match"), args.get("ok"), int(args.get("since", 0)),
                     args.get("token"))
        deadline = time.monotonic() + float(args.get("timeout", 0) if wait else 0)
        need = max(1, int(args.get("count", 1)))
        with self._cond:
            while True:
                self._scan(m)
                remaining = deadline - time.monotonic()
                if len(m.found) >= need or remaining <= 0 or self._stopping:
                    return [c.to_json() for c in m.found]
                self._cond.wait(remaining)

    # ================================================================== Bot API methods
    # Each _api_<methodName> runs under the state lock and returns the "result".

    def _api_getMe(self, r: _Request) -> dict:
        return dict(r.bot.user)

    def _api_logOut(self, r: _Request) -> bool:
        return True

    def _api_close(self, r: _Request) -> bool:
        return True

    def _api_getUpdates(self, r: _Request) -> list[dict]:
        bot, p = r.bot, r.params
        if bot.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = _int(p.get("offset"), 0)
        limit = max(1, min(100, _int(p.get("limit"), 100)))
        try:
            timeout = max(0.0, min(float(p.get("timeout") or 0), _MAX_POLL_TIMEOUT))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid timeout") from None
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = list(allowed) or None
        if offset > 0:
            idx = 0
            while idx < len(bot.updates) and bot.updates[idx]["update_id"] < offset:
                idx += 1
            del bot.updates[:idx]
        elif offset < 0:
            del bot.updates[: max(0, len(bot.updates) + offset)]
        self._filter_allowed(bot)
        bot.poll_seq += 1
        mine = bot.poll_seq
        if bot.updates or timeout <= 0:
            return bot.updates[:limit]
        deadline = time.monotonic() + timeout
        bot.waiting_polls += 1
        self._notify()
        try:
            while not bot.updates:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                if self._stopping:
                    raise _Aborted
                if bot.poll_seq != mine:  # a newer getUpdates for this token arrived
                    if not r.alive():
                        raise _Aborted
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                        "that only one bot instance is running")
                self._cond.wait(min(remaining, _ALIVE_CHECK_INTERVAL))
                if not r.alive():
                    raise _Aborted
                self._filter_allowed(bot)
        finally:
            bot.waiting_polls -= 1
        return bot.updates[:limit]

    def _api_setWebhook(self, r: _Request) -> bool:
        p, bot = r.params, r.bot
        url = p.get("url") or ""
        if not url:  # setWebhook with empty url == deleteWebhook
            bot.webhook = None
            return True
        if not str(url).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        bot.webhook = {k: v for k, v in p.items() if k != "drop_pending_updates"}
        if isinstance(p.get("allowed_updates"), list):
            bot.allowed_updates = list(p["allowed_updates"]) or None
        if p.get("drop_pending_updates"):
            bot.updates.clear()
        bot.webhook_retry_at = 0.0
        self._ensure_webhook_worker(bot)
        return True

    def _api_deleteWebhook(self, r: _Request) -> bool:
        r.bot.webhook = None
        if r.params.get("drop_pending_updates"):
            r.bot.updates.clear()
        return True

    def _api_getWebhookInfo(self, r: _Request) -> dict:
        bot = r.bot
        hook = bot.webhook or {}
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if hook:
            info["max_connections"] = hook.get("max_connections", 40)
            if hook.get("ip_address"):
                info["ip_address"] = hook["ip_address"]
            if bot.allowed_updates:
                info["allowed_updates"] = bot.allowed_updates
            failed = [d for d in bot.webhook_deliveries if not 200 <= d["status"] < 300]
            if failed:
                info["last_error_date"] = int(failed[-1]["time"])
                info["last_error_message"] = f"Wrong response from the webhook: {failed[-1]['status']}"
        return info

    # -- commands / menu
    @staticmethod
    def _commands_key(p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def _api_setMyCommands(self, r: _Request) -> bool:
        commands = r.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for cmd in commands:
            name, desc = (cmd or {}).get("command", ""), (cmd or {}).get("description", "")
            valid_name = isinstance(name, str) and 1 <= len(name) <= 32
            if not valid_name or not all(c.islower() or c.isdigit() or c == "_" for c in name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (isinstance(desc, str) and 1 <= len(desc) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        r.bot.commands[self._commands_key(r.params)] = commands
        return True

    def _api_getMyCommands(self, r: _Request) -> list:
        return r.bot.commands.get(self._commands_key(r.params), [])

    def _api_deleteMyCommands(self, r: _Request) -> bool:
        r.bot.commands.pop(self._commands_key(r.params), None)
        return True

    def _api_setChatMenuButton(self, r: _Request) -> bool:
        r.bot.menu_buttons[r.params.get("chat_id")] = r.params.get("menu_button") or {"type": "default"}
        return True

    def _api_getChatMenuButton(self, r: _Request) -> dict:
        return r.bot.menu_buttons.get(r.params.get("chat_id"), r.bot.menu_buttons.get(None, {"type": "default"}))

    # -- sending
    def _formatted(self, p: dict, key: str, ents_key: str, limit: int, required: bool) -> dict:
        text = p.get(key)
        if text is None or text == "":
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return {}
        text = str(text)
        ents = p.get(ents_key)
        mode = str(p.get("parse_mode") or "").lower()
        if ents is None and mode:
            if mode == "html":
                try:
                    text, ents = parse_html(text)
                except FormatError as exc:
                    if self.strict_formatting:
                        raise ApiError(400, str(exc)) from None
            elif mode == "markdownv2":
                try:
                    check_markdown_v2(text)
                except FormatError as exc:
                    if self.strict_formatting:
                        raise ApiError(400, str(exc)) from None
            elif mode != "markdown":
                raise ApiError(400, f"Bad Request: unsupported parse_mode {p.get('parse_mode')!r}")
        if not text.strip():
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return {}
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long" if key == "text"
                           else "Bad Request: message caption is too long")
        if ents is None:
            ents = auto_entities(text)
        out: dict[str, Any] = {key: text}
        if ents:
            out[ents_key] = ents
        return out

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        """Validate reply_markup; return it if it belongs in Message.reply_markup (inline only)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards / remove / force_reply are not echoed by Telegram
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" "
                                "of the InlineKeyboardMarkup must be an Array of Arrays")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
                if not _INLINE_BUTTON_ACTIONS & set(button):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                        "unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, r: _Request, content: dict, *, media_group_id: str | None = None) -> dict:
        """Create, store and return a message sent by the bot (common part of all send*)."""
        bot, p = r.bot, r.params
        chat = self._resolve_chat(bot, p.get("chat_id"))
        if chat["type"] == "private" and chat["id"] in bot.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        markup = self._check_markup(p.get("reply_markup"))
        reply = p.get("reply_parameters")
        if reply is None and p.get("reply_to_message_id") is not None:
            reply = {"message_id": p["reply_to_message_id"]}
        original = None
        if isinstance(reply, dict) and reply.get("message_id") is not None:
            target = reply.get("chat_id", chat["id"])
            original = bot.messages.get((target, _int(reply["message_id"])))
            allow_missing = reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")
            if original is None and not allow_missing:
                raise ApiError(400, "Bad Request: message to be replied not found")
        msg = self._new_message(bot, chat, bot.user)
        if p.get("message_thread_id") is not None:
            msg["message_thread_id"] = p["message_thread_id"]
        if original is not None:
            msg["reply_to_message"] = _strip_reply(original)
        if media_group_id:
            msg["media_group_id"] = media_group_id
        msg.update(content)
        if markup is not None:
            msg["reply_markup"] = markup
        if p.get("protect_content"):
            msg["has_protected_content"] = True
        self._store(bot, msg)
        return msg

    def _api_sendMessage(self, r: _Request) -> dict:
        return self._bot_message(r, self._formatted(r.params, "text", "entities", 4096, True))

    def _api_sendLocation(self, r: _Request) -> dict:
        p = r.params
        loc = {"latitude": float(_required(p, "latitude")), "longitude": float(_required(p, "longitude"))}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if p.get(key) is not None:
                loc[key] = p[key]
        return self._bot_message(r, {"location": loc})

    def _api_sendVenue(self, r: _Request) -> dict:
        p = r.params
        loc = {"latitude": float(_required(p, "latitude")), "longitude": float(_required(p, "longitude"))}
        venue: dict[str, Any] = {"location": loc, "title": str(_required(p, "title")),
                                 "address": str(_required(p, "address"))}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if p.get(key):
                venue[key] = p[key]
        return self._bot_message(r, {"venue": venue, "location": dict(loc)})

    def _api_sendContact(self, r: _Request) -> dict:
        p = r.params
        contact = {"phone_number": str(_required(p, "phone_number")), "first_name": str(_required(p, "first_name"))}
        for key in ("last_name", "vcard", "user_id"):
            if p.get(key):
                contact[key] = p[key]
        return self._bot_message(r, {"contact": contact})

    def _api_sendChatAction(self, r: _Request) -> bool:
        self._resolve_chat(r.bot, r.params.get("chat_id"))
        _required(r.params, "action")
        return True

    _MEDIA_KINDS = {
        "document": ("documents", "application/octet-stream"),
        "photo": ("photos", "image/jpeg"),
        "audio": ("music", "audio/mpeg"),
        "voice": ("voice", "audio/ogg"),
        "video": ("videos", "video/mp4"),
        "animation": ("animations", "video/mp4"),
        "sticker": ("stickers", "image/webp"),
        "video_note": ("video_notes", "video/mp4"),
    }

    def _media_input(self, r: _Request, kind: str, value: Any = _UNSET) -> StoredFile:
        """Resolve an uploaded part, attach:// reference, known file_id or URL to a StoredFile."""
        folder, default_mime = self._MEDIA_KINDS[kind]
        if value is _UNSET:
            value = r.params.get(kind)
        upload = r.files.get(kind) if value is None else None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = r.files.get(value[len("attach://"):])
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
        if upload is not None:
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or default_mime
            return self.add_file(upload.data, mime_type=mime, file_name=upload.filename, kind=folder)
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                name = value.rstrip("/").rsplit("/", 1)[-1] or None
                return self.add_file(b"", mime_type=mimetypes.guess_type(name or "")[0] or default_mime,
                                     file_name=name, kind=folder)
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    def _send_media(self, r: _Request, kind: str) -> dict:
        self._resolve_chat(r.bot, r.params.get("chat_id"))  # chat errors before upload errors
        rec = self._media_input(r, kind)
        content: dict[str, Any] = {kind: self._media_object(kind, rec, r.params)}
        if kind == "photo":
            content["photo"][0].update(self.add_file(rec.data, mime_type=rec.mime_type, kind="photos").meta())
        if kind == "animation":
            content["document"] = self._media_object("document", rec)
        if kind not in ("sticker", "video_note"):
            content.update(self._formatted(r.params, "caption", "caption_entities", 1024, False))
        return self._bot_message(r, content)

    def _api_sendDocument(self, r: _Request) -> dict:
        return self._send_media(r, "document")

    def _api_sendPhoto(self, r: _Request) -> dict:
        return self._send_media(r, "photo")

    def _api_sendAudio(self, r: _Request) -> dict:
        return self._send_media(r, "audio")

    def _api_sendVoice(self, r: _Request) -> dict:
        return self._send_media(r, "voice")

    def _api_sendVideo(self, r: _Request) -> dict:
        return self._send_media(r, "video")

    def _api_sendAnimation(self, r: _Request) -> dict:
        return self._send_media(r, "animation")

    def _api_sendSticker(self, r: _Request) -> dict:
        return self._send_media(r, "sticker")

    def _api_sendVideoNote(self, r: _Request) -> dict:
        return self._send_media(r, "video_note")

    def _api_sendMediaGroup(self, r: _Request) -> list[dict]:
        media = r.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media specified; must be between 2 and 10")
        self._resolve_chat(r.bot, r.params.get("chat_id"))
        group_id = str(13_000_000_000_000_000 + next(self._ids))
        out = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "audio", "document"):
                raise ApiError(400, "Bad Request: unsupported media type in media group")
            rec = self._media_input(r, kind, item.get("media"))
            content = {kind: self._media_object(kind, rec, item)}
            content.update(self._formatted(item, "caption", "caption_entities", 1024, False))
            out.append(self._bot_message(r, content, media_group_id=group_id))
        return out

    def _api_forwardMessage(self, r: _Request) -> dict:
        p = r.params
        source_chat = self._resolve_chat(r.bot, p.get("from_chat_id"))
        src = r.bot.messages.get((source_chat["id"], _int(p.get("message_id"))))
        if src is None:
            raise ApiError(400, "Bad Request: message to forward not found")
        content = {k: copy.deepcopy(v) for k, v in src.items() if k not in _MESSAGE_META}
        origin = {"type": "user", "sender_user": src.get("from"), "date": src["date"]}
        if source_chat["type"] == "channel":
            origin = {"type": "channel", "chat": source_chat, "message_id": src["message_id"], "date": src["date"]}
        content["forward_origin"] = origin
        return self._bot_message(r, content)

    def _api_copyMessage(self, r: _Request) -> dict:
        p = r.params
        source_chat = self._resolve_chat(r.bot, p.get("from_chat_id"))
        src = r.bot.messages.get((source_chat["id"], _int(p.get("message_id"))))
        if src is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = {k: copy.deepcopy(v) for k, v in src.items() if k not in _MESSAGE_META}
        if p.get("caption") is not None:
            content.pop("caption_entities", None)
            content.update(self._formatted(p, "caption", "caption_entities", 1024, False))
        msg = self._bot_message(r, content)
        return {"message_id": msg["message_id"]}

    # -- editing / deleting
    def _editable(self, r: _Request) -> dict | None:
        """The stored message addressed by chat_id+message_id, or None for inline messages."""
        p = r.params
        if p.get("inline_message_id"):
            return None
        chat = self._resolve_chat(r.bot, p.get("chat_id"))
        msg = r.bot.messages.get((chat["id"], _int(p.get("message_id"))))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if msg.get("from", {}).get("id") != r.bot.user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return msg

    @staticmethod
    def _apply_edit(msg: dict, changes: dict, drop: Iterable[str]) -> dict:
        before = {k: msg.get(k) for k in list(changes) + list(drop)}
        after = {k: changes.get(k) for k in before}
        if before == after:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")
        for key in drop:
            msg.pop(key, None)
        msg.update({k: v for k, v in changes.items() if v is not None})
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _api_editMessageText(self, r: _Request) -> dict | bool:
        changes = self._formatted(r.params, "text", "entities", 4096, True)
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        if "text" not in msg:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        changes.setdefault("entities", None)
        changes["reply_markup"] = markup  # omitting reply_markup removes the inline keyboard
        return self._apply_edit(msg, changes, [k for k, v in changes.items() if v is None])

    def _api_editMessageCaption(self, r: _Request) -> dict | bool:
        changes = self._formatted(r.params, "caption", "caption_entities", 1024, False)
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        changes.setdefault("caption", None)
        changes.setdefault("caption_entities", None)
        changes["reply_markup"] = markup
        return self._apply_edit(msg, changes, [k for k, v in changes.items() if v is None])

    def _api_editMessageReplyMarkup(self, r: _Request) -> dict | bool:
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        return self._apply_edit(msg, {"reply_markup": markup}, ["reply_markup"] if markup is None else [])

    def _api_deleteMessage(self, r: _Request) -> bool:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        if r.bot.messages.pop((chat["id"], _int(r.params.get("message_id"))), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_deleteMessages(self, r: _Request) -> bool:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        for mid in r.params.get("message_ids") or []:
            r.bot.messages.pop((chat["id"], _int(mid)), None)
        return True

    # -- queries
    def _api_answerCallbackQuery(self, r: _Request) -> bool:
        if str(r.params.get("callback_query_id")) not in r.bot.callback_ids:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(str(r.params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_answerInlineQuery(self, r: _Request) -> bool:
        if str(r.params.get("inline_query_id")) not in r.bot.inline_ids:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = r.params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, 'Bad Request: parameter "results" is required')
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [res.get("id") for res in results if isinstance(res, dict)]
        if len(ids) != len(results) or not all(ids) or not all(res.get("type") for res in results):
            raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for res in results:
            self._check_markup(res.get("reply_markup"))
        return True

    # -- chats
    def _api_getChat(self, r: _Request) -> dict:
        cid = r.params.get("chat_id")
        if isinstance(cid, int) and cid not in r.bot.chats and cid not in self._users:
            raise ApiError(400, "Bad Request: chat not found")
        chat = dict(self._resolve_chat(r.bot, cid))
        chat.update({
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                    "premium_subscription": False, "gifts_from_channels": False},
        })
        return chat

    def _api_getChatMember(self, r: _Request) -> dict:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        user_id = _int(_required(r.params, "user_id"))
        member = r.bot.members.get((chat["id"], user_id))
        if member is not None:
            return member
        if user_id == r.bot.user["id"]:
            user = dict(r.bot.user)
        else:
            user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})
        return _chat_member(user, "member", {})

    def _api_getChatAdministrators(self, r: _Request) -> list:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        return [m for (cid, _), m in r.bot.members.items()
                if cid == chat["id"] and m["status"] in ("creator", "administrator")]

    def _api_getChatMemberCount(self, r: _Request) -> int:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        return 2 if chat["type"] == "private" else max(2, sum(1 for cid, _ in r.bot.members if cid == chat["id"]))

    def _api_getFile(self, r: _Request) -> dict:
        rec = self._files.get(str(r.params.get("file_id")))
        if rec is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(rec.data) > _MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {**rec.meta(), "file_path": rec.file_path}


def _ok_true(self: LocalBotApi, r: _Request) -> bool:
    return True


# Methods a bot commonly calls whose result is just True; recorded like any other call.
_TRUE_METHODS = (
    "setMyDescription", "setMyShortDescription", "setMyName", "setMessageReaction", "pinChatMessage",
    "unpinChatMessage", "unpinAllChatMessages", "leaveChat", "banChatMember", "unbanChatMember",
    "restrictChatMember", "promoteChatMember", "setChatTitle", "setChatDescription",
    "approveChatJoinRequest", "declineChatJoinRequest", "setMyDefaultAdministratorRights",
    "setChatPermissions", "setChatAdministratorCustomTitle",
)

_DISPATCH: dict[str, tuple[str, Callable[[LocalBotApi, _Request], Any]]] = {
    name[len("_api_"):].lower(): (name[len("_api_"):], getattr(LocalBotApi, name))
    for name in dir(LocalBotApi)
    if name.startswith("_api_")
}
_DISPATCH.update({name.lower(): (name, _ok_true) for name in _TRUE_METHODS})


def _chat_member(user: dict, status: str, fields: dict) -> dict:
    """A ChatMember object with all fields PTB 22 requires for that status."""
    base: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        base["is_anonymous"] = False
    elif status == "administrator":
        base.update({k: True for k in (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
            "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
            "can_edit_stories", "can_delete_stories", "can_pin_messages")})
        base.update({"can_be_edited": False, "is_anonymous": False})
    elif status == "restricted":
        base.update({k: False for k in (
            "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages", "can_send_polls",
            "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
            "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
            "can_send_voice_notes", "can_edit_tag", "can_react_to_messages")})
        base.update({"is_member": True, "until_date": 0})
    elif status == "kicked":
        base["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    base.update(fields)
    return base


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post_json(url: str, update: dict, secret_token: str | None, timeout: float) -> int:
    """POST an update like Telegram does (exact 'application/json' content type); 0 = no connection."""
    headers = {"Content-Type": "application/json"}  # PTB's webhook handler rejects any other value
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    request = urllib.request.Request(url, data=_dumps(update), headers=headers, method="POST")
    try:
        with _NO_PROXY_OPENER.open(request, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0
