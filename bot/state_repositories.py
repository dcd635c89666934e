"""Storage for the bot's own short-lived state: conversation turns and the Telegram persistence.

Why in the database: a restart or a second worker process must see the same
conversation (a follow-up such as "那富阳呢" needs the previous turn) and an
admin's unfinished guided edit. Part of the repository layer (bot.repositories
wires these in); nothing else speaks SQL about these tables.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .db import Database
from .models import BotPersistenceRow, ConversationTurnsRow, utcnow


def _upsert(db: Database, model, keys: list[str], rows: list[dict]):
    """INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL (both support it)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(rows)
    updated = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=updated)


_TURNS = ConversationTurnsRow.__table__
_GET_TURNS = select(_TURNS.c.turns).where(_TURNS.c.key == bindparam("key"))
_CLEAR_TURNS = delete(_TURNS).where(_TURNS.c.key.in_(bindparam("keys", expanding=True)))


class ConversationRepository:
    """The recent turns per conversation key (see bot.conversations), as JSON lists.

    Read once per question and written once per answer, so the statements are built once (SQLAlchemy
    compiles them once) and run on a plain connection, without an ORM session.
    """

    def __init__(self, db: Database):
        self.db = db
        self.local = db.engine.dialect.name == "sqlite"     # a file on this machine: a read takes ~0.05 ms
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(_TURNS)
        self._put = insert.on_conflict_do_update(index_elements=["key"], set_={
            "turns": insert.excluded.turns, "updated_at": insert.excluded.updated_at})

    def get(self, key: str) -> list[dict]:
        with self.db.engine.connect() as conn:
            turns = conn.execute(_GET_TURNS, {"key": key}).scalar()
            return list(turns or [])

    def write(self, changes: dict[str, list[dict] | None]) -> None:
        """Several conversations in one transaction: new turns, or None to forget one (/start)."""
        now = utcnow()
        upserts = [{"key": k, "turns": v, "updated_at": now} for k, v in changes.items() if v]
        cleared = [k for k, v in changes.items() if not v]
        with self.db.engine.begin() as conn:
            if upserts:
                conn.execute(self._put, upserts)
            if cleared:
                conn.execute(_CLEAR_TURNS, {"keys": cleared})

    def purge(self, older_than_seconds: float) -> int:
        """Forgets conversations quiet for longer than that (they are over anyway)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        with self.db.transaction() as s:
            result = s.execute(delete(ConversationTurnsRow).where(ConversationTurnsRow.updated_at < cutoff))
            return result.rowcount or 0


class PersistenceRepository:
    """JSON documents by (kind, key): python-telegram-bot's user data and conversation states."""

    def __init__(self, db: Database):
        self.db = db

    def load(self, kind: str) -> dict[str, dict]:
        with self.db.transaction() as s:
            return {r.key: r.data for r in s.scalars(select(BotPersistenceRow).where(BotPersistenceRow.kind == kind))}

    def save(self, kind: str, items: dict[str, dict | None]) -> None:
        """Writes (or, for None, deletes) several documents of one kind in one transaction."""
        now = utcnow()
        upserts = [{"kind": kind, "key": k, "data": v, "updated_at": now} for k, v in items.items() if v is not None]
        dropped = [k for k, v in items.items() if v is None]
        with self.db.transaction() as s:
            if upserts:
                s.execute(_upsert(self.db, BotPersistenceRow, ["kind", "key"], upserts))
            if dropped:
                s.execute(delete(BotPersistenceRow).where(BotPersistenceRow.kind == kind,
                                                          BotPersistenceRow.key.in_(dropped)))

