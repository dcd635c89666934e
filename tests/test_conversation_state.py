"""Conversation state outside Telegram: the store, the answer cache, `ask --jsonl` sessions, the console."""
from __future__ import annotations

import dataclasses
import io
import json
import time

import pytest

from bot import cli
from bot.config import load_settings
from bot.console import run_console
from bot.conversations import ConversationStore
from bot.flood import FloodGate
from bot.setup import open_app
from handlers.services import BotServices
from knowledge.conversation import QUIET_SECONDS
from knowledge.engine import AnswerEngine


@pytest.fixture
def histories(monkeypatch):
    """(question, history questions) of every engine.answer call."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = AnswerEngine.answer

    def answer(self, question, district=None, history=()):
        calls.append((question, tuple(t.question for t in history)))
        result = real(self, question, district, history)
        return dataclasses.replace(result, continued=history[-1].question) if history else result

    monkeypatch.setattr(AnswerEngine, "answer", answer)
    return calls


@pytest.mark.asyncio
async def test_the_store_reads_its_own_unwritten_turns_and_writes_them_in_one_transaction(seeded_db_url):
    app = open_app(load_settings(_env_file=None, DATABASE_URL=seeded_db_url), load_knowledge=False)
    store = ConversationStore(app.repos.conversations, linger=0.05)
    answer = app.knowledge.engine.answer("临平免费体检名额")
    for key in ("1", "2", "-5:7"):
        store.add(key, await store.history(key), f"问题{key}", answer)
    assert [t.question for t in await store.history("-5:7")] == ["问题-5:7"]     # queued, not yet written
    assert app.repos.conversations.get("1") == []
    await store.drain()
    assert store.flushes == 1 and [r["question"] for r in app.repos.conversations.get("1")] == ["问题1"]
    store.add("1", await store.history("1"), "追问", answer)
    store.clear("2")
    await store.drain()
    assert [r["question"] for r in app.repos.conversations.get("1")] == ["问题1", "追问"]
    assert app.repos.conversations.get("2") == []
    later = time.time() + QUIET_SECONDS + 1
    assert await store.history("1", now=later) == ()
    app.db.dispose()


@pytest.mark.asyncio
async def test_the_answer_cache_never_serves_an_answer_across_conversations(seeded_db_url, histories):
    app = open_app(load_settings(_env_file=None, DATABASE_URL=seeded_db_url), load_knowledge=False)
    svc = BotServices(app, FloodGate(100))
    alone = await svc.ask("怎么申请", None, 1)
    again = await svc.ask("怎么申请", None, 2)
    assert again.answer is alone.answer                       # no conversation: cached
    first = await svc.ask("临平读大专有补贴吗", None, 3, conversation="3")
    svc.remember_turn("3", first)
    follow = await svc.ask("怎么申请", None, 3, conversation="3")
    assert follow.answer is not alone.answer and follow.answer.continued == "临平读大专有补贴吗"
    assert [h for q, h in histories if q == "怎么申请"] == [(), ("临平读大专有补贴吗",)]
    await svc.close()
    app.db.dispose()


def test_ask_jsonl_keeps_each_sessions_turns_and_answers_every_line(monkeypatch, tmp_path, histories):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    lines = [{"q": "临平读大专有补贴吗", "session": "a"}, {"q": "富阳疗休养", "session": "b"},
             {"q": "那富阳呢", "session": "a"}, {"q": "那富阳呢"}, {"q": "怎么申请", "session": "b"},
             "not json", {"q": "本科呢", "session": "a"}, {"q": "x", "session": 7}, {"q": "y", "session": "7"}]
    feed = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(feed))
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert cli.main(["ask", "--jsonl"]) == 0
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(results) == len(lines)                         # one output line per input line
    assert results[5]["kind"] == "error" and "JSON" in results[5]["answer"]
    assert {q: h for q, h in histories if q not in ("那富阳呢", "本科呢")} == {
        "临平读大专有补贴吗": (), "富阳疗休养": (), "怎么申请": ("富阳疗休养",), "x": (), "y": ("x",)}
    asked = [(q, h) for q, h in histories if q in ("那富阳呢", "本科呢")]
    assert asked == [("那富阳呢", ("临平读大专有补贴吗",)), ("那富阳呢", ()),
                     ("本科呢", ("临平读大专有补贴吗", "那富阳呢"))]
    assert results[2]["continued"] == "临平读大专有补贴吗" and results[3]["continued"] is None


def test_the_console_keeps_one_conversation_until_start(app, histories):
    out = io.StringIO()
    run_console(app, io.StringIO("临平读大专有补贴吗\n那富阳呢\n/start\n怎么申请\n/quit\n"), out)
    assert [h for q, h in histories] == [(), ("临平读大专有补贴吗",), ()]
    assert "（接着您问的「临平读大专有补贴吗」）" in out.getvalue()
