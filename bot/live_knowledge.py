"""Keeps one answer engine in step with the database.

Every knowledge write bumps a version number; each process checks it at most
every `refresh_seconds` and re-indexes when it moved, so an admin's edit made in
one bot process is answered by every other within seconds, without a restart.
"""
from __future__ import annotations

import logging
import threading
import time

from knowledge.embedding import Vectorizer, default_vectorizer
from knowledge.engine import AnswerEngine
from knowledge.indexing import settle_heap
from knowledge.kbfiles import DATA_DIR, load_yaml, strip_lines

from .embedding_store import EmbeddingStore
from .repositories import Repositories

log = logging.getLogger(__name__)


def load_categories() -> list[dict]:
    return strip_lines(load_yaml((DATA_DIR / "categories.yaml").read_text("utf-8")))["categories"]


def make_vectorizer(repos: Repositories, model: str) -> Vectorizer | None:
    """The embedding model over the shipped seed and this database's embedding cache; None when off or
    when the model cannot load (then the engine answers lexical-only; said once in the log)."""
    if model == "off":
        return None
    vectors = default_vectorizer(model=model)
    if vectors is not None:
        vectors.stores.append(EmbeddingStore(repos.db, vectors.model_id))
    return vectors


class LiveKnowledge:
    def __init__(self, repos: Repositories, refresh_seconds: float = 3.0, embedding_model: str = "e5"):
        self.repos = repos
        self.refresh_seconds = refresh_seconds
        self.categories = load_categories()
        self._embedding_model = embedding_model
        self._vectors: Vectorizer | None = None
        self._vectors_loaded = False
        self._lock = threading.Lock()
        self._engine: AnswerEngine | None = None
        self._checked_at = 0.0

    def rebuild(self) -> AnswerEngine:
        snap = self.repos.knowledge.snapshot()
        t0 = time.perf_counter()
        engine = self._engine
        # An admin's edit changes an entry or a few: edited in place (about a second at 100,000 entries,
        # where a rebuild takes a minute), with the answers a rebuild would give.
        if engine is not None and engine.vectors is self.vectors and \
                engine.apply(snap.entries, snap.documents, snap.synonyms, snap.version):
            log.info("knowledge updated in place kb_version=%s entries=%d ms=%.1f", snap.version,
                     len(engine.by_id), (time.perf_counter() - t0) * 1000)
            self._checked_at = time.monotonic()
            return engine
        vectors = self.vectors
        embedded = vectors.embedded if vectors else 0
        engine = AnswerEngine(snap.entries, snap.documents, snap.synonyms, self.categories, snap.version,
                              vectors=vectors)
        log.info("knowledge indexed kb_version=%s entries=%d semantic=%s newly_embedded=%d ms=%.1f",
                 snap.version, len(snap.entries), engine.semantic is not None,
                 (vectors.embedded - embedded) if vectors else 0, (time.perf_counter() - t0) * 1000)
        self._engine = engine
        settle_heap(len(snap.entries))
        self._checked_at = time.monotonic()
        return engine

    @property
    def vectors(self) -> Vectorizer | None:
        """One vectorizer per process: its in-memory vectors make a re-index after an edit cheap."""
        if not self._vectors_loaded:
            self._vectors = make_vectorizer(self.repos, self._embedding_model)
            self._vectors_loaded = True
        return self._vectors

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
