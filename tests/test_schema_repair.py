"""A first start killed half-way (kill -9) must not leave a database that every later start refuses."""
from __future__ import annotations

import os
import signal

import pytest
from sqlalchemy import event, inspect, text

from bot.config import load_settings
from bot.db import Database
from bot.models import Base
from bot.setup import SetupError, open_app

TABLES = set(Base.metadata.tables)


def _open(url: str):
    app = open_app(load_settings(DATABASE_URL=url, _env_file=None), load_knowledge=False)
    app.db.dispose()


def _assert_at_head(url: str) -> None:
    db = Database(url)
    assert TABLES <= set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_tables_without_a_version_row_are_rebuilt(tmp_path, request, kind):
    url = f"sqlite:///{tmp_path / 'half.db'}" if kind == "sqlite" else request.getfixturevalue("pg_url")
    Database(url).migrate()
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    db.dispose()
    _open(url)
    _assert_at_head(url)


def test_some_tables_and_an_empty_version_table_are_rebuilt(tmp_path):
    url = f"sqlite:///{tmp_path / 'part.db'}"
    db = Database(url)
    with db.engine.begin() as conn:
        Base.metadata.tables["admins"].create(conn)
        Base.metadata.tables["audit_log"].create(conn)
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.dispose()
    _open(url)
    _assert_at_head(url)


def test_tables_holding_data_without_a_version_row_are_not_dropped(tmp_path):
    url = f"sqlite:///{tmp_path / 'data.db'}"
    Database(url).migrate()
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO admins (user_id, added_by, created_at) VALUES (7, 'x', '2025-01-01')"))
        conn.execute(text("DELETE FROM alembic_version"))
    db.dispose()
    with pytest.raises(SetupError) as err:
        _open(url)
    assert "alembic_version" in str(err.value) and "admins" in str(err.value)
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admins")).scalar() == 1
    db.dispose()


def _killed_after(url: str, statements: int) -> bool:
    """Forks a first start that kills itself (SIGKILL) right after its n-th SQL statement.
    Returns whether it died before finishing."""
    pid = os.fork()
    if pid == 0:                                        # the child: no cleanup of any kind
        try:
            db = Database(url)
            seen = [0]

            @event.listens_for(db.engine, "after_cursor_execute")
            def _count(*_args):
                seen[0] += 1
                if seen[0] == statements:
                    os.kill(os.getpid(), signal.SIGKILL)

            db.migrate()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_first_start_killed_after_any_statement_starts_next_time(tmp_path):
    killed = 0
    for n in range(1, 200):
        url = f"sqlite:///{tmp_path / f'kill{n}.db'}"
        if not _killed_after(url, n):
            break                                       # the migration finished before statement n
        killed += 1
        _open(url)
        _assert_at_head(url)
    assert killed >= 10, f"only {killed} kill points: the migration should issue more statements"


def test_the_cli_explains_a_schema_it_will_not_repair(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    Database(url).migrate()
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO admins (user_id, added_by, created_at) VALUES (7, 'x', '2025-01-01')"))
        conn.execute(text("DROP TABLE alembic_version"))
    db.dispose()
    out = subprocess.run([sys.executable, "run_bot.py", "db", "upgrade"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "DATABASE_URL": url})
    assert out.returncode == 1 and "无法启动" in out.stderr and "alembic_version" in out.stderr
    assert "Traceback" not in out.stderr
