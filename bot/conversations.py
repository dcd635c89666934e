"""Conversation turns: what the engine needs to read a follow-up ("那富阳呢") against the last question.

Why stored: a restart or a second worker process must continue the same
conversation, so the turns live in the database (conversation_turns). Why
written behind the reply: a transaction per question made the bot several
times slower (see bot.query_log), so new turns are queued and written in group
commits a few milliseconds later. Reads go to the database every time (a
second process may have answered the previous message), except for a turn this
process has not written yet, which is read from the queue.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from knowledge.answer import Answer
from knowledge.conversation import QUIET_SECONDS, Turn, append, recent, turn_of

from .state_repositories import ConversationRepository

log = logging.getLogger(__name__)
PURGE_EVERY = 500            # flushes between deletions of long-finished conversations


def _decode(rows: list[dict]) -> tuple[Turn, ...]:
    turns = []
    for row in rows:
        try:
            turns.append(Turn.from_json(row))
        except (TypeError, ValueError, AttributeError):
            continue                           # a row from an older format: that turn is forgotten
    return tuple(turns)


@dataclass
class Session:
    """One conversation kept in memory (the console, `ask --jsonl` sessions)."""

    turns: tuple[Turn, ...] = ()

    def history(self, now: float | None = None) -> tuple[Turn, ...]:
        return recent(self.turns, time.time() if now is None else now)

    def add(self, question: str, answer: Answer, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.turns = append(self.history(now), turn_of(question, answer, now))

    def clear(self) -> None:
        self.turns = ()


@dataclass
class ConversationStore:
    """The turns of every conversation, by key ("<chat>" in private chats, "<chat>:<user>" in groups)."""

    repo: ConversationRepository
    linger: float = 0.02
    quiet: float = QUIET_SECONDS
    _pending: dict[str, tuple[Turn, ...] | None] = field(default_factory=dict)
    _writing: dict[str, tuple[Turn, ...] | None] = field(default_factory=dict)
    _flusher: asyncio.Task | None = None
    flushes: int = 0

    async def history(self, key: str, now: float | None = None) -> tuple[Turn, ...]:
        """The turns still in the conversation (none after QUIET_SECONDS of quiet)."""
        now = time.time() if now is None else now
        for queued in (self._pending, self._writing):
            if key in queued:
                return recent(queued[key] or (), now, self.quiet)
        try:       # SQLite is read in place: a thread hop would cost more than the read itself
            rows = self.repo.get(key) if self.repo.local else await asyncio.to_thread(self.repo.get, key)
        except (SQLAlchemyError, OSError):
            log.warning("could not read conversation %s; answering without it", key, exc_info=True)
            return ()
        if key in self._pending:                 # written while the read was in flight
            return recent(self._pending[key] or (), now, self.quiet)
        return recent(_decode(rows), now, self.quiet)

    def add(self, key: str, history: tuple[Turn, ...], question: str, answer: Answer,
            now: float | None = None) -> None:
        """Queues the conversation with this exchange appended (``history`` as history() gave it)."""
        now = time.time() if now is None else now
        self._queue(key, append(history, turn_of(question, answer, now)))

    def clear(self, key: str) -> None:
        """Forgets the conversation (/start)."""
        self._queue(key, None)

    def _queue(self, key: str, turns: tuple[Turn, ...] | None) -> None:
        self._pending[key] = turns
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="conversation-flush")

    async def _flush(self) -> None:
        while self._pending:
            if self.linger > 0:
                await asyncio.sleep(self.linger)
            self._writing, self._pending = self._pending, {}
            changes = {k: [t.to_json() for t in v] if v else None for k, v in self._writing.items()}
            try:
                await asyncio.to_thread(self.repo.write, changes)
                self.flushes += 1
                if self.flushes % PURGE_EVERY == 0:
                    await asyncio.to_thread(self.repo.purge, 2 * self.quiet)
            except (SQLAlchemyError, OSError):
                log.warning("conversation write failed for %d chat(s)", len(changes), exc_info=True)
            finally:
                self._writing = {}

    async def drain(self) -> None:
        """Writes everything queued now (shutdown, tests)."""
        linger, self.linger = self.linger, 0
        try:
            while self._flusher is not None and not self._flusher.done():
                await asyncio.shield(self._flusher)
        finally:
            self.linger = linger
