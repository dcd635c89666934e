"""Replies through faults, and updates through the inbox: the real PTB stack against the local Bot API.

What each test pins down (issue 12): a send the Bot API certainly did not carry out is sent again
(5xx, a dropped connection), one that may have arrived is neither repeated nor apologised for (a
slow answer), a blocked user is a line at info, a reply that keeps failing is handled again later
by the inbox, what a crash left in the inbox is handled at start-up, and the bot waits for an
unreachable Bot API instead of exiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket

import pytest

from bot.config import load_settings
from bot.setup import open_app
from handlers import dispatcher, render
from handlers.application import build_application, start_polling, stop
from local_bot_api import LocalBotApi

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(30)]

QUESTION = "临平免费体检名额有多少"
FAST_RETRIES = (0.02, 0.05, 0.1)


def settings_for(api_url: str, token: str, db_url: str, **env):
    return load_settings(_env_file=None, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN=token,
                         TELEGRAM_API_BASE_URL=api_url, TELEGRAM_RATE_LIMIT_PER_SECOND=0, **env)


@contextlib.asynccontextmanager
async def running_bot(api, db_url, **build):
    app = open_app(settings_for(api.url, api.token, db_url), load_knowledge=False)
    application = build_application(app, retry_delays=build.pop("retry_delays", FAST_RETRIES), **build)
    await start_polling(application, poll_timeout=5, sweep_interval=0.1)
    try:
        yield app, application
    finally:
        await stop(application)


def inbox_of(app, api):
    return app.repos.inbox.for_bot(int(api.token.split(":")[0]))


def replies_to(api, chat_id: int) -> list:
    return [c for c in api.calls_of("sendMessage", ok=True) if c.params["chat_id"] == chat_id]


async def settle(api, seconds: float = 0.3) -> None:
    """Gives a wrongly repeated send time to show up before counting."""
    await asyncio.sleep(seconds)


async def test_5xx_and_dropped_connections_are_sent_again_exactly_once(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.fail_next("sendMessage", 500)
        bot_api.push_message(501, QUESTION)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 501}, ok=True)
        bot_api.fail_next("sendMessage", 502)
        bot_api.push_message(502, QUESTION)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 502}, ok=True)
        bot_api.drop_next("sendMessage")
        bot_api.push_message(503, QUESTION)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 503}, ok=True)
        await settle(bot_api)
        for user, failed in ((501, 500), (502, 502), (503, 0)):
            attempts = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == user]
            assert [c.status for c in attempts] == [failed, 200], user
            assert attempts[1].params["text"] == attempts[0].params["text"] != render.ERROR_TEXT


async def test_a_slow_but_delivered_reply_is_neither_repeated_nor_apologised_for(bot_api, seeded_db_url, caplog):
    async with running_bot(bot_api, seeded_db_url, read_timeout=0.4) as (app, _):
        bot_api.delay_next("sendMessage", 1.0)                 # carried out at once, answered after the timeout
        with caplog.at_level(logging.WARNING, logger="bot.errors"):
            update = bot_api.push_message(601, QUESTION)
            await bot_api.wait_for_async("sendMessage", match={"chat_id": 601})
            await settle(bot_api, 1.2)
        sent = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == 601]
        assert len(sent) == 1 and sent[0].ok and sent[0].params["text"] != render.ERROR_TEXT
        assert any("may not have arrived" in r.getMessage() for r in caplog.records)
        assert not any(r.levelno >= logging.ERROR for r in caplog.records)
        assert inbox_of(app, bot_api).get(update["update_id"]).state == "done"


async def test_a_blocked_user_is_one_line_at_info_without_a_traceback(bot_api, seeded_db_url, caplog):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.block_user(701)
        with caplog.at_level(logging.INFO, logger="bot.errors"):
            bot_api.push_message(701, QUESTION)
            await bot_api.wait_for_async("sendMessage", match={"chat_id": 701})
            bot_api.push_message(702, QUESTION)                # handled after it: the first is finished
            await bot_api.wait_for_async("sendMessage", match={"chat_id": 702})
        mine = [r for r in caplog.records if r.name == "bot.errors"]
        assert [(r.levelno, r.exc_info) for r in mine] == [(logging.INFO, None)]
        assert "user=701" in mine[0].getMessage()


async def test_a_reply_the_bot_api_keeps_refusing_is_handled_again_later(bot_api, seeded_db_url, monkeypatch):
    monkeypatch.setattr(dispatcher, "retry_delay", lambda attempt: 0.2)
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        bot_api.fail_next("sendMessage", 503, count=len(FAST_RETRIES) + 1)     # every in-process attempt fails
        update = bot_api.push_message(801, QUESTION)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 801}, ok=True)
        await settle(bot_api)
        attempts = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == 801]
        assert [c.status for c in attempts] == [503] * (len(FAST_RETRIES) + 1) + [200]
        assert attempts[-1].params["text"] != render.ERROR_TEXT
        row = inbox_of(app, bot_api).get(update["update_id"])
        assert (row.state, row.attempts) == ("done", 1)


async def test_what_a_crash_left_in_the_inbox_is_handled_at_start_up(bot_api, seeded_db_url):
    """Pending rows are answered; a row caught mid-reply (`sending`) is closed, not answered again."""
    app = open_app(settings_for(bot_api.url, bot_api.token, seeded_db_url), load_knowledge=False)
    inbox = inbox_of(app, bot_api)
    waiting = [bot_api.push_message(901, f"{QUESTION} {i}", enqueue=False) for i in range(3)]
    half_done = bot_api.push_message(902, QUESTION, enqueue=False)
    inbox.record([(u["update_id"], u["message"]["chat"]["id"], json.dumps(u)) for u in [*waiting, half_done]])
    slot = inbox.slot()
    slot.mark_sending(half_done["update_id"])
    slot.close()
    app.db.dispose()
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        await bot_api.wait_for_count_async("sendMessage", 3, match={"chat_id": 901})
        bot_api.push_message(903, QUESTION)                     # and new ones are handled too
        await bot_api.wait_for_async("sendMessage", match={"chat_id": 903})
        await settle(bot_api)
        assert len(replies_to(bot_api, 901)) == 3 and replies_to(bot_api, 902) == []
        inbox = inbox_of(app, bot_api)
        assert inbox.get(half_done["update_id"]).note == "uncertain" and inbox.counts() == {"done": 5}


async def test_the_bot_waits_for_an_unreachable_bot_api_and_then_answers(seeded_db_url, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = LocalBotApi(port=port)
    app = open_app(settings_for(f"http://127.0.0.1:{port}", api.token, seeded_db_url), load_knowledge=False)
    application = build_application(app, retry_delays=FAST_RETRIES)
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        starting = asyncio.create_task(start_polling(application, poll_timeout=5, sweep_interval=0.1))
        for _ in range(100):
            if any("Bot API not reachable" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        assert not starting.done()
        api.start()
    try:
        await asyncio.wait_for(starting, 10)
        api.push_message(4242, QUESTION)
        reply = await api.wait_for_async("sendMessage", match={"chat_id": 4242})
        assert reply.ok and reply.params["text"] != render.ERROR_TEXT
    finally:
        await stop(application)
        await asyncio.to_thread(api.stop)

