"""Cross-process access to a LocalBotApi.

Why: the bot's e2e test runs the real ``run_bot.py`` as a subprocess, and a
benchmark may do the same, so the fake server must also run as its own process
(``python -m local_bot_api``).  ``ServerProcess`` starts it and ``RemoteBotApi``
drives it through the JSON ``/_control/`` endpoint with the same method names
as the in-process ``LocalBotApi``.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .server import DEFAULT_TOKEN, Call

__all__ = ["RemoteBotApi", "ServerProcess"]


def _encode_args(args: dict) -> dict:
    """JSON-safe kwargs: bytes -> ``<key>_b64``, Call -> its result (a message)."""
    out = {}
    for key, value in args.items():
        if isinstance(value, (bytes, bytearray)):
            out[key + "_b64"] = base64.b64encode(bytes(value)).decode()
        elif isinstance(value, Call):
            out[key] = value.result
        else:
            out[key] = value
    return out


class RemoteBotApi:
    """Same test controls as LocalBotApi, over HTTP to ``{url}/_control/<action>``."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        parts = urlsplit(self.url)
        self._host, self._port, self._prefix = parts.hostname, parts.port or 80, parts.path
        self._local = threading.local()  # one keep-alive connection per thread (http.client isn't thread-safe)

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def _control(self, action: str, payload: dict | None = None, *, timeout: float | None = None) -> Any:
        body = json.dumps(_encode_args(payload or {})).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            conn.timeout = timeout or self.timeout
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request("POST", f"{self._prefix}/_control/{action}", body, headers)
                resp = conn.getresponse()
                data = json.loads(resp.read() or b"{}")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
                if not reused or attempt == 2:  # only a stale keep-alive connection is retried
                    raise
        if not data.get("ok"):
            raise ValueError(f"control {action} failed: {data.get('description')}")
        return data["result"]

    def batch(self, calls: Iterable[tuple[str, dict]]) -> list[Any]:
        """Run many control actions in ONE request, e.g. 1,000 push_message for a benchmark.

        ``api.batch([("push_message", {"user_id": 1, "text": "hi"}), ...])`` -> list of results.
        """
        items = [{"action": action, "args": _encode_args(args)} for action, args in calls]
        return self._control("batch", {"calls": items}, timeout=max(self.timeout, 60.0))

    # -- bot info
    def health(self) -> dict:
        return self._control("health")

    def bot_user(self, token: str | None = None) -> dict:
        return self._control("bot_user", {"token": token})

    @property
    def token(self) -> str:
        return self.health()["tokens"][0]

    # -- pushing (kwargs are those of the LocalBotApi methods)
    def push_update(self, update: dict, **kwargs: Any) -> dict:
        return self._control("push_update", {"update": update, **kwargs})

    def push_message(self, user_id: int, text: str | None = None, **kwargs: Any) -> dict:
        return self._control("push_message", {"user_id": user_id, "text": text, **kwargs})

    def push_group_message(self, user_id: int, text: str, **kwargs: Any) -> dict:
        return self._control("push_group_message", {"user_id": user_id, "text": text, **kwargs})

    def push_location(self, user_id: int, latitude: float, longitude: float, **kwargs: Any) -> dict:
        payload = {"user_id": user_id, "latitude": latitude, "longitude": longitude, **kwargs}
        return self._control("push_location", payload)

    def push_sticker(self, user_id: int, emoji: str = "👍", **kwargs: Any) -> dict:
        return self._control("push_sticker", {"user_id": user_id, "emoji": emoji, **kwargs})

    def push_photo(self, user_id: int, content: bytes | None = None, **kwargs: Any) -> dict:
        payload = {"user_id": user_id, **kwargs}
        if content is not None:
            payload["content"] = content
        return self._control("push_photo", payload)

    def push_voice(self, user_id: int, content: bytes | None = None, **kwargs: Any) -> dict:
        payload = {"user_id": user_id, **kwargs}
        if content is not None:
            payload["content"] = content
        return self._control("push_voice", payload)

    def push_document(self, user_id: int, filename: str, content: bytes, mime_type: str | None = None,
                      **kwargs: Any) -> dict:
        return self._control("push_document", {"user_id": user_id, "filename": filename, "content": content,
                                               "mime_type": mime_type, **kwargs})

    def push_callback_query(self, user_id: int, data: str | None, message: Any = None, **kwargs: Any) -> dict:
        return self._control("push_callback_query", {"user_id": user_id, "data": data, "message": message, **kwargs})

    def push_inline_query(self, user_id: int, query: str, **kwargs: Any) -> dict:
        return self._control("push_inline_query", {"user_id": user_id, "query": query, **kwargs})

    def push_edited_message(self, user_id: int, message: Any, text: str, **kwargs: Any) -> dict:
        return self._control("push_edited_message", {"user_id": user_id, "message": message, "text": text, **kwargs})

    def pending_updates(self, **kwargs: Any) -> list[dict]:
        return self._control("pending_updates", kwargs)

    # -- controls
    def fail_next(self, method: str, status: int = 429, retry_after: float = 1, count: int = 1, **kwargs: Any) -> None:
        self._control("fail_next", {"method": method, "status": status, "retry_after": retry_after,
                                    "count": count, **kwargs})

    def clear(self) -> None:
        self._control("clear")

    def block_user(self, user_id: int, **kwargs: Any) -> None:
        self._control("block_user", {"user_id": user_id, **kwargs})

    def unblock_user(self, user_id: int, **kwargs: Any) -> None:
        self._control("unblock_user", {"user_id": user_id, **kwargs})

    def set_chat_member(self, chat_id: int, user_id: int, status: str = "member", **kwargs: Any) -> dict:
        return self._control("set_chat_member", {"chat_id": chat_id, "user_id": user_id, "status": status, **kwargs})

    def chat_history(self, chat_id: int, **kwargs: Any) -> list[dict]:
        return self._control("chat_history", {"chat_id": chat_id, **kwargs})

    def webhook_info(self, **kwargs: Any) -> dict | None:
        return self._control("webhook_info", kwargs)

    def post_webhook(self, update: dict, **kwargs: Any) -> int:
        """Like LocalBotApi.post_webhook; omit secret_token to use the one from setWebhook."""
        return self._control("post_webhook", {"update": update, **kwargs})

    def wait_until_polling(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        """Block until the bot holds a getUpdates long poll open (it is up and idle)."""
        payload = {"timeout": timeout, "token": token}
        if not self._control("wait_until_polling", payload, timeout=timeout + self.timeout):
            raise AssertionError(f"No getUpdates long poll was held open within {timeout}s (is the bot polling?)")

    async def wait_until_polling_async(self, timeout: float = 5.0, **kwargs: Any) -> None:
        await asyncio.to_thread(self.wait_until_polling, timeout, **kwargs)

    # -- recorder
    @property
    def calls(self) -> list[Call]:
        return [Call.from_json(c) for c in self._control("calls")]

    def calls_of(self, method: str, **kwargs: Any) -> list[Call]:
        return [Call.from_json(c) for c in self._control("calls", {"method": method, **kwargs})]

    def mark(self) -> int:
        return self._control("mark")

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
        """Server-side long-poll for new calls; ``predicate`` is applied here, in this process."""
        deadline = time.monotonic() + timeout
        found: list[Call] = []
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            batch = self._control(
                "wait_calls",
                {"method": method, "match": match, "ok": ok, "since": since, "token": token,
                 "timeout": min(remaining, 10.0),
                 # without a local predicate the server can hold the request until enough matched
                 "count": count - len(found) if predicate is None else 1},
                timeout=min(remaining, 10.0) + self.timeout,
            )
            for raw in batch:
                call = Call.from_json(raw)
                since = call.index + 1
                if predicate is None or predicate(call):
                    found.append(call)
                    if len(found) >= count:
                        return found
            if not batch and time.monotonic() >= deadline:
                recent = self.calls[-15:]
                lines = "\n".join(f"  {c!r}" for c in recent) or "  (no calls recorded)"
                raise AssertionError(
                    f"Timed out after {timeout}s waiting for {count} call(s) of {method} "
                    f"(match={match!r}, ok={ok}); got {len(found)}. Last {len(recent)} calls:\n{lines}"
                )

    def wait_for(self, method: str | None, predicate: Callable[[Call], bool] | None = None,
                 timeout: float = 5.0, **kwargs: Any) -> Call:
        return self.wait_for_count(method, 1, predicate, timeout, **kwargs)[0]

    async def wait_for_count_async(self, method: str | None, count: int, predicate=None, timeout: float = 5.0,
                                   **kwargs: Any) -> list[Call]:
        return await asyncio.to_thread(self.wait_for_count, method, count, predicate, timeout, **kwargs)

    async def wait_for_async(self, method: str | None, predicate=None, timeout: float = 5.0, **kwargs: Any) -> Call:
        return (await self.wait_for_count_async(method, 1, predicate, timeout, **kwargs))[0]


class ServerProcess:
    """Run ``python -m local_bot_api`` as a subprocess (context manager).

    ``url`` is read from the child's first stdout line; ``client`` controls it.
    """

    def __init__(
        self,
        tokens: str | Iterable[str] = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        extra_args: Iterable[str] = (),
        startup_timeout: float = 10.0,
    ):
        self.tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        self.host, self.port, self.python = host, port, python
        self.env, self.extra_args, self.startup_timeout = env, list(extra_args), startup_timeout
        self.proc: subprocess.Popen | None = None
        self.url: str = ""
        self.client: RemoteBotApi | None = None

    def start(self) -> ServerProcess:
        cmd = [self.python, "-m", "local_bot_api", "--host", self.host, "--port", str(self.port)]
        for token in self.tokens:
            cmd += ["--token", token]
        env = dict(os.environ if self.env is None else self.env)
        pkg_parent = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(cmd + self.extra_args, stdout=subprocess.PIPE, env=env, text=True)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], self.startup_timeout)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"local_bot_api did not start (first line: {line!r})")
        self.url = line
        self.client = RemoteBotApi(line)
        return self

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit within ``timeout``; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
