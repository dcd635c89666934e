"""Answers per second of the real bot against a bare PTB echo bot, through the local Bot API server.

Why: the bot's own work per message (engine, query-log write, keyboard) should
not make it much slower than Telegram plumbing alone. Both bots run in this
process against one `python -m local_bot_api` server process; the same 1,000
real questions (tests/data/labelled_questions.jsonl, cycled) are queued while a
bot is not polling, then the clock runs from the start of polling until all
1,000 replies were recorded. Target: bot >= 0.5 x echo.

    .venv/bin/python bench/bot_throughput.py [--n 1000] [--rounds 3] [--users 250]
        [--no-cache] [--concurrency N] [--telegram-limit] [--profile]

Each round runs the echo bot, then the union bot (a fresh Application over the
same warm App); the medians are compared, since other work on the machine makes
single runs noisy. By default the bot's overall 30 messages/s throttle
(Telegram's bulk limit, TELEGRAM_RATE_LIMIT_PER_SECOND) is off, since the echo
bot has none; --telegram-limit keeps it and shows the cap instead. The answer
cache helps because real questions repeat (the 259 labelled questions repeat
here too); --no-cache shows the rate without it. Since conversations (issue 9)
an answer is cached per conversation history too (a follow-up depends on it):
with the default 250 users each sends 4 questions within seconds, so 3 of 4
have a history and miss the cache; --users 1000 (one question each) shows the
rest of the bot's cost without that effect. The bot runs with its default
TELEGRAM_CONCURRENT_UPDATES (4); --concurrency shows what more costs in CPU.

What made the difference (see docs/telegram.md for the settings): the query
log is written behind the replies in group commits instead of one transaction
per question, the engine answers on the event loop (worker threads fought the
loop for the GIL) with a cache for repeated questions, and few concurrent
updates, since httpx's connection pool costs CPU per open connection.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, MessageHandler, filters  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.setup import open_app  # noqa: E402
from handlers.application import build_application, stop  # noqa: E402
from handlers.application import start_polling as start_bot_polling  # noqa: E402
from local_bot_api import ServerProcess  # noqa: E402

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
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


CPU_MS: dict[str, list[tuple[float, float]]] = {}


def _cpu_seconds(pid: int | None) -> float:
    """User+system CPU of another process (Linux /proc), 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _wait_calls(url: str, token: str, since: int, count: int, timeout: float) -> list[dict]:
    """One server-side wait for `count` sendMessage calls (the bot's process does no polling meanwhile)."""
    body = json.dumps({"method": "sendMessage", "token": token, "since": since, "count": count,
                       "timeout": timeout}).encode()
    request = urllib.request.Request(f"{url}/_control/wait_calls", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with _OPENER.open(request, timeout=timeout + 30) as resp:
        calls = json.loads(resp.read())["result"]
    if len(calls) < count:
        raise RuntimeError(f"only {len(calls)} of {count} replies within {timeout}s")
    return calls


async def start_polling(application: Application, poll_timeout: float):
    """The union bot through its inbox (handlers.application); the echo bot with PTB's own Updater."""
    if "services" in application.bot_data:
        return await start_bot_polling(application, poll_timeout=poll_timeout)
    await application.initialize()
    await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
    await application.start()
    return None


async def stop_any(application: Application) -> None:
    if "services" in application.bot_data:
        await stop(application)
        return
    if application.updater.running:
        await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def run_once(application: Application, remote, server_pid: int | None, token: str, texts: list[str],
                   users: int, profile: cProfile.Profile | None = None) -> float:
    """Warm up, queue all texts while not polling, then time polling until every reply is recorded.

    The clock ends at the server's timestamp of the last reply, so how the result is fetched does
    not count.
    """
    runner = await start_polling(application, poll_timeout=5)
    intake = runner.intake if runner is not None else application.updater
    try:
        mark = remote.mark()
        for i in range(20):
            remote.push_message(10_000 + i, texts[i % len(texts)], token=token)
        await remote.wait_for_count_async("sendMessage", 20, since=mark, token=token, timeout=30)
        await intake.stop()
        mark = remote.mark()
        for i, text in enumerate(texts):
            remote.push_message(20_000 + i % users, text, token=token)
        waiter = asyncio.create_task(asyncio.to_thread(_wait_calls, remote.url, token, mark, len(texts), 300))
        if profile:
            profile.enable()
        started, cpu, server_cpu = time.time(), time.process_time(), _cpu_seconds(server_pid)
        if runner is not None:
            await intake.start()
        else:
            await intake.start_polling(poll_interval=0.0, timeout=5)
        calls = await waiter
        CPU_MS.setdefault(token, []).append(((time.process_time() - cpu) * 1000 / len(texts),
                                             (_cpu_seconds(server_pid) - server_cpu) * 1000 / len(texts)))
        if profile:
            profile.disable()
        return len(texts) / (max(c["time"] for c in calls) - started)
    finally:
        await stop_any(application)


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="questions per bot and round (default 1000)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    p.add_argument("--users", type=int, default=250, help="distinct users sending them (default 250)")
    p.add_argument("--no-cache", action="store_true", help="switch the bot's answer cache off")
    p.add_argument("--concurrency", type=int, default=None,
                   help="the bot's concurrent updates (default: TELEGRAM_CONCURRENT_UPDATES, 4)")
    p.add_argument("--telegram-limit", action="store_true", help="keep the bot's 30 messages/s overall throttle")
    p.add_argument("--profile", action="store_true", help="cProfile the bot's timed runs (event-loop thread)")
    p.add_argument("--profile-sort", default="tottime", help="pstats sort key (default tottime)")
    args = p.parse_args(argv)
    texts = questions(args.n)

    echo_rates: list[float] = []
    bot_rates: list[float] = []
    profile = cProfile.Profile() if args.profile else None
    with ServerProcess([BOT_TOKEN, ECHO_TOKEN]) as server, tempfile.TemporaryDirectory() as tmp:
        remote, pid = server.client, server.proc.pid if server.proc else None
        env = {"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
               "TELEGRAM_API_BASE_URL": server.url, "LOG_LEVEL": "WARNING"}
        if not args.telegram_limit:
            env["TELEGRAM_RATE_LIMIT_PER_SECOND"] = 0
        app = open_app(load_settings(_env_file=None, **env))
        for _ in range(args.rounds):
            echo_rates.append(await run_once(echo_application(server.url), remote, pid, ECHO_TOKEN, texts, args.users))
            application = build_application(app, concurrent_updates=args.concurrency)
            if args.no_cache:
                services_ = application.bot_data["services"]
                services_.cache.size = 0
                (await services_.engine()).decision_cache_size = 0      # the engine's own reuse of decisions too
            bot_rates.append(await run_once(application, remote, pid, BOT_TOKEN, texts, args.users, profile))
            services = application.bot_data["services"]

    echo, bot = statistics.median(echo_rates), statistics.median(bot_rates)
    ratio = bot / echo
    print(f"questions: {len(texts)} per round from {args.users} users, {args.rounds} round(s) "
          f"(tests/data/labelled_questions.jsonl, cycled)")
    print(f"echo bot (bare PTB):  {echo:8.1f} answers/s  (rounds: {', '.join(f'{r:.0f}' for r in echo_rates)})")
    concurrency = args.concurrency or app.settings.telegram_concurrent_updates
    cache = services.cache
    print(f"union bot:            {bot:8.1f} answers/s  (rounds: {', '.join(f'{r:.0f}' for r in bot_rates)})")
    print(f"  settings: {'30/s Telegram throttle on' if args.telegram_limit else 'overall throttle off'}, "
          f"concurrency {concurrency}, answer cache "
          f"{'off' if args.no_cache else f'on (last round {cache.hits} hits / {cache.misses} misses)'}; "
          f"query log: {services.writer.rows} rows in {services.writer.batches} transactions (last round)")
    for name, token in (("echo", ECHO_TOKEN), ("bot", BOT_TOKEN)):
        own, srv = (statistics.median(x) for x in zip(*CPU_MS[token], strict=True))
        print(f"CPU per answer, {name:4s}: {own:.2f} ms in the bot process, {srv:.2f} ms in the API server")
    print(f"ratio bot/echo:       {ratio:8.2f}  (target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'})")
    if profile:
        pstats.Stats(profile).sort_stats(args.profile_sort).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
