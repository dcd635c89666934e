"""Sending replies: retried when they certainly did not arrive, never when they might have.

Why: a send can fail in two very different ways. Either the Bot API certainly did not carry it
out (the connection was refused, or closed before any answer came; a 5xx; a 429, which
AIORateLimiter already waits out and retries), and sending again is the only way the user gets
an answer; or the request went out and no answer came back in time (a read timeout), and the
message may well be on the user's screen: sending again, or apologising for an error, would be
wrong. `DeliveryRequest` retries the first kind a few times with backoff and turns the second
into `DeliveryUnknown`, which the error handler logs without apologising.

An update being handled has a `Delivery` (a context variable set by the inbox dispatcher, so it
follows the handler into every request it makes): before the first message-producing call the
update is marked `sending` in the inbox, since from then on a reply may reach the user and the
update must never be handled twice (bot.inbox).

Connection dropped without an answer (closed or reset after the request was written, before
any response): counted as not delivered. The Bot API answers every request it carried out; a
connection that ends with no answer at all is a proxy or a stale keep-alive connection losing
the request. A timeout while waiting for that answer is the case that stays unknown.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

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


@dataclass
class Delivery:
    """What happened to one update's replies while it was handled (handlers.dispatcher)."""

    update_id: int
    attempt: int = 0                   # earlier attempts whose replies certainly failed
    max_attempts: int = 1
    mark_sending: Callable[[], Awaitable[None]] | None = None
    maybe_delivered: bool = False      # a message-producing call succeeded or may have
    error: BaseException | None = None    # what the error handler saw
    _marked: bool = field(default=False, repr=False)

    async def before_send(self, api_method: str) -> None:
        if api_method.lower() in _HARMLESS or api_method.lower().startswith("get") or self._marked:
            return
        if self.mark_sending is not None:
            await self.mark_sending()
        self._marked = True

    def after_send(self, api_method: str) -> None:
        if api_method.lower() not in _HARMLESS and not api_method.lower().startswith("get"):
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


class DeliveryRequest(HTTPXRequest):
    """HTTPXRequest with the retry rules above and Telegram-sized timeouts."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS

    def __init__(self, *, read_timeout: float = READ_TIMEOUT, retry_delays: tuple[float, ...] | None = None,
                 **kwargs):
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
        kwargs.setdefault("write_timeout", WRITE_TIMEOUT)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
        kwargs.setdefault("media_write_timeout", MEDIA_WRITE_TIMEOUT)
        super().__init__(read_timeout=read_timeout, **kwargs)
        if retry_delays is not None:
            self.retry_delays = retry_delays

    async def do_request(self, url: str, method: str, request_data=None, **timeouts) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        delivery = current_delivery()
        if delivery is not None:
            await delivery.before_send(api_method)
        failure = ""
        for attempt, delay in enumerate((*self.retry_delays, None)):
            try:
                code, payload = await super().do_request(url, method, request_data, **timeouts)
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
