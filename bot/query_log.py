"""The bot's query log, written behind the replies in group commits.

Why: every question is logged, but a database transaction costs about a
millisecond of CPU plus a commit, and doing one per question (or waiting for
it before replying) made the bot several times slower than Telegram plumbing
alone. Questions are queued, and a flusher writes whatever piled up during a
short linger in one transaction. Each question gets a future of its row id,
so feedback buttons can still be tied to the logged question.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from .repositories import LoggedQuery, QueryLogRepository

log = logging.getLogger(__name__)


class QueryLogWriter:
    def __init__(self, repo: QueryLogRepository, linger: float = 0.05, max_batch: int = 500):
        self.repo = repo
        self.linger = linger
        self.max_batch = max_batch
        self._pending: list[tuple[LoggedQuery, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._full = asyncio.Event()
        self.batches = 0
        self.rows = 0

    def submit(self, q: LoggedQuery) -> asyncio.Future:
        """Queues one question; the future gives its row id (None if the write failed)."""
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

    async def _write(self, batch: list[tuple[LoggedQuery, asyncio.Future]]) -> None:
        try:
            ids: list[int | None] = list(await asyncio.to_thread(self.repo.record_many, [q for q, _ in batch]))
        except (SQLAlchemyError, OSError):
            log.warning("query log write failed for %d question(s)", len(batch), exc_info=True)
            ids = [None] * len(batch)
        self.batches += 1
        self.rows += len(batch)
        for (_, future), row_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(row_id)

    async def drain(self) -> None:
        """Writes everything queued now, without waiting for the linger."""
        self._full.set()
        while self._flusher is not None and not self._flusher.done():
            self._full.set()
            await asyncio.shield(self._flusher)

    async def close(self) -> None:
        self.linger = 0
        await self.drain()
