"""Usage rows: questions asked while the database is away are written when it returns (bounded), old
rows are pruned by age (admin changes never), and `admin stats` counts in the database."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from bot import query_log
from bot.admin import AdminService
from bot.config import load_settings
from bot.db import Database
from bot.models import AuditRow, FeedbackRow, QueryLogRow
from bot.query_log import QueryLogWriter
from bot.repositories import LoggedQuery, Repositories, RetentionPolicy
from bot.setup import open_app


def question(i: int) -> LoggedQuery:
    return LoggedQuery(f"问题{i}", "临平区", i % 2 == 0, "faq", f"x.{i}", 80.0, user_id=i)


class Outage:
    """Makes record_many fail until `end()`; counts the attempts."""

    def __init__(self, repo):
        self.repo, self.real, self.attempts = repo, repo.record_many, 0
        repo.record_many = self._fail

    def _fail(self, queries):
        self.attempts += 1
        raise OperationalError("INSERT", {}, Exception("database is down"))

    def end(self):
        self.repo.record_many = self.real


def _rows(db) -> list[QueryLogRow]:
    with db.reading() as s:
        return list(s.scalars(select(QueryLogRow).order_by(QueryLogRow.id)))


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setattr(query_log, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(query_log, "RETRY_MAX", 0.1)


@pytest.mark.asyncio
@pytest.mark.timeout(20)
async def test_questions_asked_during_an_outage_are_written_when_it_ends(db_url, fast_retry):
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    writer = QueryLogWriter(app.repos.queries, linger=0.01)
    outage = Outage(app.repos.queries)
    asked_before = datetime.now(UTC).replace(tzinfo=None)
    ids = [await writer.submit(question(i)) for i in range(30)]
    assert ids == [None] * 30                           # replies never wait for the log
    assert writer.backlog == 30 and not _rows(app.db)
    outage.end()
    for _ in range(200):                                # no new question needed: the flusher retries
        if not writer.backlog:
            break
        await asyncio.sleep(0.02)
    rows = _rows(app.db)
    assert [r.question for r in rows] == [f"问题{i}" for i in range(30)]
    assert all(r.created_at.replace(tzinfo=None) <= asked_before + timedelta(seconds=5) for r in rows)
    assert isinstance(await writer.submit(question(99)), int)
    await writer.close()
    app.db.dispose()


@pytest.mark.asyncio
@pytest.mark.timeout(20)
@pytest.mark.parametrize("linger", [0, 0.01])
async def test_while_retries_back_off_new_questions_do_not_wait_on_the_dead_database(db_url, monkeypatch, linger):
    monkeypatch.setattr(query_log, "RETRY_FIRST", 60.0)
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    writer = QueryLogWriter(app.repos.queries, linger=linger)
    outage = Outage(app.repos.queries)
    for i in range(20):
        assert await asyncio.wait_for(writer.submit(question(i)), 5) is None
    assert outage.attempts == 1 and writer.backlog == 20
    outage.end()
    await writer.close()                                # shutting down: one last try, which now works
    assert len(_rows(app.db)) == 20
    app.db.dispose()


@pytest.mark.asyncio
@pytest.mark.timeout(20)
async def test_the_backlog_is_bounded_and_keeps_the_newest(db_url, fast_retry):
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None), load_knowledge=False)
    writer = QueryLogWriter(app.repos.queries, linger=0, max_backlog=10)
    outage = Outage(app.repos.queries)
    for i in range(25):
        await writer.submit(question(i))
    assert writer.backlog == 10 and writer.dropped == 15
    outage.end()
    await asyncio.sleep(0.15)
    await writer.close()
    assert [r.question for r in _rows(app.db)] == [f"问题{i}" for i in range(15, 25)]
    app.db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'usage.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    db.migrate()
    yield db
    db.dispose()


def _age(db, days: float, n: int = 3) -> None:
    """n questions, n feedback rows, n refused attempts and n admin changes, `days` old."""
    at = datetime.now(UTC) - timedelta(days=days)
    with db.transaction() as s:
        s.execute(insert(QueryLogRow), [{"question": f"q{days}", "matched": False, "kind": "not_found", "score": 1.0,
                                         "channel": "telegram", "created_at": at} for _ in range(n)])
        s.execute(insert(FeedbackRow), [{"helpful": False, "question": "q", "created_at": at} for _ in range(n)])
        s.execute(insert(AuditRow), [{"actor": "telegram:9", "action": "refused", "target_type": "admin",
                                      "created_at": at} for _ in range(n)])
        s.execute(insert(AuditRow), [{"actor": "telegram:1", "action": "update", "target_type": "faq",
                                      "target_id": "x", "created_at": at} for _ in range(n)])


def _counts(db) -> tuple[int, int, int, int]:
    with db.reading() as s:
        count = lambda model, *where: s.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        return (count(QueryLogRow), count(FeedbackRow), count(AuditRow, AuditRow.action == "refused"),
                count(AuditRow, AuditRow.action != "refused"))


def test_old_usage_rows_are_pruned_and_admin_changes_kept(database, monkeypatch):
    from bot import usage_repositories
    monkeypatch.setattr(usage_repositories, "PRUNE_BATCH", 2)      # several batches
    repos = Repositories(database, RetentionPolicy(query_days=180, refusal_days=30))
    _age(database, 400)
    _age(database, 100)
    _age(database, 1)
    report = repos.retention.prune()
    assert (report.queries, report.feedback, report.refusals) == (3, 3, 6)
    assert _counts(database) == (6, 6, 3, 9)


def test_zero_days_keeps_everything(database):
    repos = Repositories(database, RetentionPolicy(query_days=0, refusal_days=0))
    _age(database, 4000)
    repos.retention.prune()
    assert _counts(database) == (3, 3, 3, 3)


def test_pruning_runs_at_most_once_per_interval(database):
    repos = Repositories(database, RetentionPolicy(query_days=10, refusal_days=10, every_seconds=3600))
    _age(database, 20)
    assert repos.retention.prune_if_due().queries == 3
    _age(database, 20)
    assert repos.retention.prune_if_due() is None and _counts(database)[0] == 3


@pytest.mark.asyncio
@pytest.mark.timeout(20)
async def test_the_running_bot_prunes_by_the_configured_retention(db_url):
    app = open_app(load_settings(DATABASE_URL=db_url, QUERY_LOG_RETENTION_DAYS="30", _env_file=None),
                   load_knowledge=False)
    _age(app.db, 45)
    writer = QueryLogWriter(app.repos.queries, linger=0)
    await writer.submit(question(1))
    await writer.close()
    assert [r.question for r in _rows(app.db)] == ["问题1"]
    app.db.dispose()


def test_stats_are_counted_in_the_database_and_match_the_rows(database):
    from bot.live_knowledge import LiveKnowledge
    from bot.setup import App
    from bot.setup import load_settings as settings_of
    repos = Repositories(database)
    now = datetime.now(UTC)
    rows = [{"question": f"q{i}", "district": ["临平区", None, "富阳区"][i % 3], "matched": i % 4 != 0,
             "kind": "faq", "faq_id": f"e{i % 7}" if i % 4 else None, "score": 1.0, "channel": "telegram",
             "created_at": now - timedelta(hours=5 * i, minutes=30)} for i in range(300)]
    with database.transaction() as s:
        s.execute(insert(QueryLogRow), rows)
        s.execute(insert(FeedbackRow), [{"helpful": i % 3 == 0, "created_at": now - timedelta(days=i)}
                                        for i in range(60)])
    app = App(settings_of(DATABASE_URL=database.url, _env_file=None), database, repos, LiveKnowledge(repos))
    st = AdminService(app).stats(30)
    window = [r for r in rows if r["created_at"] >= now - timedelta(days=30)]
    assert st["questions"] == len(window) == sum(a for a, _ in st["per_day"].values())
    assert st["matched"] == sum(r["matched"] for r in window)
    assert st["per_district"]["未选择"][0] == sum(1 for r in window if r["district"] is None)
    assert {d for d in st["per_day"]} == {r["created_at"].date().isoformat() for r in window}
    assert [n for _, n in st["top_questions"]] == sorted((sum(1 for r in window if r["faq_id"] == f"e{k}")
                                                           for k in range(7)), reverse=True)[:5]
    assert (st["helpful"], st["unhelpful"]) == (10, 20)
