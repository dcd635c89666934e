"""The Telegram Application: built over one App with the handlers registered, then run.

Why here: handlers use bot's services (bot.*), and the Application is assembled
where the handlers are registered, so the dependency runs one way (handlers -> bot).
Polling by default; webhook mode when WEBHOOK_URL is set (with a required
secret, so only Telegram can post updates). Updates come in through the inbox
(handlers.intake -> bot.inbox -> handlers.dispatcher), not PTB's Updater, so none
is lost to a crash or answered twice. The token never reaches the logs: httpx is
quietened and every log line, uncaught errors included, passes a redacting
filter (bot.logging_setup).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application

from bot.config import Settings
from bot.flood import FloodGate
from bot.logging_setup import configure_logging
from bot.setup import App

from . import BOT_COMMANDS, BotServices, register
from .delivery import CONNECT_TIMEOUT, DeliveryRequest
from .dispatcher import InboxDispatcher
from .intake import Backoff, PollingIntake, UpdatesRequest, WebhookIntake
from .persistence import DatabasePersistence

log = logging.getLogger("bot.telegram")
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
RUNNER = "runner"


async def _post_init(application: Application) -> None:
    """Start-up: the command menu and a few sanity checks, logged."""
    svc: BotServices = application.bot_data["services"]
    try:
        await application.bot.set_my_commands(BOT_COMMANDS)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
    engine = await svc.engine()
    stations = await svc.stations()
    examples = sum(1 for s in stations.stations if s.is_example)
    log.info("bot ready username=%s kb_version=%s entries=%d documents=%d stations=%d example_stations=%d",
             application.bot.username, engine.version, len(engine.entries), len(engine.documents),
             len(stations), examples)
    if not engine.entries:
        log.warning("the knowledge base is empty: run `python run_bot.py kb import`")
    if stations.stations and examples == len(stations):
        log.warning("only EXAMPLE stations are loaded (not real places); import real ones with "
                    "`python run_bot.py stations import FILE --replace-examples`")


async def _post_shutdown(application: Application) -> None:
    svc: BotServices = application.bot_data["services"]
    await svc.close()                        # the queued query-log rows are written first
    svc.app.db.dispose()


def build_application(app: App, *, base_url: str | None = None, base_file_url: str | None = None,
                      concurrent_updates: int | None = None, read_timeout: float | None = None,
                      retry_delays: tuple[float, ...] | None = None) -> Application:
    """The configured Application (handlers registered), not yet started.

    read_timeout / retry_delays: the send rules of handlers.delivery (tests shorten them).
    """
    settings = app.settings
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN 未设置：在 @BotFather 创建机器人后写入环境变量或 .env")
    root = settings.telegram_api_base_url.rstrip("/")
    rate = settings.telegram_rate_limit_per_second
    limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1 if rate else 0, max_retries=3)
    polling = UpdatesRequest(connection_pool_size=2, connect_timeout=CONNECT_TIMEOUT)
    sending = DeliveryRequest(retry_delays=retry_delays, **({"read_timeout": read_timeout} if read_timeout else {}))
    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(base_url or f"{root}/bot")
        .base_file_url(base_file_url or f"{root}/file/bot")
        .request(sending)
        .get_updates_request(polling)
        .rate_limiter(limiter)
        .updater(None)                         # updates come through the inbox (handlers.intake)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .persistence(DatabasePersistence(app.repos.persistence, settings.admin_conversation_timeout))
        .build()
    )
    register(application, BotServices(app, FloodGate(settings.flood_limit_per_minute)))
    application.bot_data["slots"] = concurrent_updates or settings.telegram_concurrent_updates
    application.bot_data["updates_request"] = polling
    return application


async def initialize(application: Application, api_url: str) -> None:
    """getMe until the Bot API answers: an unreachable server is waited for (1 s, 2 s ... 60 s apart,
    each attempt logged); a rejected token (401/404) is final and raises InvalidToken."""
    backoff = Backoff(1.0, 60.0)
    attempt = 0
    while True:
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except NetworkError as exc:
            attempt += 1
            delay = backoff.take()
            log.warning("Bot API not reachable at %s (%s: %s); retrying in %.0f s (attempt %d)",
                        api_url, type(exc).__name__, exc, delay, attempt)
            await asyncio.sleep(delay)


class TelegramRunner:
    """Start and stop in the right order: Bot API, handlers, inbox dispatcher, then intake."""

    def __init__(self, application: Application, settings: Settings, *, webhook: bool, port: int | None = None,
                 poll_timeout: float = 10.0, sweep_interval: float = 1.0):
        self.application, self.settings = application, settings
        svc: BotServices = application.bot_data["services"]
        inbox = svc.repos.inbox.for_bot(int(application.bot.token.split(":", 1)[0]))   # the bot id
        self.dispatcher = InboxDispatcher(application, inbox, application.bot_data["slots"],
                                          sweep_interval=sweep_interval)
        self.failed: BaseException | None = None
        self.stopped = asyncio.Event()
        if webhook:
            self.intake: PollingIntake | WebhookIntake = WebhookIntake(
                application.bot, inbox, self.dispatcher, listen=settings.webhook_listen,
                port=port or settings.webhook_port, path=settings.webhook_url_path, secret=settings.webhook_secret)
        else:
            self.intake = PollingIntake(application.bot, inbox, self.dispatcher,
                                        allowed_updates=ALLOWED_UPDATES, timeout=poll_timeout, on_fatal=self._fatal,
                                        request=application.bot_data.get("updates_request"))

    def _fatal(self, exc: BaseException) -> None:
        self.failed = exc
        self.stopped.set()

    async def start(self) -> None:
        application = self.application
        await initialize(application, self.settings.telegram_api_base_url)
        await application.post_init(application)
        await application.start()                  # the job queue (admin conversations time out)
        await self.dispatcher.start()              # handles what a previous run recorded but did not finish
        await self.intake.start()
        if isinstance(self.intake, WebhookIntake):
            await self._set_webhook()

    async def _set_webhook(self) -> None:
        backoff = Backoff(1.0, 60.0)
        while True:
            try:
                await self.application.bot.set_webhook(
                    url=self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES)
                return
            except InvalidToken:
                raise
            except NetworkError as exc:
                delay = backoff.take()
                log.warning("setWebhook failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        application = self.application
        await self.intake.stop()
        await self.dispatcher.stop()
        if application.running:
            await application.stop()
        await application.shutdown()             # a no-op when start-up never reached the Bot API
        await application.post_shutdown(application)


async def start_polling(application: Application, *, poll_timeout: float = 10.0,
                        sweep_interval: float = 1.0) -> TelegramRunner:
    """The bot polling, for tests and benchmarks that own the event loop."""
    svc: BotServices = application.bot_data["services"]
    runner = application.bot_data[RUNNER] = TelegramRunner(application, svc.app.settings, webhook=False,
                                                           poll_timeout=poll_timeout, sweep_interval=sweep_interval)
    await runner.start()
    return runner


async def start_webhook(application: Application, settings: Settings, *, port: int | None = None,
                        sweep_interval: float = 1.0) -> TelegramRunner:
    """The bot's webhook server, for tests that own the event loop."""
    runner = application.bot_data[RUNNER] = TelegramRunner(application, settings, webhook=True, port=port,
                                                           sweep_interval=sweep_interval)
    await runner.start()
    return runner


async def stop(application: Application) -> None:
    """The orderly shutdown done on SIGTERM/SIGINT."""
    runner: TelegramRunner | None = application.bot_data.pop(RUNNER, None)
    if runner is not None:
        await runner.stop()


async def serve(app: App, application: Application) -> int:
    """Runs until SIGINT/SIGTERM (0) or a fatal error such as a rejected token (1)."""
    settings = app.settings
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signalled.set)
    runner = application.bot_data[RUNNER] = TelegramRunner(application, settings, webhook=bool(settings.webhook_url))
    if settings.webhook_url:
        log.info("starting webhook listen=%s port=%s path=/%s", settings.webhook_listen, settings.webhook_port,
                 settings.webhook_url_path)
    else:
        log.info("starting polling api=%s", settings.telegram_api_base_url)
    starting = asyncio.create_task(runner.start())
    waiter = asyncio.create_task(signalled.wait())
    await asyncio.wait([starting, waiter], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if starting.done() and starting.exception() is None:
        await asyncio.wait([waiter, asyncio.create_task(runner.stopped.wait())], return_when=asyncio.FIRST_COMPLETED)
        code = 1 if runner.failed is not None else 0
    elif starting.done():
        error = starting.exception()
        if isinstance(error, InvalidToken):
            log.error("the Bot API at %s rejected the token (401/404): check TELEGRAM_BOT_TOKEN (BotFather) and "
                      "TELEGRAM_API_BASE_URL (the server root, no /bot)", settings.telegram_api_base_url)
        else:
            log.error("start-up failed: %s: %s", type(error).__name__, error, exc_info=error)
        code = 1
    else:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
    waiter.cancel()
    await stop(application)
    return code


def run_telegram(app: App) -> int:
    """Blocks until SIGINT/SIGTERM: polling, or a webhook server when WEBHOOK_URL is set."""
    configure_logging(app.settings)
    return asyncio.run(serve(app, build_application(app)))
