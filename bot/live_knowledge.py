"""Keeps one answer engine in step with the database.

Every knowledge write bumps a version number; each process checks it at most
every `refresh_seconds` and re-indexes when it moved, so an admin's edit made in
one bot process is answered by every other within seconds, without a restart.
"""
from __future__ import annotations

import logging
import threading
import time

from knowledge.engine import AnswerEngine
from knowledge.kbfiles import DATA_DIR, load_yaml, strip_lines

from .repositories import Repositories

log = logging.getLogger(__name__)


def load_categories() -> list[dict]:
    return strip_lines(load_yaml((DATA_DIR / "categories.yaml").read_text("utf-8")))["categories"]


class LiveKnowledge:
    def __init__(self, repos: Repositories, refresh_seconds: float = 3.0):
        self.repos = repos
        self.refresh_seconds = refresh_seconds
        self.categories = load_categories()
        self._lock = threading.Lock()
        self._engine: AnswerEngine | None = None
        self._checked_at = 0.0

    def rebuild(self) -> AnswerEngine:
        snap = self.repos.knowledge.snapshot()
        t0 = time.perf_counter()
        engine = AnswerEngine(snap.entries, snap.documents, snap.synonyms, self.categories, snap.version)
        log.info("knowledge indexed", extra={"kb_version": snap.version, "entries": len(snap.entries),
                                             "ms": round((time.perf_counter() - t0) * 1000, 1)})
        self._engine = engine
        self._checked_at = time.monotonic()
        return engine

    @property
    def engine(self) -> AnswerEngine:
        """The current engine; re-indexed if the database moved on since the last check."""
        engine = self._engine
        if engine is None:
            with self._lock:
                return self._engine or self.rebuild()
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            with self._lock:
                self._checked_at = time.monotonic()
                if self.repos.knowledge.version() != engine.version:
                    return self.rebuild()
        return engine

    def current_if_checked(self) -> AnswerEngine | None:
        """The engine when no version check is due (no database call), else None.

        Lets an event loop answer without blocking and do the occasional check in a thread.
        """
        engine = self._engine
        if engine is not None and time.monotonic() - self._checked_at < self.refresh_seconds:
            return engine
        return None

    def invalidate(self) -> AnswerEngine:
        """After a write in this process: re-index now."""
        with self._lock:
            return self.rebuild()
