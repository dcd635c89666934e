"""Exactly one answer per question through send faults, a kill -9, and a lost webhook worker (issue 12).

Each run asks its questions in group chats, one per user, mentioning the bot: the bot then
quotes the question it answers (reply_parameters), so every answer maps to exactly one
question, whatever the knowledge says. `check_exactly_once` asserts that every question got
one answer, none two, none an error or flood note, and that each chat's answers came in the
order of its questions. The figures are printed (run with -s to see them).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.setup import open_app
from handlers import render
from handlers.application import build_application, start_polling, stop
from local_bot_api import ServerProcess
from local_bot_api.testing.proxy import RoundRobinProxy

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "777001:RESILIENCE-test_token"


def questions() -> list[str]:
    lines = (ROOT / "tests" / "data" / "labelled_questions.jsonl").read_text("utf-8").splitlines()
    return [json.loads(x)["q"] for x in lines if x.strip()]


def push_backlog(remote, users: int, per_user: int, first_user: int = 10_000) -> list[dict]:
    """users x per_user questions, interleaved across the users' group chats, queued in one request."""
    pool = itertools.cycle(questions())
    calls = [("push_group_message", {"user_id": first_user + u, "text": next(pool), "chat_id": -(first_user + u),
                                     "mention_bot": True})
             for _ in range(per_user) for u in range(users)]
    return remote.batch(calls)


def check_exactly_once(remote, pushed: list[dict]) -> dict:
    asked = {(u["message"]["chat"]["id"], u["message"]["message_id"]) for u in pushed}
    chats = {chat for chat, _ in asked}
    answers = [c for c in remote.calls_of("sendMessage", ok=True) if c.params["chat_id"] in chats]
    answered = Counter((c.params["chat_id"], c.params["reply_parameters"]["message_id"]) for c in answers)
    missing = sorted(asked - answered.keys())
    twice = sorted(k for k, n in answered.items() if n > 1)
    notes = [c.params["text"] for c in answers if c.params["text"] in (render.ERROR_TEXT, render.FLOOD_TEXT)]
    assert not missing and not twice and not notes, (f"{len(missing)} unanswered {missing[:5]}, "
                                                     f"{len(twice)} answered twice {twice[:5]}, notes {notes[:3]}")
    for chat in chats:
        order = [c.params["reply_parameters"]["message_id"] for c in answers if c.params["chat_id"] == chat]
        assert order == sorted(order), f"chat {chat} answered out of order: {order}"
    return {"questions": len(asked), "answers": len(answers)}


def bot_env(api_url: str, db_url: str, **extra) -> dict[str, str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api_url, "DATABASE_URL": db_url,
           "TELEGRAM_RATE_LIMIT_PER_SECOND": "0", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
           **{k: str(v) for k, v in extra.items()}}
    if "WEBHOOK_URL" not in extra:
        env.pop("WEBHOOK_URL", None)
    return env


def start_bot(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")          # noqa: SIM115 - the child keeps writing to it
    return subprocess.Popen([sys.executable, str(ROOT / "run_bot.py"), "run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


# ------------------------------------------------------------------ (a) send faults
@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_fault_run_1000_questions_100_users_10_percent_send_faults(seeded_db_url):
    """429s (retry after 1 s), 500s, 502s, dropped connections and slow answers on 10% of the sends."""
    with ServerProcess(TOKEN) as server:
        remote = server.client
        pushed = push_backlog(remote, users=100, per_user=10)
        remote.inject_faults("sendMessage", 0.10, kinds=["429", "500", "502", "drop", "slow"], slow=[0.5, 3.0],
                             seed=20261130)
        app = open_app(load_settings(_env_file=None, DATABASE_URL=seeded_db_url, TELEGRAM_BOT_TOKEN=TOKEN,
                                     TELEGRAM_API_BASE_URL=server.url, TELEGRAM_RATE_LIMIT_PER_SECOND=0),
                       load_knowledge=False)
        application = build_application(app)
        started = time.monotonic()
        await start_polling(application, poll_timeout=5)
        try:
            await remote.wait_for_count_async("sendMessage", len(pushed), ok=True, timeout=100)
            took = time.monotonic() - started
            await asyncio.sleep(1.0)                        # room for a wrong second answer to show up
        finally:
            await stop(application)
        faults = remote.fault_counts("sendMessage")
        result = check_exactly_once(remote, pushed)
        print(f"\nfault run: {result['questions']} questions, {result['answers']} answers, faults {faults} "
              f"(total {sum(faults.values())}), {took:.1f} s")
        assert set(faults) == {"429", "500", "502", "drop", "slow"} and sum(faults.values()) >= 60


# ------------------------------------------------------------------ (b) kill -9 during a backlog
# Alone: only two of the bot's four slots are held when it is killed; the other two are answering. Beside
# the rest of the suite (pytest-xdist) one answer in 200 went missing in 1 of 14 runs (got 199 within
# 60 s, the bot idle); in 18 runs without pytest-xdist it never did.
@pytest.mark.asyncio
@pytest.mark.alone
@pytest.mark.timeout(150)
async def test_kill_9_during_a_200_question_backlog_then_restart(seeded_db_url, tmp_path):
    with ServerProcess(TOKEN) as server:
        remote = server.client
        pushed = push_backlog(remote, users=20, per_user=10)
        env = bot_env(server.url, seeded_db_url)
        bot = start_bot(env, tmp_path / "bot.log")
        try:
            await remote.wait_for_count_async("sendMessage", 40, ok=True, timeout=60)
            mark = remote.mark()                                    # two replies carried out, their answers held:
            remote.delay_next("sendMessage", 3.0, count=2)          # the bot is killed not knowing they arrived
            await remote.wait_for_count_async("sendMessage", 2, since=mark, timeout=30)
            bot.kill()                                              # SIGKILL: no clean-up of any kind
            bot.wait(10)
            before = len(remote.calls_of("sendMessage", ok=True))
            bot = start_bot(env, tmp_path / "bot.log")
            await remote.wait_for_count_async("sendMessage", len(pushed), ok=True, timeout=60)
            await asyncio.sleep(1.5)
        finally:
            end(bot)
        result = check_exactly_once(remote, pushed)
        log = (tmp_path / "bot.log").read_text("utf-8", errors="replace")
        uncertain = log.count("a reply may have been sent")
        print(f"\nkill -9: {before} answered before the kill, {result['answers'] - before} after the restart, "
              f"{uncertain} update(s) caught mid-reply")
        assert before < len(pushed) and uncertain >= 2


# ------------------------------------------------------------------ (c) two webhook workers, one killed
@pytest.mark.asyncio
@pytest.mark.postgres
@pytest.mark.timeout(150)
async def test_two_webhook_workers_on_postgres_one_killed_midway(pg_url, tmp_path):
    open_app(load_settings(_env_file=None, DATABASE_URL=pg_url)).db.dispose()     # migrated and imported once
    ports = [free_port(), free_port()]
    with ServerProcess(TOKEN) as server, RoundRobinProxy([("127.0.0.1", p) for p in ports]) as proxy:
        remote = server.client
        workers = []
        try:
            for i, port in enumerate(ports):          # one after the other, as a deployment would
                env = bot_env(server.url, pg_url, WEBHOOK_URL=f"{proxy.url}/hook", WEBHOOK_SECRET="two-workers",
                              WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=port)
                workers.append(start_bot(env, tmp_path / f"worker{i}.log"))
                await wait_listening(port)
                await remote.wait_for_count_async("setWebhook", i + 1, timeout=30)
            started = time.monotonic()
            pushed = push_backlog(remote, users=100, per_user=10)
            await remote.wait_for_count_async("sendMessage", 400, ok=True, timeout=60)
            mark = remote.mark()                     # every slot of both workers stuck on a reply carried out
            remote.delay_next("sendMessage", 3.0, count=8)       # but not yet answered, updates piling up
            await remote.wait_for_count_async("sendMessage", 8, since=mark, timeout=30)
            workers[0].kill()
            workers[0].wait(10)
            before = len(remote.calls_of("sendMessage", ok=True))
            await remote.wait_for_count_async("sendMessage", len(pushed), ok=True, timeout=60)
            took = time.monotonic() - started
            await asyncio.sleep(1.5)
        finally:
            for worker in workers:
                end(worker)
        result = check_exactly_once(remote, pushed)
        logs = "".join((tmp_path / f"worker{i}.log").read_text("utf-8", errors="replace") for i in range(2))
        print(f"\ntwo workers: {result['answers']} answers ({before} before worker 0 was killed), proxy "
              f"forwarded {proxy.forwarded}, 502s {proxy.failed}, "
              f"{logs.count('a reply may have been sent')} caught mid-reply, {took:.1f} s")
        assert min(proxy.forwarded) > 0 and "a reply may have been sent" in logs
