"""The webhook server (handlers.intake) against hostile and repeated posts (issue 12, #9)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import pytest

from bot.config import load_settings
from bot.setup import open_app
from handlers import render
from handlers.application import build_application, start_webhook, stop

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(30)]

SECRET = "s3cret-Token_1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def webhook_bot(api, db_url):
    port = free_port()
    settings = load_settings(_env_file=None, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN=api.token,
                             TELEGRAM_API_BASE_URL=api.url, WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
                             WEBHOOK_SECRET=SECRET, WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=port)
    application = build_application(open_app(settings, load_knowledge=False))
    await start_webhook(application, settings, sweep_interval=0.1)
    try:
        yield port
    finally:
        await stop(application)


def raw_post(port: int, head: dict[str, str], body: bytes = b"", timeout: float = 3.0) -> tuple[int, float]:
    """Sends the headers (and whatever part of the body is given); returns (status, seconds to the answer)."""
    lines = ["POST /tg/hook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in head.items()), "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall("\r\n".join(lines).encode() + body)
        status_line = sock.makefile("rb").readline().decode()
        return int(status_line.split()[1]), time.monotonic() - started


async def test_the_secret_and_the_size_are_checked_before_the_body_is_read(bot_api, seeded_db_url):
    async with webhook_bot(bot_api, seeded_db_url) as port:
        huge = str(50 * 1024 * 1024)           # announced, never sent: an answer can only come from the headers
        status, took = await asyncio.to_thread(raw_post, port, {"Content-Length": huge})
        assert status == 403 and took < 1.0
        status, took = await asyncio.to_thread(
            raw_post, port, {"Content-Length": huge, "X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert status == 403 and took < 1.0
        status, took = await asyncio.to_thread(
            raw_post, port, {"Content-Length": huge, "X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert status == 413 and took < 1.0


async def test_malformed_posts_with_the_right_secret_get_400(bot_api, seeded_db_url):
    async with webhook_bot(bot_api, seeded_db_url) as port:
        for body in (b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b"\xff\xfe"):
            head = {"Content-Length": str(len(body)), "X-Telegram-Bot-Api-Secret-Token": SECRET}
            status, _ = await asyncio.to_thread(raw_post, port, head, body)
            assert status == 400, body
        genuine = bot_api.push_message(4242, "临平免费体检名额", enqueue=False)
        assert await bot_api.post_webhook_async(genuine) == 200
        reply = await bot_api.wait_for_async("sendMessage", match={"chat_id": 4242})
        assert reply.params["text"] != render.ERROR_TEXT


async def test_a_redelivered_update_is_answered_once(bot_api, seeded_db_url):
    async with webhook_bot(bot_api, seeded_db_url):
        update = bot_api.push_message(4243, "富阳疗休养", enqueue=False)
        assert await bot_api.post_webhook_async(update) == 200
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 4243})
        assert await bot_api.post_webhook_async(json.loads(json.dumps(update))) == 200    # Telegram retried it
        bot_api.push_message(4243, "临平免费体检名额")                 # a new one after it, through the queue
        await bot_api.wait_for_count_async("sendMessage", 2, match={"chat_id": 4243})
        await asyncio.sleep(0.3)
        assert len([c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == 4243]) == 2
