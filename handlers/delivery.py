"""Sending replies: retried when they certainly did not arrive, never when they might have.

Why: a send can fail in two very different ways. Either the Bot API certainly did not carry it
out (the connection was refused, or closed before any answer came; a 5xx; a 429, which
AIORateLimiter already waits out and retries), and sending again is the only way the user gets
an answer; or the request went out and no answer came back in time (a read timeout), and the
message may well be on the user's screen: sending again, or apologising for an error, would be
wrong. `DeliveryRequest` retries the first kind a few times with backoff and turns the second
into `DeliveryUnknown`, which the error handler logs without apologising.

An update being handled has a `Delivery` (a context variable set by the inbox dispatcher, so it
follows the handler into every request it makes). Its first message-producing request marks the
update `sending` in the inbox (bot.inbox): from then on a reply may reach the user, and the
update is never handled again. The mark is committed at the last possible moment, inside the
connection's write, right before the request goes onto the socket in one write (`_MarkingStream`):
a kill -9 before it leaves the update pending (handled after the restart, correctly, since
nothing left), a kill after it leaves it `sending` (not handled again, correctly, since the
request is out). Only the few microseconds between the commit and the write are uncertain; done
anywhere earlier, the window spanned whole turns of the event loop (several ms under load).

Connection dropped without an answer (closed or reset after the request was written, before
any response): counted as not delivered. The Bot API answers every request it carried out; a
connection that ends with no answer at all is a proxy or a stale keep-alive connection losing
the request. A timeout while waiting for that answer is the case that stays unknown.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpcore
import httpx
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger("bot.send")

# Timeouts (seconds). Telegram answers a send in well under a second when healthy but can take
# several under load; PTB's 5 s read timeout turned slow-but-delivered sends into errors.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
WRITE_TIMEOUT = 20.0
MEDIA_WRITE_TIMEOUT = 60.0
POOL_TIMEOUT = 5.0           # waiting for a free connection: nothing was sent yet, so it is retried
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)   # after each certain failure; then NotDelivered

# Calls that answer an update without leaving a new message behind: repeating one is harmless
# (an answered callback or inline query is simply refused), so they do not mark the update.
_HARMLESS = frozenset({"answercallbackquery", "answerinlinequery", "sendchataction"})


class NotDelivered(NetworkError):
    """The Bot API certainly did not carry the call out, after every retry."""


class DeliveryUnknown(TimedOut):
    """The request was sent and no answer came in time: it may have been carried out."""


class MarkFailed(Exception):
    """The inbox could not be marked, so the request was not sent (the database is away)."""


@dataclass
class Delivery:
    """What happened to one update's replies while it was handled (handlers.dispatcher)."""

    update_id: int
    attempt: int = 0                   # earlier attempts whose replies certainly failed
    max_attempts: int = 1
    mark_sending: Callable[[], None] | None = None     # synchronous: it runs inside the socket write
    maybe_delivered: bool = False      # a message-producing call succeeded or may have
    error: BaseException | None = None    # what the error handler saw
    _armed: bool = field(default=False, repr=False)
    _marked: bool = field(default=False, repr=False)

    @staticmethod
    def _produces_message(api_method: str) -> bool:
        name = api_method.lower()
        return name not in _HARMLESS and not name.startswith("get")

    def arm(self, api_method: str) -> None:
        """The request about to be made leaves a message behind: mark before its bytes go out."""
        self._armed = self._produces_message(api_method)

    def commit_mark(self) -> None:
        """Called by the connection right before it writes an armed request."""
        if not self._armed or self._marked:
            return
        if self.mark_sending is not None:
            try:
                self.mark_sending()
            except Exception as exc:
                raise MarkFailed(f"{type(exc).__name__}: {exc}") from exc
        self._marked = True

    def after_send(self, api_method: str) -> None:
        if self._produces_message(api_method):
            self.maybe_delivered = True

    def undelivered(self, error: BaseException) -> bool:
        """Nothing of this update's replies can have reached the user, and the failure was the Bot API's
        (down or refusing), so handling the update again later is safe and may succeed."""
        return isinstance(error, (NotDelivered, RetryAfter)) and not self.maybe_delivered

    def will_retry(self, error: BaseException) -> bool:
        """True when the update will be handled again later (undelivered, and attempts remain)."""
        return self.undelivered(error) and self.attempt + 1 < self.max_attempts


_CURRENT: ContextVar[Delivery | None] = ContextVar("delivery", default=None)


def current_delivery() -> Delivery | None:
    return _CURRENT.get()


@contextlib.contextmanager
def delivering(delivery: Delivery) -> Iterator[Delivery]:
    token = _CURRENT.set(delivery)
    try:
        yield delivery
    finally:
        _CURRENT.reset(token)


def _never_answered(exc: BaseException) -> bool:
    """True for failures where the Bot API certainly did not carry the call out (see the module doc)."""
    cause = exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError,
                          httpx.WriteTimeout, httpx.ReadError)):
        return True
    if isinstance(cause, httpx.RemoteProtocolError):
        return "without sending a response" in str(cause)
    return False


def _announces_body(head: bytes) -> bool:
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        return True
    start = lowered.find(b"content-length:")
    if start < 0:
        return False
    value = lowered[start + 15:lowered.find(b"\r\n", start)].strip()
    return value.isdigit() and int(value) > 0


class _MarkingStream(httpcore.AsyncNetworkStream):
    """Holds a request's headers back until its body comes, then marks the update (if the request is
    armed) and writes both in one go: no turn of the event loop between the mark and the socket."""

    def __init__(self, stream: httpcore.AsyncNetworkStream):
        self._stream = stream
        self._head = b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if not self._head and _announces_body(buffer):
            self._head = buffer
            return
        data, self._head = self._head + buffer, b""
        delivery = current_delivery()
        if delivery is not None:
            delivery.commit_mark()
        await self._stream.write(data, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.AsyncNetworkStream:
        return _MarkingStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _MarkingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend):
        self._backend = backend

    async def connect_tcp(self, *args, **kwargs) -> httpcore.AsyncNetworkStream:
        return _MarkingStream(await self._backend.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args, **kwargs) -> httpcore.AsyncNetworkStream:
        return _MarkingStream(await self._backend.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _marking_transport(pool_size: int) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=pool_size))
    pool = transport._pool                              # httpx offers no public hook for the network backend
    pool._network_backend = _MarkingBackend(pool._network_backend)
    return transport


class DeliveryRequest(HTTPXRequest):
    """HTTPXRequest with the retry rules above, the inbox mark, and Telegram-sized timeouts."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS

    def __init__(self, *, read_timeout: float = READ_TIMEOUT, retry_delays: tuple[float, ...] | None = None,
                 connection_pool_size: int = 64, **kwargs):
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
        kwargs.setdefault("write_timeout", WRITE_TIMEOUT)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
        kwargs.setdefault("media_write_timeout", MEDIA_WRITE_TIMEOUT)
        super().__init__(read_timeout=read_timeout, connection_pool_size=connection_pool_size,
                         httpx_kwargs={"transport": _marking_transport(connection_pool_size)}, **kwargs)
        if retry_delays is not None:
            self.retry_delays = retry_delays

    async def do_request(self, url: str, method: str, request_data=None, **timeouts) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        delivery = current_delivery()
        failure = ""
        for attempt, delay in enumerate((*self.retry_delays, None)):
            if delivery is not None:
                delivery.arm(api_method)
            try:
                code, payload = await super().do_request(url, method, request_data, **timeouts)
            except MarkFailed as exc:                     # nothing was written
                failure = f"inbox: {exc}"
            except (TimedOut, NetworkError) as exc:
                if not _never_answered(exc):       # the request went out; what became of it is unknown
                    if delivery is not None:
                        delivery.after_send(api_method)
                    raise DeliveryUnknown(f"{api_method}: no answer ({type(exc.__cause__).__name__}); it may have "
                                          "been carried out, so it is not sent again") from exc
                failure = f"{type(exc.__cause__).__name__}"
            else:
                if code < 500:
                    if delivery is not None and code < 300:
                        delivery.after_send(api_method)
                    return code, payload
                failure = f"HTTP {code}"
            if delay is None:
                break
            log.info("send retry method=%s reason=%s attempt=%d wait_s=%.2f", api_method, failure, attempt + 1, delay)
            await asyncio.sleep(delay)
        raise NotDelivered(f"{api_method} not delivered after {len(self.retry_delays) + 1} attempts ({failure})")
