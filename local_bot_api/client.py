"""Cross-process access to a LocalBotApi.

Why: the bot's e2e test runs the real ``run_bot.py`` as a subprocess, and a
benchmark may do the same, so the fake server must also run as its own process
(``python -m local_bot_api``).  ``ServerProcess`` starts it and ``RemoteBotApi``
drives it through the JSON ``/_control/`` endpoint with the same method names
as the in-process ``LocalBotApi``: the test helpers are forwarded with
LocalBotApi's own signatures (control.CONTROL_ACTIONS), so the two never drift.
"""

from __future__ import annotations

import asyncio
import http.client
import inspect
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Unpack
from urllib.parse import urlsplit

from .control import CONTROL_ACTIONS, encode_args
from .records import DEFAULT_TOKEN, BotApiUrls, Call, CallFilter, Matcher, polling_timeout_error, wait_timeout_error
from .server import LocalBotApi

__all__ = ["RemoteBotApi", "ServerProcess"]


class RemoteBotApi(BotApiUrls):
    """Same test controls as LocalBotApi, over HTTP to ``{url}/_control/<action>``."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        parts = urlsplit(self.url)
        self._host, self._port, self._prefix = parts.hostname, parts.port or 80, parts.path
        self._local = threading.local()  # one keep-alive connection per thread (http.client isn't thread-safe)

    def _control(self, action: str, payload: dict | None = None, *, timeout: float | None = None) -> Any:
        body = json.dumps(encode_args(payload or {})).encode()
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
        items = [{"action": action, "args": encode_args(args)} for action, args in calls]
        return self._control("batch", {"calls": items}, timeout=max(self.timeout, 60.0))

    def health(self) -> dict:
        return self._control("health")

    @property
    def token(self) -> str:
        return self.health()["tokens"][0]

    # push_*, fail_next, clear, block_user, chat_history, post_webhook ...: every name in
    # control.CONTROL_ACTIONS is forwarded with LocalBotApi's own signature (see _forwarder below).

    def wait_until_polling(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        """Block until the bot holds a getUpdates long poll open (it is up and idle)."""
        payload = {"timeout": timeout, "token": token}
        if not self._control("wait_until_polling", payload, timeout=timeout + self.timeout):
            raise polling_timeout_error(timeout)

    async def wait_until_polling_async(self, timeout: float = 5.0, **kwargs: Any) -> None:
        await asyncio.to_thread(self.wait_until_polling, timeout, **kwargs)

    # -- recorder
    @property
    def calls(self) -> list[Call]:
        return [Call.from_json(c) for c in self._control("calls")]

    def calls_of(self, method: str, **kwargs: Any) -> list[Call]:
        return [Call.from_json(c) for c in self._control("calls", {"method": method, **kwargs})]

    def wait_for_count(self, method: str | None, count: int, predicate: Callable[[Call], bool] | None = None,
                       timeout: float = 5.0, **where: Unpack[CallFilter]) -> list[Call]:
        """Server-side long-poll for new calls; ``predicate`` is applied here, in this process."""
        deadline = time.monotonic() + timeout
        found: list[Call] = []
        since = where.get("since", 0)
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            batch = self._control(
                "wait_calls",
                {"method": method, **where, "since": since, "timeout": min(remaining, 10.0),
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
                wanted = Matcher(method, predicate, **where).describe()
                raise wait_timeout_error(wanted, count, timeout, len(found), self.calls[-15:])

    def wait_for(self, method: str | None, predicate: Callable[[Call], bool] | None = None,
                 timeout: float = 5.0, **where: Unpack[CallFilter]) -> Call:
        return self.wait_for_count(method, 1, predicate, timeout, **where)[0]

    async def wait_for_count_async(self, method: str | None, count: int, predicate=None, timeout: float = 5.0,
                                   **where: Unpack[CallFilter]) -> list[Call]:
        return await asyncio.to_thread(self.wait_for_count, method, count, predicate, timeout, **where)

    async def wait_for_async(self, method: str | None, predicate=None, timeout: float = 5.0,
                             **where: Unpack[CallFilter]) -> Call:
        return (await self.wait_for_count_async(method, 1, predicate, timeout, **where))[0]


def _forwarder(action: str) -> Callable[..., Any]:
    """RemoteBotApi.<action>: LocalBotApi.<action>, same signature, run in the server process."""
    local = getattr(LocalBotApi, action)
    signature = inspect.signature(local)
    extra = next((p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)

    def forward(self: RemoteBotApi, *args: Any, **kwargs: Any) -> Any:
        payload = signature.bind(self, *args, **kwargs).arguments   # only what the caller gave
        del payload["self"]
        if extra is not None:
            payload.update(payload.pop(extra, {}))
        return self._control(action, payload)

    forward.__name__ = forward.__qualname__ = action
    forward.__doc__ = local.__doc__
    forward.__signature__ = signature  # type: ignore[attr-defined]
    return forward


for _action in sorted(CONTROL_ACTIONS):
    setattr(RemoteBotApi, _action, _forwarder(_action))


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
