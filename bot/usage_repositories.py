"""What members asked and what they thought of the answers: the query log, feedback, and their retention.

Why apart from the knowledge repositories: these tables grow with every message
(300,000 rows in a busy month), so they are summarised in SQL rather than loaded,
and rows older than the retention are pruned in small batches. Admin-change audit
rows are the undo history and are never pruned; refused-attempt audit rows are.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from .db import Database
from .models import AuditRow, FeedbackRow, QueryLogRow, utcnow

log = logging.getLogger(__name__)
PRUNE_BATCH = 5000


@dataclass
class LoggedQuery:
    question: str
    district: str | None
    matched: bool
    kind: str
    faq_id: str | None
    score: float
    user_id: int | None = None
    channel: str = "telegram"
    latency_ms: float | None = None
    asked_at: datetime | None = None          # when it was asked (a row written late keeps its time)


@dataclass
class QuerySummary:
    questions: int = 0
    matched: int = 0
    per_day: dict[str, list[int]] = field(default_factory=dict)          # day -> [asked, answered]
    per_district: dict[str, list[int]] = field(default_factory=dict)
    top_entries: list[tuple[str, int]] = field(default_factory=list)     # (faq id, times), most first


def _since(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


class QueryLogRepository:
    def __init__(self, db: Database):
        self.db = db
        self.retention: RetentionRepository | None = None        # set by Repositories

    def record(self, q: LoggedQuery) -> int:
        return self.record_many([q])[0]

    def record_many(self, queries: list[LoggedQuery]) -> list[int]:
        """Several questions in one INSERT (the bot's group commit); ids in the same order."""
        if not queries:
            return []
        now = utcnow()
        values = [{"user_id": q.user_id, "channel": q.channel, "question": q.question[:1000], "district": q.district,
                   "matched": q.matched, "kind": q.kind, "faq_id": q.faq_id, "score": q.score,
                   "latency_ms": q.latency_ms, "created_at": q.asked_at or now} for q in queries]
        stmt = insert(QueryLogRow).returning(QueryLogRow.id, sort_by_parameter_order=True)
        with self.db.transaction() as s:
            return [int(row_id) for row_id in s.scalars(stmt, values)]

    def recent_unanswered(self, days: int = 30, limit: int = 500) -> list[tuple[str, str | None, datetime]]:
        with self.db.reading() as s:
            rows = s.execute(select(QueryLogRow.question, QueryLogRow.district, QueryLogRow.created_at)
                             .where(QueryLogRow.matched.is_(False), QueryLogRow.created_at >= _since(days))
                             .order_by(QueryLogRow.created_at.desc()).limit(limit))
            return [tuple(r) for r in rows]

    def summary(self, days: int) -> QuerySummary:
        """Counts per day, district and entry, computed by the database (no row is loaded)."""
        since = _since(days)
        out = QuerySummary()
        with self.db.reading() as s:
            if s.get_bind().dialect.name == "postgresql":
                day = func.to_char(func.timezone("UTC", QueryLogRow.created_at), "YYYY-MM-DD")
            else:
                day = func.substr(QueryLogRow.created_at, 1, 10)      # stored as 'YYYY-MM-DD hh:mm:ss' (UTC)
            groups = s.execute(select(day, QueryLogRow.district, QueryLogRow.matched, func.count())
                               .where(QueryLogRow.created_at >= since)
                               .group_by(day, QueryLogRow.district, QueryLogRow.matched))
            for d, district, matched, n in groups:
                out.questions += n
                out.matched += n if matched else 0
                for bucket, key in ((out.per_day, d or "?"), (out.per_district, district or "未选择")):
                    counts = bucket.setdefault(key, [0, 0])
                    counts[0] += n
                    counts[1] += n if matched else 0
            times = func.count().label("times")
            out.top_entries = [(faq_id, n) for faq_id, n in s.execute(
                select(QueryLogRow.faq_id, times)
                .where(QueryLogRow.created_at >= since, QueryLogRow.faq_id.is_not(None))
                .group_by(QueryLogRow.faq_id).order_by(times.desc(), func.min(QueryLogRow.id)).limit(5))]
        out.per_day = dict(sorted(out.per_day.items()))
        return out

    def prune_if_due(self) -> None:
        if self.retention is not None:
            self.retention.prune_if_due()


class FeedbackRepository:
    def __init__(self, db: Database):
        self.db = db

    def record(self, user_id: int | None, faq_id: str | None, question: str | None, helpful: bool,
               query_id: int | None = None) -> None:
        with self.db.transaction() as s:
            s.add(FeedbackRow(user_id=user_id, faq_id=faq_id, question=question, helpful=helpful,
                              query_id=query_id))

    def counts(self, days: int) -> tuple[int, int]:
        """(helpful, unhelpful) in the last `days`."""
        with self.db.reading() as s:
            found = dict(s.execute(select(FeedbackRow.helpful, func.count())
                                   .where(FeedbackRow.created_at >= _since(days))
                                   .group_by(FeedbackRow.helpful)).all())
        return found.get(True, 0), found.get(False, 0)

    def disliked(self, days: int, limit: int = 500) -> list[tuple[str | None, str | None]]:
        """(question asked, entry) of the answers that got a 👎, newest first."""
        with self.db.reading() as s:
            return [tuple(r) for r in s.execute(
                select(FeedbackRow.question, FeedbackRow.faq_id)
                .where(FeedbackRow.created_at >= _since(days), FeedbackRow.helpful.is_(False))
                .order_by(FeedbackRow.created_at.desc()).limit(limit))]

    def vote(self, user_id: int, chat_id: int, message_id: int, helpful: bool, faq_id: str | None,
             query_id: int | None = None, answered_at: datetime | None = None,
             quoted: str | None = None) -> bool | None:
        """One vote per user and answer message: a second tap changes it. Returns the earlier vote
        (None if this is the first). The question asked is kept with the vote: the logged question
        behind the answer; else (after a restart the bot no longer knows which log row an answer belongs
        to) the question the answer quotes (in groups), or this user's last logged question answered by
        that entry up to ``answered_at``."""
        for attempt in range(2):
            try:
                with self.db.transaction() as s:
                    row = s.scalar(select(FeedbackRow).where(FeedbackRow.user_id == user_id,
                                                             FeedbackRow.chat_id == chat_id,
                                                             FeedbackRow.message_id == message_id))
                    if row is not None:
                        before = row.helpful
                        row.helpful, row.created_at = helpful, utcnow()
                        return before
                    question, query_id = (quoted, None) if quoted and query_id is None else \
                        self._asked(s, user_id, faq_id, query_id, answered_at)
                    s.add(FeedbackRow(user_id=user_id, chat_id=chat_id, message_id=message_id, faq_id=faq_id,
                                      question=question, helpful=helpful, query_id=query_id))
                    return None
            except IntegrityError:           # the same vote written at once by another process
                if attempt:
                    raise
        return None

    @staticmethod
    def _asked(s, user_id: int, faq_id: str | None, query_id: int | None,
               answered_at: datetime | None) -> tuple[str | None, int | None]:
        if query_id is not None:
            return s.scalar(select(QueryLogRow.question).where(QueryLogRow.id == query_id)), query_id
        if faq_id is None:
            return None, None
        q = select(QueryLogRow.question, QueryLogRow.id).where(QueryLogRow.user_id == user_id,
                                                               QueryLogRow.faq_id == faq_id)
        if answered_at is not None:
            q = q.where(QueryLogRow.created_at <= answered_at + timedelta(seconds=5))
        found = s.execute(q.order_by(QueryLogRow.id.desc()).limit(1)).first()
        return (found[0], found[1]) if found else (None, None)


@dataclass
class RetentionPolicy:
    """How long usage rows are kept (0 = forever). Admin-change audit rows are always kept."""
    query_days: int = 180
    refusal_days: int = 180
    every_seconds: float = 6 * 3600           # how often the bot prunes while it runs


@dataclass
class PruneReport:
    queries: int = 0
    feedback: int = 0
    refusals: int = 0


class RetentionRepository:
    def __init__(self, db: Database, policy: RetentionPolicy | None = None):
        self.db = db
        self.policy = policy or RetentionPolicy()
        self._lock = threading.Lock()
        self._last = float("-inf")

    def prune(self, now: datetime | None = None) -> PruneReport:
        """Deletes rows older than the policy, PRUNE_BATCH at a time (short write transactions)."""
        now = now or datetime.now(UTC)
        report = PruneReport()
        if self.policy.query_days:
            cutoff = now - timedelta(days=self.policy.query_days)
            report.queries = self._delete_before(QueryLogRow, QueryLogRow.created_at < cutoff)
            report.feedback = self._delete_before(FeedbackRow, FeedbackRow.created_at < cutoff)
        if self.policy.refusal_days:
            cutoff = now - timedelta(days=self.policy.refusal_days)
            refused = (AuditRow.action == "refused") & (AuditRow.created_at < cutoff)
            report.refusals = self._delete_before(AuditRow, refused)
        if report.queries or report.feedback or report.refusals:
            log.info("pruned usage rows: %d questions, %d feedback, %d refused attempts",
                     report.queries, report.feedback, report.refusals)
        return report

    def prune_if_due(self) -> PruneReport | None:
        """At most once per `every_seconds` per process; another thread already pruning is left to it."""
        if time.monotonic() - self._last < self.policy.every_seconds or not self._lock.acquire(blocking=False):
            return None
        try:
            self._last = time.monotonic()
            return self.prune()
        finally:
            self._lock.release()

    def _delete_before(self, model, condition) -> int:
        total = 0
        while True:
            with self.db.transaction() as s:
                ids = select(model.id).where(condition).limit(PRUNE_BATCH).scalar_subquery()
                deleted = s.execute(delete(model).where(model.id.in_(ids)).execution_options(
                    synchronize_session=False)).rowcount
            total += deleted
            if deleted < PRUNE_BATCH:
                return total
