"""Shared fixtures: the shipped knowledge as an engine, and migrated temporary databases; and how the
tests share the machine under pytest-xdist (pyproject's addopts: `-n 2`)."""
from __future__ import annotations

import contextlib
import fcntl
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.live_knowledge import load_categories  # noqa: E402
from bot.setup import open_app  # noqa: E402
from knowledge.engine import AnswerEngine  # noqa: E402
from knowledge.kbfiles import load_all  # noqa: E402


class _RunLock:
    """Lets a test marked `alone` run while no other test runs, under pytest-xdist: two flock()ed files
    in the run's base temporary directory, which all its workers share. Every other test holds `run`
    shared while it runs; an `alone` test holds it exclusively. The `gate` stops workers from starting
    tests while an `alone` one waits, so it is not passed over."""

    def __init__(self, directory: Path):
        self._gate = open(directory / "alone.gate", "a")      # kept open (and the locks with it) all run
        self._run = open(directory / "alone.run", "a")

    @contextlib.contextmanager
    def held(self, alone: bool):
        mode = fcntl.LOCK_EX if alone else fcntl.LOCK_SH
        fcntl.flock(self._gate, mode)
        try:
            fcntl.flock(self._run, mode)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._run, fcntl.LOCK_UN)


_RUN_LOCK = pytest.StashKey[_RunLock]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Setup, call and teardown of each test inside the run lock (only in a pytest-xdist worker: a
    plain run has one test at a time anyway)."""
    config = item.config
    if not hasattr(config, "workerinput"):
        return (yield)
    lock = config.stash.get(_RUN_LOCK, None)
    if lock is None:
        # A worker's base temporary directory is <the run's>/popen-gwN; the run's is new for every run.
        lock = config.stash[_RUN_LOCK] = _RunLock(Path(config.option.basetemp).parent)
    with lock.held(item.get_closest_marker("alone") is not None):
        return (yield)


@pytest.fixture(scope="session")
def kb_files():
    return load_all()


@pytest.fixture(scope="session")
def vectors():
    """The embedding model over the shipped seed (None where the model cannot load: lexical-only)."""
    from knowledge.embedding import default_vectorizer
    return default_vectorizer()


@pytest.fixture(scope="session")
def engine(kb_files, vectors) -> AnswerEngine:
    """The engine over the shipped knowledge files, both retrievers, built once (no database needed)."""
    return AnswerEngine(kb_files.entries(), kb_files.documents, kb_files.synonyms, load_categories(),
                        vectors=vectors)


@pytest.fixture(scope="session")
def lexical_engine(kb_files) -> AnswerEngine:
    """The same knowledge without the semantic retriever: what runs where the model cannot load."""
    return AnswerEngine(kb_files.entries(), kb_files.documents, kb_files.synonyms, load_categories())


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(scope="session")
def seeded_db_template(tmp_path_factory) -> Path:
    """A migrated database with the knowledge and example stations loaded, built once per session."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    seeded = open_app(load_settings(DATABASE_URL=f"sqlite:///{path}", _env_file=None))
    seeded.db.dispose()          # closes the WAL so the single file is complete
    return path


@pytest.fixture
def app(seeded_db_template, tmp_path, db_url):
    """A migrated temporary SQLite database (at db_url) with the knowledge files imported: a private copy
    of the seeded template, opened as a start opens it (the files' fingerprint matches, so the import is
    skipped). ~15 ms instead of ~0.6 s for migrating and importing anew."""
    shutil.copyfile(seeded_db_template, tmp_path / "bot.db")
    application = open_app(load_settings(DATABASE_URL=db_url, _env_file=None))
    yield application
    application.db.dispose()


@pytest.fixture
def seeded_db_url(seeded_db_template, tmp_path) -> str:
    """A private copy of the seeded database: open it with open_app(..., load_knowledge=False) in ~30 ms."""
    target = tmp_path / "seeded.db"
    shutil.copyfile(seeded_db_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def bot_api():
    """A running local Telegram Bot API server (local_bot_api) on a free port."""
    from local_bot_api import LocalBotApi
    with LocalBotApi() as server:
        yield server


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    from sqlalchemy import create_engine
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url():
    """A private PostgreSQL database, created here and dropped afterwards (the server keeps what
    earlier runs left, so every test gets its own)."""
    import uuid

    from sqlalchemy import create_engine, text

    if not postgres_available():
        pytest.skip("PostgreSQL is not answering at 127.0.0.1:5432 (database `test`, user postgres)")
    name = f"unionbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
