"""The bot's query log, written behind the replies in group commits, kept through database outages.

Why: every question is logged, but a database transaction costs about a
millisecond of CPU plus a commit, and doing one per question (or waiting for
it before replying) made the bot several times slower than Telegram plumbing
alone. Questions are queued, and a flusher writes whatever piled up during a
short linger in one transaction. Each question gets a future of its row id,
so feedback buttons can still be tied to the logged question.

When the database is away, the rows of the failed batch are kept in a bounded
backlog (oldest dropped first, and counted) and written, with the time they
were asked, as soon as a retry succeeds; while retries are backing off, new
questions go straight to the backlog instead of waiting on a dead database.
Their futures give None at once, so replies never wait for the log.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from sqlalchemy.exc import SQLAlchemyError

from .models import utcnow
from .repositories import LoggedQuery, QueryLogRepository

log = logging.getLogger(__name__)
MAX_BACKLOG = 20_000          # ~10 MB of questions: a few hours of a busy bot without its database
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
PRUNE_CHECK_SECONDS = 60.0    # how often to ask the retention whether pruning is due (it prunes every few hours)


class QueryLogWriter:
    def __init__(self, repo: QueryLogRepository, linger: float = 0.05, max_batch: int = 500,
                 max_backlog: int = MAX_BACKLOG):
        self.repo = repo
        self.linger = linger
        self.max_batch = max_batch
        self.max_backlog = max_backlog
        self._pending: list[tuple[LoggedQuery, asyncio.Future]] = []
        self._backlog: deque[LoggedQuery] = deque()
        self._retry_at = 0.0
        self._retry_delay = RETRY_FIRST
        self._flusher: asyncio.Task | None = None
        self._retrier: asyncio.Task | None = None
        self._pruner: asyncio.Task | None = None
        self._prune_check_at = 0.0
        self._writing = asyncio.Lock()          # one database write at a time: no backlog row written twice
        self._full = asyncio.Event()
        self.batches = 0
        self.rows = 0
        self.dropped = 0              # backlog overflow: rows that will never be written

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def submit(self, q: LoggedQuery) -> asyncio.Future:
        """Queues one question; the future gives its row id (None if it could not be written now)."""
        if q.asked_at is None:
            q.asked_at = utcnow()
        future = asyncio.get_running_loop().create_future()
        self._pending.append((q, future))
        if len(self._pending) >= self.max_batch:
            self._full.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="query-log-flush")
        return future

    async def _flush(self) -> None:
        while self._pending:
            if len(self._pending) < self.max_batch and self.linger > 0:
                try:
                    await asyncio.wait_for(self._full.wait(), self.linger)
                except TimeoutError:
                    pass
            self._full.clear()
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
            await self._write(batch)
        if self._backlog and (self._retrier is None or self._retrier.done()):
            self._retrier = asyncio.create_task(self._retry_later(), name="query-log-retry")

    async def _write(self, batch: list[tuple[LoggedQuery, asyncio.Future]]) -> None:
        queries = [q for q, _ in batch]
        ids: list[int | None] = [None] * len(batch)
        async with self._writing:
            if self._backlog and not await self._retry_backlog():
                self._keep(queries)                  # still down: do not wait on it again
            else:
                try:
                    ids = list(await asyncio.to_thread(self.repo.record_many, queries))
                    self._healthy()
                except (SQLAlchemyError, OSError):
                    log.warning("query log write failed for %d question(s); kept to write later", len(batch),
                                exc_info=True)
                    self._failed()
                    self._keep(queries)
        self.batches += 1
        self.rows += len(batch)
        for (_, future), row_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(row_id)

    async def _retry_later(self) -> None:
        """While a backlog waits: retry when the back-off allows, also when no new question comes."""
        while self._backlog:
            await asyncio.sleep(max(0.0, self._retry_at - time.monotonic()))
            async with self._writing:
                await self._retry_backlog()

    async def _retry_backlog(self) -> bool:
        """Writes the backlog, oldest first, if a retry is due; True when it is empty afterwards.
        Called with `_writing` held."""
        while self._backlog:
            if time.monotonic() < self._retry_at:
                return False
            chunk = [self._backlog[i] for i in range(min(self.max_batch, len(self._backlog)))]
            try:
                await asyncio.to_thread(self.repo.record_many, chunk)
            except (SQLAlchemyError, OSError):
                self._failed()
                log.warning("query log still unavailable; %d question(s) waiting", len(self._backlog))
                return False
            for _ in chunk:
                self._backlog.popleft()
            self._healthy()
            if not self._backlog:
                log.info("query log written again after an outage")
        return True

    def _keep(self, queries: list[LoggedQuery]) -> None:
        self._backlog.extend(queries)
        overflow = len(self._backlog) - self.max_backlog
        for _ in range(max(0, overflow)):
            self._backlog.popleft()
        if overflow > 0:
            self.dropped += overflow
            log.error("query log backlog full: %d oldest question(s) dropped (%d in all)", overflow, self.dropped)

    def _failed(self) -> None:
        self._retry_at = time.monotonic() + self._retry_delay
        self._retry_delay = min(RETRY_MAX, self._retry_delay * 2)

    def _healthy(self) -> None:
        self._retry_at, self._retry_delay = 0.0, RETRY_FIRST
        now = time.monotonic()
        if now >= self._prune_check_at and (self._pruner is None or self._pruner.done()):
            self._prune_check_at = now + PRUNE_CHECK_SECONDS     # old rows go now and then, off the event loop
            self._pruner = asyncio.create_task(asyncio.to_thread(self._prune), name="query-log-prune")

    def _prune(self) -> None:
        try:
            self.repo.prune_if_due()
        except (SQLAlchemyError, OSError):
            log.warning("pruning old query-log rows failed; will try again later", exc_info=True)

    async def drain(self) -> None:
        """Writes every question queued now, without waiting for the linger (a backlog left by an
        outage keeps its own retry schedule)."""
        self._full.set()
        while self._flusher is not None and not self._flusher.done():
            self._full.set()
            await asyncio.shield(self._flusher)

    async def close(self) -> None:
        """Shutdown: the queue is written and the backlog gets one last try."""
        self.linger = 0
        await self.drain()
        async with self._writing:               # a retry in progress finishes first (no row written twice)
            if self._retrier is not None:
                self._retrier.cancel()           # it is sleeping or waiting for this lock: safe to stop
            self._retry_at = 0.0
            await self._retry_backlog()
        if self._pruner is not None:
            await asyncio.shield(self._pruner)
        if self._backlog:
            log.error("query log: %d question(s) could not be written before shutdown", len(self._backlog))
