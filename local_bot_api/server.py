"""A local, in-memory Telegram Bot API server for end-to-end tests.

Why: e2e tests of a python-telegram-bot application should exercise the real
PTB stack (httpx requests, polling loop, rate limiter, file download, webhook
handler) without touching api.telegram.org.  ``LocalBotApi`` speaks the same
HTTP protocol (``/bot<token>/<method>``, ``/file/bot<token>/<path>``), keeps a
per-bot update queue with real getUpdates semantics, records every call for
assertions and lets a test inject failures.

Where things are:

* records.py      errors, recorded calls, stored files, per-bot state (shared types)
* state.py        bots, users, chats, messages, files under one lock (ServerState)
* http_server.py  the stdlib HTTP server and request routing
* methods/        every Bot API method (``_api_<methodName>``) and the dispatch table
* webhook.py      webhook delivery and post_webhook
* control.py      the JSON control API used by client.RemoteBotApi
* testing/        what tests call: push_* (pushing.py), calls/wait_for* (recorder.py),
                  fail_next, block_user, chat_history ... (controls.py)

This module assembles them into ``LocalBotApi`` and owns its life cycle.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterable

from ._parsing import UploadedFile
from .control import ControlEndpoint
from .http_server import HttpLayer, HTTPServer, RequestHandler
from .methods import BotApiMethods
from .records import DEFAULT_TOKEN, ApiError, BotApiUrls, Call, StoredFile
from .state import ServerState
from .testing.controls import Controls
from .testing.pushing import Pushing
from .testing.recorder import Recorder
from .webhook import WebhookDelivery

__all__ = ["DEFAULT_TOKEN", "ApiError", "Call", "LocalBotApi", "StoredFile", "UploadedFile"]


class LocalBotApi(Pushing, Recorder, Controls, BotApiMethods, WebhookDelivery, ControlEndpoint, HttpLayer,
                  ServerState, BotApiUrls):
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
        ServerState.__init__(self, strict_formatting=strict_formatting)
        self.host = host
        self._requested_port = port
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        for i, token in enumerate([tokens] if isinstance(tokens, str) else list(tokens)):
            self.add_bot(token, username=bot_username if i == 0 else None, first_name=bot_first_name)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalBotApi:
        """Bind a (free, if port=0) port and serve in a daemon thread."""
        if self._started:
            raise RuntimeError("LocalBotApi can only be started once")
        self._started = True
        self._httpd = HTTPServer((self.host, self._requested_port), RequestHandler, self)
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

    def application_builder(self, token: str | None = None):
        """``telegram.ext.Application.builder()`` pre-pointed at this server."""
        from telegram.ext import Application  # local import: the package itself is stdlib-only

        return (
            Application.builder()
            .token(token or self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )
