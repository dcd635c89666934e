"""Database engine, sessions and migrations. SQLite by default, PostgreSQL in deployments.

Why explicit transactions on SQLite: Python's sqlite3 module only opens a transaction
before INSERT/UPDATE/DELETE, so DDL ran in autocommit (a first start killed half-way
left tables without a version row) and a read followed by a write was two separate
moments (two processes could both find a table empty and both fill it). Here SQLite
gets a real BEGIN for every transaction: `transaction()` takes the write lock at once
(BEGIN IMMEDIATE, so writers queue instead of colliding), `reading()` does not.
On PostgreSQL, writes that must not interleave (first-start seeding, the admin list)
also take a named advisory lock for their transaction (`serialize`).
"""
from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from .config import PROJECT_DIR

log = logging.getLogger(__name__)
MIGRATIONS = PROJECT_DIR / "bot" / "migrations"
# Alembic keeps its running context in module globals: two migrations at once in one process clash.
_MIGRATING = threading.Lock()
_BEGIN = "sqlite_begin"          # execution option: the BEGIN statement a SQLite transaction starts with


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers (other bot processes) never block the writer
            dbapi_conn.isolation_level = None          # no implicit BEGIN/COMMIT: ours below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection):
            # SQLAlchemy 2.1 fires "begin" on AUTOCOMMIT connections too; those must stay outside a transaction
            if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                return
            conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN, "BEGIN"))

        return engine
    return create_engine(url, pool_pre_ping=True)


def serialize(conn: Connection | Session, name: str) -> None:
    """Makes the rest of this transaction wait for any other transaction that serialized on `name`.

    PostgreSQL: an advisory lock released at commit/rollback. SQLite: nothing to do, a write
    transaction already holds the database's single write lock from its BEGIN IMMEDIATE.
    """
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(f"unionbot:{name}".encode())})


def migrate(engine: Engine) -> None:
    """Brings the schema to the newest Alembic revision (idempotent), in one transaction.

    Two processes migrating at once: the second waits for the first (SQLite write lock,
    PostgreSQL advisory lock) and then finds the schema at head. Empty tables without a version
    row (left by a first start killed before migrations were atomic) are dropped and made again.
    """
    from .schema_repair import repair_half_made_schema

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _MIGRATING, engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"}).begin() as conn:
        serialize(conn, "migrate")
        dropped = repair_half_made_schema(conn)
        if dropped:
            log.warning("empty tables without a migration version (an interrupted first start) dropped and "
                        "made again: %s", ", ".join(dropped))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """One engine and its session factories: `transaction()` for writes (commits or rolls back as
    a unit), `reading()` for reads."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"}),
                                      expire_on_commit=False)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._session(self._sessions) as s:
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction: one consistent snapshot, never waits for writers."""
        with self._session(self._readers) as s:
            yield s

    @staticmethod
    @contextmanager
    def _session(factory) -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
