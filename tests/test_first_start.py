"""Two processes starting together on a freshly upgraded and imported database (the README path):
both come up, and the first-start writes (example stations, admins from ADMIN_IDS) happen once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.db import Database
from bot.repositories import Repositories
from bot.setup import import_files, open_app
from knowledge.kbfiles import load_all
from knowledge.station_files import EXAMPLE_FILE, load_station_file

EXAMPLES = len(load_station_file(EXAMPLE_FILE).stations)
ADMINS = "111,222"


def _together(n: int, work) -> list[BaseException]:
    """Runs `work` in n threads released at the same moment; returns what they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run():
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever escaped
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def _upgraded_and_imported(url: str) -> None:
    """`run_bot.py db upgrade` then `kb import`: schema and knowledge, no example stations yet."""
    app = open_app(load_settings(DATABASE_URL=url, _env_file=None), load_knowledge=False)
    import_files(app.repos, load_all())
    app.db.dispose()


def _start(url: str) -> None:
    app = open_app(load_settings(DATABASE_URL=url, ADMIN_IDS=ADMINS, _env_file=None))
    app.db.dispose()


def _check(url: str) -> None:
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stations")).scalar() == EXAMPLES
        assert conn.execute(text("SELECT count(*) FROM admins")).scalar() == 2
    db.dispose()


def _fresh_pg(pg_url: str) -> str:
    """Empties the stations and admins of a PostgreSQL test database for the next trial."""
    db = Database(pg_url)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM stations"))
        conn.execute(text("DELETE FROM admins"))
    db.dispose()
    return pg_url


def test_two_first_starts_on_sqlite_both_succeed(tmp_path):
    import shutil
    template = tmp_path / "template.db"
    _upgraded_and_imported(f"sqlite:///{template}")
    for trial in range(5):
        shutil.copyfile(template, tmp_path / f"first{trial}.db")
        url = f"sqlite:///{tmp_path / f'first{trial}.db'}"
        errors = _together(2, lambda url=url: _start(url))
        assert not errors, f"trial {trial}: {errors[0]!r}"
        _check(url)


def test_two_first_starts_on_a_new_sqlite_file_both_succeed(tmp_path):
    """Not even migrated yet: both migrate, import and seed at once."""
    for trial in range(3):
        url = f"sqlite:///{tmp_path / f'new{trial}.db'}"
        errors = _together(2, lambda url=url: _start(url))
        assert not errors, f"trial {trial}: {errors[0]!r}"
        _check(url)


@pytest.mark.postgres
def test_two_first_starts_on_postgres_both_succeed(pg_url):
    _upgraded_and_imported(pg_url)
    for trial in range(3):
        url = _fresh_pg(pg_url)
        errors = _together(2, lambda url=url: _start(url))
        assert not errors, f"trial {trial}: {errors[0]!r}"
        _check(url)


@pytest.mark.postgres
def test_two_first_starts_on_a_new_postgres_database_both_succeed(pg_url):
    errors = _together(2, lambda: _start(pg_url))
    assert not errors, repr(errors[0])
    _check(pg_url)


def test_preferences_first_write_by_two_workers_at_once(tmp_path):
    """A user's first two messages handled at once both save a district (no duplicate key)."""
    url = f"sqlite:///{tmp_path / 'pref.db'}"
    Database(url).migrate()
    for trial in range(5):
        dbs = [Database(url), Database(url)]
        free = list(dbs)
        errors = _together(2, lambda free=free, user=1000 + trial:
                           Repositories(free.pop()).preferences.set_district(user, "临平区"))
        assert not errors, repr(errors[0])
        for db in dbs:
            db.dispose()


def _two_processes(url: str) -> list[str]:
    """Two `run_bot.py ask` processes started at the same moment; returns the stderr of any that failed."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "DATABASE_URL": url, "ADMIN_IDS": ADMINS}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    procs = [subprocess.Popen([sys.executable, "run_bot.py", "ask", "体检"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    failed = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        if p.returncode != 0:
            failed.append(err)
    return failed


@pytest.mark.slow
@pytest.mark.parametrize("prepared", [True, False], ids=["after-upgrade-and-import", "new-file"])
def test_two_processes_start_together_on_sqlite(tmp_path, prepared):
    for trial in range(3):
        url = f"sqlite:///{tmp_path / f'proc{trial}.db'}"
        if prepared:
            _upgraded_and_imported(url)
        failed = _two_processes(url)
        assert not failed, failed[0][-2000:]
        _check(url)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_start_together_on_postgres(pg_url):
    failed = _two_processes(pg_url)                    # a new database: both migrate, import and seed
    assert not failed, failed[0][-2000:]
    _check(pg_url)
    for _ in range(2):
        failed = _two_processes(_fresh_pg(pg_url))
        assert not failed, failed[0][-2000:]
        _check(pg_url)
