"""A tiny round-robin HTTP proxy, for webhook workers behind one public address.

Why: several bot workers share one webhook URL behind a reverse proxy (nginx, Caddy ...).
This stands in for it in tests: each request goes to the next upstream in turn; an upstream
that refuses the connection is skipped for the next one (nginx's `proxy_next_upstream error`),
and when none answers, or one dies mid-request, the client gets 502 and, being Telegram, posts
again later. One request per connection; stdlib asyncio in a thread of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import threading


class RoundRobinProxy:
    """``with RoundRobinProxy([("127.0.0.1", p1), ("127.0.0.1", p2)]) as proxy: proxy.url``"""

    def __init__(self, upstreams: list[tuple[str, int]], *, host: str = "127.0.0.1", port: int = 0,
                 timeout: float = 30.0):
        self.upstreams = list(upstreams)
        self.host, self.port, self.timeout = host, port, timeout
        self.forwarded = [0] * len(self.upstreams)     # requests answered by each upstream
        self.failed = 0                                # requests answered 502
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RoundRobinProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._client, self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="RoundRobinProxy", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> RoundRobinProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            length = 0
            lines = head.decode("latin-1").split("\r\n")
            kept = [lines[0]]
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
                if line and name.lower() != "connection":
                    kept.append(line)
            body = await reader.readexactly(length) if length else b""
            request = ("\r\n".join([*kept, "Connection: close", "", ""])).encode("latin-1") + body
            writer.write(await self._forward(request))
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        for _ in range(len(self.upstreams)):
            index = next(self._turn)
            host, port = self.upstreams[index]
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.timeout)
            except (OSError, TimeoutError):
                continue                                  # refused: try the next upstream
            try:
                writer.write(request)
                await writer.drain()
                response = await asyncio.wait_for(reader.read(), self.timeout)
            except (OSError, TimeoutError):
                response = b""
            finally:
                writer.close()
            if response.startswith(b"HTTP/"):
                self.forwarded[index] += 1
                return response
            break                                         # it died with the request: the sender posts again
        self.failed += 1
        return b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
