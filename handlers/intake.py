"""Updates in: long polling or the webhook, each writing to the inbox before it acknowledges.

Why not PTB's Updater: it acknowledges a batch of polled updates (the next getUpdates offset)
as soon as they are in its in-memory queue, so a crash lost whatever was fetched but not yet
handled; and its webhook server reads the whole body before it checks the secret. Here an
update is acknowledged only once its inbox row is committed (bot.inbox), and the webhook
refuses a post on its headers alone.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Sequence

import tornado.httpserver
import tornado.web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.inbox import InboxRepository

from .dispatcher import InboxDispatcher, chat_key

log = logging.getLogger("bot.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20          # an update is a few kB (a 4,096-character message with entities); 1 MiB is plenty


class Backoff:
    """1 s, 2 s, 4 s ... up to `cap`; reset after a success."""

    def __init__(self, first: float = 1.0, cap: float = 30.0):
        self.first, self.cap, self.next = first, cap, first

    def take(self) -> float:
        delay, self.next = self.next, min(self.next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.next = self.first


async def record(inbox: InboxRepository, dispatcher: InboxDispatcher, updates: Sequence[Update],
                 payloads: Sequence[str]) -> None:
    """Writes the updates to the inbox, then hands the new ones to the dispatcher (a redelivered update
    is not new)."""
    keys = {u.update_id: chat_key(u) for u in updates}
    new = await asyncio.to_thread(inbox.record, [(u.update_id, keys[u.update_id], p)
                                                 for u, p in zip(updates, payloads, strict=True)])
    by_id = {u.update_id: u for u in updates}
    dispatcher.notify(list(dict.fromkeys(keys[i] for i in new)), {i: by_id[i] for i in new})


class UpdatesRequest(HTTPXRequest):
    """The getUpdates connection; keeps the last answer's bytes, so the inbox stores each update's JSON
    as received instead of rebuilding it from PTB's objects (to_dict cost more than the rest of intake)."""

    last_payload: bytes = b""

    async def do_request(self, *args, **kwargs) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        self.last_payload = payload
        return code, payload


def raw_updates(payload: bytes) -> dict[int, str]:
    """update_id -> that update's JSON, from a getUpdates answer."""
    try:
        result = json.loads(payload)["result"]
        return {item["update_id"]: json.dumps(item, ensure_ascii=False) for item in result}
    except (ValueError, KeyError, TypeError):
        return {}


class PollingIntake:
    """getUpdates in a loop; the offset moves past a batch only once the batch is in the inbox."""

    def __init__(self, bot: Bot, inbox: InboxRepository, dispatcher: InboxDispatcher, *,
                 allowed_updates: list[str], timeout: float = 10.0, on_fatal: Callable[[BaseException], None],
                 request: UpdatesRequest | None = None):
        self.bot, self.inbox, self.dispatcher, self.request = bot, inbox, dispatcher, request
        self.allowed_updates, self.timeout, self.on_fatal = allowed_updates, timeout, on_fatal
        self.offset: int | None = None
        self._task: asyncio.Task | None = None
        self.polling = False

    async def start(self) -> None:
        await self.bot.delete_webhook()         # getUpdates is refused while a webhook is set
        self._task = asyncio.create_task(self._run(), name="polling")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.offset is not None:              # acknowledge what is recorded (it would be recognised anyway)
            try:
                await asyncio.wait_for(self.bot.get_updates(offset=self.offset, timeout=0,
                                                            allowed_updates=self.allowed_updates), 3)
            except (TelegramError, TimeoutError) as exc:
                log.info("final acknowledgement skipped: %s", type(exc).__name__)

    async def _run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                self.polling = True
                updates = await self.bot.get_updates(offset=self.offset, timeout=self.timeout,
                                                     allowed_updates=self.allowed_updates)
            except InvalidToken as exc:
                log.error("the Bot API rejected the token while polling (401/404): check TELEGRAM_BOT_TOKEN")
                self.on_fatal(exc)
                return
            except Conflict:
                delay = backoff.take()
                log.warning("another process is polling with this token (409 Conflict); retrying in %.0f s", delay)
                await asyncio.sleep(delay)
                continue
            except Exception as exc:             # NetworkError, TimedOut, a garbled answer ...: polling goes on
                delay = backoff.take()
                log.warning("getUpdates failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, delay,
                            exc_info=not isinstance(exc, TelegramError))
                await asyncio.sleep(delay)
                continue
            finally:
                self.polling = False
            backoff.reset()
            if not updates:
                continue
            raw = raw_updates(self.request.last_payload) if self.request is not None else {}
            payloads = [raw.get(u.update_id) or json.dumps(u.to_dict(), ensure_ascii=False) for u in updates]
            while True:
                try:
                    await record(self.inbox, self.dispatcher, updates, payloads)
                    break
                except Exception as exc:         # not acknowledged: Telegram keeps them until the database is back
                    delay = backoff.take()
                    log.warning("could not record %d update(s) (%s); not acknowledged, retrying in %.0f s",
                                len(updates), type(exc).__name__, delay, exc_info=not isinstance(exc, SQLAlchemyError))
                    await asyncio.sleep(delay)
            backoff.reset()
            self.offset = updates[-1].update_id + 1


@tornado.web.stream_request_body
class _WebhookPost(tornado.web.RequestHandler):
    """POST <path>: the secret header first, then a bounded body, then the inbox, then 200."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, intake: WebhookIntake) -> None:
        self.intake = intake
        self.body = bytearray()

    def _refuse(self, status: int, why: str) -> None:
        log.info("webhook post refused status=%d reason=%s from=%s", status, why, self.request.remote_ip)
        self.set_status(status)
        self.finish()

    def prepare(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.intake.secret.encode()):
            self._refuse(403, "secret")            # before a byte of the body is read
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            self._refuse(413, "size")
            return
        self.request.connection.set_max_body_size(MAX_BODY)

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self.body += chunk
        if len(self.body) > MAX_BODY:
            self._refuse(413, "size")

    async def post(self) -> None:
        if self._finished:
            return
        try:
            text = bytes(self.body).decode("utf-8")
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.intake.bot)
        except Exception as exc:
            self._refuse(400, f"malformed ({type(exc).__name__})")
            return
        try:
            await record(self.intake.inbox, self.intake.dispatcher, [update], [text])
        except SQLAlchemyError as exc:           # not acknowledged: Telegram delivers it again later
            log.warning("could not record update_id=%s (%s); answered 503", update.update_id, type(exc).__name__)
            self.set_status(503)
            self.finish()
            return
        self.set_status(200)
        self.finish()


class WebhookIntake:
    """A small HTTP server for Telegram's posts (TLS is the reverse proxy's job)."""

    def __init__(self, bot: Bot, inbox: InboxRepository, dispatcher: InboxDispatcher, *, listen: str, port: int,
                 path: str, secret: str):
        self.bot, self.inbox, self.dispatcher = bot, inbox, dispatcher
        self.listen, self.port, self.path, self.secret = listen, port, "/" + path.strip("/"), secret
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        app = tornado.web.Application([(self.path, _WebhookPost, {"intake": self})], log_function=lambda _h: None)
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY, idle_connection_timeout=60,
                                                     body_timeout=30)
        self._server.listen(self.port, self.listen)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
