"""The inbox: every Telegram update is written down before it is acknowledged, and marked when handled.

Why: an update fetched (or posted to the webhook) and then lost to a crash is a question nobody
answers; one handled twice is a question answered twice. So an update is acknowledged to
Telegram (the next getUpdates offset, or the webhook's 200) only once its row is committed; a
redelivered update_id finds its row and is not handled again; and after a restart the rows not
yet done are handled.

A row goes pending -> sending -> done. `sending` is written (and committed) just before the
first message-producing call for the update goes out: from then on a reply may have reached the
user, so the row is never handled again. A process that finds a `sending` row it did not write
(the process handling it died) closes it as `uncertain` instead: it cannot know whether the
reply left, and a second answer is what we promise not to send. The window in which that can
happen is one network round trip per update in flight at the moment of a crash.

Order and several workers: a chat's rows are handled one at a time, oldest update_id first, by
whoever holds the chat's lock. On PostgreSQL that is a session advisory lock held by the slot's
own connection (`InboxSlot`) while it works through the chat; PostgreSQL releases it the moment
that connection dies, so a killed worker's chats pass to the others at once, without a lease to
time out. On SQLite (one bot process) the dispatcher's own set of busy chats is the lock.
See docs/deployment.md.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, delete, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from .db import Database
from .models import InboxRow, utcnow

OPEN = ("pending", "sending")
KEEP_DONE = timedelta(days=2)      # long enough to recognise a redelivered update; then pruned


@dataclass(frozen=True)
class InboxItem:
    update_id: int
    chat_key: int
    payload: str
    state: str
    attempts: int


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(InboxRow).on_conflict_do_nothing(index_elements=[InboxRow.bot_id, InboxRow.update_id])


def lock_key(bot_id: int, chat_key: int) -> int:
    """The advisory lock of one bot's chat: a signed 64-bit hash (a collision only makes two chats wait
    for each other)."""
    digest = hashlib.blake2b(f"inbox:{bot_id}:{chat_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class InboxRepository:
    """One bot's inbox (bots sharing a database have their own rows): `repos.inbox.for_bot(bot_id)`."""

    def __init__(self, db: Database, bot_id: int | None = None):
        self.db = db
        self.bot_id = bot_id

    def for_bot(self, bot_id: int) -> InboxRepository:
        return InboxRepository(self.db, bot_id)

    @property
    def postgres(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    def _check(self) -> None:
        if self.bot_id is None:
            raise RuntimeError("an inbox belongs to one bot: use repos.inbox.for_bot(bot_id)")

    @property
    def _mine(self):
        self._check()
        return InboxRow.bot_id == self.bot_id

    def record(self, updates: list[tuple[int, int, str]]) -> list[int]:
        """(update_id, chat_key, payload JSON) written in one transaction; returns the update_ids that were
        new, in order (a redelivered one is already there and is left alone)."""
        unique = {u: (u, c, p) for u, c, p in updates}
        if not unique:
            return []
        now = utcnow()
        self._check()
        rows = [{"bot_id": self.bot_id, "update_id": u, "chat_key": c, "payload": p, "state": "pending", "attempts": 0,
                 "not_before": 0.0, "received_at": now} for u, c, p in unique.values()]
        stmt = _insert(self.db.engine.dialect.name).returning(InboxRow.update_id)
        with self.db.transaction() as s:
            return sorted(int(u) for u in s.scalars(stmt, rows))

    def due_chats(self, limit: int = 200) -> list[int]:
        """Chats with an open update that is due, the chat with the oldest first."""
        oldest = func.min(InboxRow.update_id)
        with self.db.transaction() as s:
            rows = s.execute(select(InboxRow.chat_key, oldest)
                             .where(self._mine, InboxRow.state.in_(OPEN), InboxRow.not_before <= time.time())
                             .group_by(InboxRow.chat_key).order_by(oldest).limit(limit))
            return [int(r[0]) for r in rows]

    def counts(self) -> dict[str, int]:
        with self.db.transaction() as s:
            return {state: int(n) for state, n in
                    s.execute(select(InboxRow.state, func.count()).where(self._mine).group_by(InboxRow.state))}

    def notes(self) -> dict[str, int]:
        """How the closed rows ended, when not plainly (uncertain, gave up ...): for tests and diagnostics."""
        with self.db.transaction() as s:
            return {note: int(n) for note, n in
                    s.execute(select(InboxRow.note, func.count()).where(self._mine, InboxRow.note.is_not(None))
                              .group_by(InboxRow.note))}

    def get(self, update_id: int) -> InboxRow | None:
        with self.db.transaction() as s:
            return s.get(InboxRow, (self.bot_id, update_id))

    def prune(self, keep: timedelta = KEEP_DONE, batch: int = 5000) -> int:
        """Deletes done rows older than `keep`, a batch at a time (short transactions)."""
        cutoff = utcnow() - keep
        removed = 0
        while True:
            with self.db.transaction() as s:
                old = (InboxRow.state == "done", InboxRow.done_at < cutoff)
                ids = select(InboxRow.update_id).where(self._mine, *old).limit(batch).scalar_subquery()
                n = s.execute(delete(InboxRow).where(self._mine, InboxRow.update_id.in_(ids))).rowcount or 0
            removed += n
            if n < batch:
                return removed

    def slot(self) -> InboxSlot:
        self._check()
        return InboxSlot(self.db, self.bot_id)


# The slots' statements, built once (they run for every update; building them cost more than running them).
_B, _U = bindparam("bot"), bindparam("uid")
_NEXT = (select(InboxRow.update_id, InboxRow.chat_key, InboxRow.payload, InboxRow.state, InboxRow.attempts,
                InboxRow.not_before)
         .where(InboxRow.bot_id == _B, InboxRow.chat_key == bindparam("chat"), InboxRow.state.in_(OPEN))
         .order_by(InboxRow.update_id).limit(bindparam("n")))
_MARK = (update(InboxRow).where(InboxRow.bot_id == _B, InboxRow.update_id == _U, InboxRow.state == "pending")
         .values(state="sending"))
_DONE = (update(InboxRow).where(InboxRow.bot_id == _B, InboxRow.update_id.in_(bindparam("ids", expanding=True)))
         .values(state="done", note=None, done_at=bindparam("now")))
_DONE_NOTE = (update(InboxRow).where(InboxRow.bot_id == _B, InboxRow.update_id == _U)
              .values(state="done", note=bindparam("note"), done_at=bindparam("now")))
_RETRY = (update(InboxRow).where(InboxRow.bot_id == _B, InboxRow.update_id == _U)
          .values(state="pending", attempts=InboxRow.attempts + 1, not_before=bindparam("at"), note=bindparam("note")))
_LOCK, _UNLOCK = text("SELECT pg_try_advisory_lock(:k)"), text("SELECT pg_advisory_unlock(:k)")


class InboxSlot:
    """One dispatcher slot's connection: the chat lock and the row work done under it.

    Each statement commits on its own. The marks are made durable against this process dying
    but not against the database server crashing (SQLite synchronous=NORMAL in WAL mode;
    PostgreSQL synchronous_commit=off): a database crash can forget the last moment's marks,
    and those updates are then handled again, never lost. Recording updates (bot.inbox.record,
    the acknowledgement to Telegram) keeps the full durability.
    """

    def __init__(self, db: Database, bot_id: int):
        self.db = db
        self.bot_id = bot_id
        self.postgres = db.engine.dialect.name == "postgresql"
        self._conn: Connection | None = None

    def _c(self) -> Connection:
        if self._conn is None:
            conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                conn.exec_driver_sql("SET synchronous_commit TO OFF" if self.postgres else "PRAGMA synchronous=NORMAL")
            except SQLAlchemyError:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _run(self, statement, params: dict | None = None):
        try:
            return self._c().execute(statement, params or {})
        except SQLAlchemyError:
            self.reset()         # a broken connection: its locks are gone with it
            raise

    def try_lock(self, chat_key: int) -> bool:
        """The chat's lock, if nobody else holds it (always granted on SQLite: one process)."""
        if not self.postgres:
            return True
        return bool(self._run(_LOCK, {"k": lock_key(self.bot_id, chat_key)}).scalar())

    def unlock(self, chat_key: int) -> None:
        if self.postgres and self._conn is not None:
            self._run(_UNLOCK, {"k": lock_key(self.bot_id, chat_key)})

    def next_items(self, chat_key: int, limit: int = 1) -> list[InboxItem]:
        """The chat's oldest open updates, up to the first that is not yet due (a later one never
        overtakes it)."""
        rows = self._run(_NEXT, {"bot": self.bot_id, "chat": chat_key, "n": limit})
        now, items = time.time(), []
        for row in rows:
            if row.not_before > now:
                break
            items.append(InboxItem(int(row.update_id), int(row.chat_key), row.payload, row.state, int(row.attempts)))
        return items

    def next_item(self, chat_key: int) -> InboxItem | None:
        items = self.next_items(chat_key, 1)
        return items[0] if items else None

    def advance(self, chat_key: int, finished: list[tuple[int, str | None]], limit: int) -> list[InboxItem]:
        """Closes the updates just handled, then returns the chat's next due ones (one trip to the database)."""
        self.finish_many(finished)
        return self.next_items(chat_key, limit)

    def mark_sending(self, update_id: int) -> None:
        self._run(_MARK, {"bot": self.bot_id, "uid": update_id})

    def finish(self, update_id: int, note: str | None = None) -> None:
        self.finish_many([(update_id, note)])

    def finish_many(self, finished: list[tuple[int, str | None]]) -> None:
        """Marks updates done. Closing late is safe: a handled update that sent a reply is `sending` and
        never handled again; one that sent nothing may be handled once more after a crash."""
        plain = [u for u, note in finished if note is None]
        now = utcnow()
        if plain:
            self._run(_DONE, {"bot": self.bot_id, "ids": plain, "now": now})
        for update_id, note in finished:
            if note is not None:
                self._run(_DONE_NOTE, {"bot": self.bot_id, "uid": update_id, "note": note[:80], "now": now})

    def retry_later(self, update_id: int, delay: float, note: str) -> None:
        """Back to pending after a reply that certainly did not arrive; handled again after `delay` seconds."""
        self._run(_RETRY, {"bot": self.bot_id, "uid": update_id, "at": time.time() + delay,
                           "note": note[:80]})

    def reset(self) -> None:
        """Drops the connection (and with it any chat lock); the next call opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                pass

    def close(self) -> None:
        """Gives the connection back with the server's default durability (after unlocking)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self.postgres:
                conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
                conn.exec_driver_sql("RESET synchronous_commit")
            else:
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.close()
        except SQLAlchemyError:
            conn.invalidate()
            conn.close()
