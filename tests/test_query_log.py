"""The query log written behind the replies: group commits, ids in order, failures never raised."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from bot.config import load_settings
from bot.models import QueryLogRow
from bot.query_log import QueryLogWriter
from bot.repositories import LoggedQuery
from bot.setup import open_app

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(20)]


def question(i: int) -> LoggedQuery:
    return LoggedQuery(f"问题{i}", "临平区", i % 2 == 0, "faq", f"x.{i}", 80.0, user_id=i)


async def test_many_questions_share_few_transactions_and_get_their_own_ids(db_url):
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    writer = QueryLogWriter(app.repos.queries, linger=0.02)
    futures = [writer.submit(question(i)) for i in range(120)]
    ids = await asyncio.gather(*futures)
    assert ids == sorted(ids) and len(set(ids)) == 120
    assert writer.rows == 120 and writer.batches <= 3
    with app.db.transaction() as s:
        rows = {r.id: r for r in s.query(QueryLogRow)}
    assert [rows[i].question for i in ids] == [f"问题{i}" for i in range(120)]
    app.db.dispose()


async def test_a_failed_write_gives_none_and_the_next_one_writes_both(db_url, monkeypatch):
    from bot import query_log
    monkeypatch.setattr(query_log, "RETRY_FIRST", 0.0)          # retry at the next question
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    repo = app.repos.queries
    writer = QueryLogWriter(repo, linger=0)
    real = repo.record_many
    repo.record_many = lambda qs: (_ for _ in ()).throw(OperationalError("INSERT", {}, Exception("locked")))
    assert await writer.submit(question(1)) is None
    repo.record_many = real
    assert isinstance(await writer.submit(question(2)), int)
    with app.db.reading() as s:
        assert [r.question for r in s.query(QueryLogRow).order_by(QueryLogRow.id)] == ["问题1", "问题2"]
    app.db.dispose()


async def test_close_writes_what_is_queued(db_url):
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    writer = QueryLogWriter(app.repos.queries, linger=10)      # would wait 10 s without close()
    futures = [writer.submit(question(i)) for i in range(5)]
    await asyncio.wait_for(writer.close(), 5)
    assert all(f.done() and isinstance(f.result(), int) for f in futures)
    app.db.dispose()
