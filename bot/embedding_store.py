"""The embedding cache table: knowledge texts' vectors by model and text hash (knowledge.embedding.VectorStore).

Why a table: every bot process, and the next start, reuses a vector once any process has
embedded its text; an admin's edit costs the embedding of its new texts only. Writes
ignore rows another process inserted first (same key, same vector).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from .db import Database
from .models import EmbeddingRow

log = logging.getLogger(__name__)
CHUNK = 500          # keys per IN (...) query: well under SQLite's variable limit


class EmbeddingStore:
    def __init__(self, db: Database, model: str):
        self.db = db
        self.model = model

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        try:
            with self.db.reading() as s:
                for i in range(0, len(keys), CHUNK):
                    rows = s.execute(select(EmbeddingRow.key, EmbeddingRow.vector).where(
                        EmbeddingRow.model == self.model, EmbeddingRow.key.in_(keys[i:i + CHUNK])))
                    for key, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        except SQLAlchemyError as exc:           # a cache: a database hiccup costs time, not answers
            log.warning("embedding cache read failed (%s); embedding instead", exc)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        rows = [{"model": self.model, "key": k, "vector": np.asarray(v, dtype=np.float32).tobytes()}
                for k, v in items.items()]
        insert = pg_insert if self.db.engine.dialect.name == "postgresql" else sqlite_insert
        try:
            with self.db.transaction() as s:
                for i in range(0, len(rows), CHUNK):
                    s.execute(insert(EmbeddingRow).on_conflict_do_nothing(), rows[i:i + CHUNK])
        except SQLAlchemyError as exc:
            log.warning("embedding cache write failed (%s); the vectors stay in memory", exc)

    def count(self) -> int:
        from sqlalchemy import func
        with self.db.reading() as s:
            return s.scalar(select(func.count()).select_from(EmbeddingRow).where(EmbeddingRow.model == self.model))
