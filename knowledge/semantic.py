"""Semantic retrieval: cosine similarity between a question and many short texts, each tagged with a key.

Bridges words the lexical matcher has never seen (查身体 / 体检, 打官司 / 法律援助) and reads
a long chatty message as a whole. A key (an entry, a source sentence) may have several texts
(its phrasings); its score is the best of them. Vectors are L2-normalised, so the dot
product is the cosine.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SemanticHit:
    key: int
    cosine: float
    text: int            # index of the best-matching text of that key


class SemanticIndex:
    def __init__(self, keys: list[int], vectors: np.ndarray):
        self.keys = np.asarray(keys, dtype=np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32) if len(keys) else \
            np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
        self.n_keys = int(self.keys.max()) + 1 if len(self.keys) else 0

    def __len__(self) -> int:
        return len(self.keys)

    def best_per_key(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best cosine per key, index of the text that gave it); -1 for keys with no text."""
        sims = self.vectors @ query
        best = np.full(self.n_keys, -1.0, dtype=np.float32)
        np.maximum.at(best, self.keys, sims)
        # The argmax text per key: among texts whose similarity equals their key's best.
        winners = np.flatnonzero(sims >= best[self.keys])
        which = np.full(self.n_keys, -1, dtype=np.int64)
        which[self.keys[winners[::-1]]] = winners[::-1]
        return best, which

    def mask_of(self, keys: Iterable[int]) -> np.ndarray:
        """A key filter for `search` (built once per district, not per question)."""
        mask = np.zeros(self.n_keys, dtype=bool)
        mask[[k for k in keys if 0 <= k < self.n_keys]] = True
        return mask

    def search(self, query: np.ndarray, allowed: np.ndarray | None = None, limit: int = 10) -> list[SemanticHit]:
        """Best keys first; `allowed` is a boolean mask over keys (see mask_of)."""
        if not len(self.keys):
            return []
        best, which = self.best_per_key(query)
        if allowed is not None:
            best = np.where(allowed, best, -1.0)
        k = min(limit, self.n_keys)
        top = np.argpartition(-best, k - 1)[:k] if k < self.n_keys else np.arange(self.n_keys)
        top = top[np.argsort(-best[top], kind="stable")]
        return [SemanticHit(int(i), float(best[i]), int(which[i])) for i in top if best[i] > -1.0]
