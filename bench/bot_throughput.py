"""Answers per second of the real bot against a bare PTB echo bot, through the local Bot API server.

Why: the bot's own work per message (engine, query-log write, keyboard) should
not make it much slower than Telegram plumbing alone. Both bots run in this
process against one `python -m local_bot_api` server process; the same 1,000
real questions (tests/data/labelled_questions.jsonl, cycled) are queued while a
bot is not polling, then the clock runs from the start of polling until all
1,000 replies were recorded. Target: bot >= 0.5 x echo.

    .venv/bin/python bench/bot_throughput.py [--n 1000] [--users 250] [--telegram-limit] [--profile]

By default the bot's overall 30 messages/s throttle (Telegram's bulk limit,
TELEGRAM_RATE_LIMIT_PER_SECOND) is switched off, since the echo bot has none;
--telegram-limit keeps it and shows the cap instead.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, MessageHandler, filters  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.setup import open_app  # noqa: E402
from bot.telegram_app import build_application, start_polling, stop  # noqa: E402
from local_bot_api import ServerProcess  # noqa: E402

BOT_TOKEN = "5001:BENCH-union-bot"
ECHO_TOKEN = "5002:BENCH-echo-bot"


def questions(n: int) -> list[str]:
    lines = (ROOT / "tests" / "data" / "labelled_questions.jsonl").read_text("utf-8").splitlines()
    pool = [json.loads(x)["q"] for x in lines if x.strip()]
    return list(itertools.islice(itertools.cycle(pool), n))


async def _echo(update: Update, context) -> None:
    await update.message.reply_text(update.message.text)


def echo_application(url: str) -> Application:
    app = Application.builder().token(ECHO_TOKEN).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app


async def run_once(application: Application, remote, token: str, texts: list[str], users: int,
                   profile: cProfile.Profile | None = None) -> float:
    """Warm up, queue all texts while not polling, then time polling until every reply is recorded."""
    await start_polling(application, poll_timeout=5)
    try:
        mark = remote.mark()
        for i in range(20):
            remote.push_message(10_000 + i, texts[i % len(texts)], token=token)
        await remote.wait_for_count_async("sendMessage", 20, since=mark, token=token, timeout=30)
        await application.updater.stop()
        mark = remote.mark()
        for i, text in enumerate(texts):
            remote.push_message(20_000 + i % users, text, token=token)
        if profile:
            profile.enable()
        started = time.perf_counter()
        await application.updater.start_polling(poll_interval=0.0, timeout=5)
        await remote.wait_for_count_async("sendMessage", len(texts), since=mark, token=token, timeout=300)
        took = time.perf_counter() - started
        if profile:
            profile.disable()
        return len(texts) / took
    finally:
        await stop(application)


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="questions per bot (default 1000)")
    p.add_argument("--users", type=int, default=250, help="distinct users sending them (default 250)")
    p.add_argument("--telegram-limit", action="store_true", help="keep the bot's 30 messages/s overall throttle")
    p.add_argument("--profile", action="store_true", help="cProfile the bot's timed run")
    args = p.parse_args(argv)
    texts = questions(args.n)

    with ServerProcess([BOT_TOKEN, ECHO_TOKEN]) as server, tempfile.TemporaryDirectory() as tmp:
        remote = server.client
        echo_rate = await run_once(echo_application(server.url), remote, ECHO_TOKEN, texts, args.users)

        env = {"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
               "TELEGRAM_API_BASE_URL": server.url, "LOG_LEVEL": "WARNING"}
        if not args.telegram_limit:
            env["TELEGRAM_RATE_LIMIT_PER_SECOND"] = 0
        app = open_app(load_settings(_env_file=None, **env))
        profile = cProfile.Profile() if args.profile else None
        bot_rate = await run_once(build_application(app), remote, BOT_TOKEN, texts, args.users, profile)
        logged = app.repos.queries.recent_unanswered(days=1, limit=100_000)

    ratio = bot_rate / echo_rate
    print(f"questions: {len(texts)} from {args.users} users (tests/data/labelled_questions.jsonl, cycled)")
    print(f"echo bot (bare PTB):  {echo_rate:8.1f} answers/s")
    print(f"union bot:            {bot_rate:8.1f} answers/s"
          + ("  (30/s Telegram throttle on)" if args.telegram_limit else "  (overall throttle off)"))
    print(f"ratio bot/echo:       {ratio:8.2f}  (target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'})")
    print(f"unanswered questions logged: {len(logged)}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
