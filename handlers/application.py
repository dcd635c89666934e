"""The Telegram Application: built over one App with the handlers registered, then run.

Why here: handlers use bot's services (bot.*), and the Application is assembled
where the handlers are registered, so the dependency runs one way (handlers -> bot).
Polling by default; webhook mode when WEBHOOK_URL is set (with a required
secret, so only Telegram can post updates). The token never reaches the logs:
httpx is quietened and every log line passes a redacting filter (bot.logging_setup).
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application

from bot.config import Settings
from bot.flood import FloodGate
from bot.logging_setup import configure_logging
from bot.setup import App

from . import BOT_COMMANDS, BotServices, register
from .persistence import DatabasePersistence
from .update_processor import PerUserUpdateProcessor

log = logging.getLogger("bot.telegram")
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]


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
                      concurrent_updates: int | None = None) -> Application:
    """The configured Application (handlers registered), not yet started."""
    settings = app.settings
    concurrent_updates = concurrent_updates or settings.telegram_concurrent_updates
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN 未设置：在 @BotFather 创建机器人后写入环境变量或 .env")
    root = settings.telegram_api_base_url.rstrip("/")
    rate = settings.telegram_rate_limit_per_second
    limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1 if rate else 0, max_retries=3)
    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(base_url or f"{root}/bot")
        .base_file_url(base_file_url or f"{root}/file/bot")
        .rate_limiter(limiter)
        .concurrent_updates(PerUserUpdateProcessor(concurrent_updates))   # in order per user
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .persistence(DatabasePersistence(app.repos.persistence, settings.admin_conversation_timeout))
        .build()
    )
    register(application, BotServices(app, FloodGate(settings.flood_limit_per_minute)))
    return application


async def start_polling(application: Application, *, poll_timeout: float = 10.0) -> None:
    """What run_polling does before it blocks (for tests and benchmarks that own the event loop)."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                            allowed_updates=ALLOWED_UPDATES)
    await application.start()


async def start_webhook(application: Application, settings: Settings, *, port: int | None = None) -> None:
    """What run_webhook does before it blocks."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.updater.start_webhook(
        listen=settings.webhook_listen, port=port or settings.webhook_port, url_path=settings.webhook_url_path,
        webhook_url=settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES)
    await application.start()


async def stop(application: Application) -> None:
    """The orderly shutdown run_polling/run_webhook do on a signal."""
    if application.updater and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


def run_telegram(app: App) -> int:
    """Blocks until SIGINT/SIGTERM: polling, or a webhook server when WEBHOOK_URL is set."""
    settings = app.settings
    configure_logging(settings)
    application = build_application(app)
    if settings.webhook_url:
        log.info("starting webhook listen=%s port=%s path=/%s", settings.webhook_listen, settings.webhook_port,
                 settings.webhook_url_path)
        application.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port, url_path=settings.webhook_url_path,
            webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES)
    else:
        log.info("starting polling api=%s", settings.telegram_api_base_url)
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0
