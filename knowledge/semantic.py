"""Semantic retrieval: cosine similarity between a question and many short texts, each tagged with a key.

Bridges words the lexical matcher has never seen (查身体 / 体检, 打官司 / 法律援助) and reads
a long chatty message as a whole. A key (an entry, a source sentence) may have several texts
(its phrasings); its score is the best of them. Vectors are L2-normalised, so the dot
product is the cosine.

Up to EXACT_ROWS texts (the shipped knowledge base has a few thousand) every text is scored
for every question, in float32. Beyond that (100,000 entries are 600,000 phrasings) the texts
are kept in float16 (half the memory) and a question scores only the keys it needs: the
candidates others found (`key_cosines`), and for `search` the rows closest in the 48
directions that carry most of the vectors (a fast float32 scan), each then scored exactly.
An edit appends the key's new rows and marks
its old ones dead (`update`, `remove`); spare rows are reserved so an edit copies nothing.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

EXACT_ROWS = 60_000     # up to this many texts: float32, all scored (the answers never depend on size tricks)
SHORTLIST = 2000        # rows `search` scores exactly beyond EXACT_ROWS (the closest in RANK dimensions)
RANK = 48               # dimensions the rows are first compared in, beyond EXACT_ROWS
SPARE = 0.01            # rows (and keys) reserved for edits, as a share of the initial size (at least 256)


@dataclass(frozen=True)
class SemanticHit:
    key: int
    cosine: float
    text: int            # index of the best-matching text of that key


class SemanticIndex:
    def __init__(self, keys: list[int], vectors, exact_rows: int | None = None):
        """`vectors`: one row per key, or an object with `dim` and `blocks()` yielding (first row, rows)
        (knowledge.indexing.Blocks: a big index is filled without a float32 copy of it all)."""
        keys = np.asarray(keys, dtype=np.int64)
        rows = len(keys)
        if isinstance(vectors, np.ndarray):
            self.dim = vectors.shape[1] if vectors.ndim == 2 else 0
            blocks = iter([(0, vectors)] if rows else [])
        else:
            self.dim, blocks = vectors.dim, vectors.blocks()
        self.exact = rows <= (EXACT_ROWS if exact_rows is None else exact_rows)
        dtype = np.float32 if self.exact else np.float16
        spare = max(256, int(rows * SPARE))
        self._m = np.zeros((rows + spare, self.dim), dtype=dtype)
        for lo, block in blocks:
            self._m[lo:lo + len(block)] = block
        self._key = np.full(rows + spare, -1, dtype=np.int64)      # -1: a free or dead row
        self._key[:rows] = keys
        self._used = rows
        self._dead = 0
        self.n_keys = int(keys.max()) + 1 if rows else 0
        # Rows of a key: contiguous [start, start + count) (an edit moves them to the end).
        self._start = np.zeros(self.n_keys + spare, dtype=np.int64)
        self._count = np.zeros(self.n_keys + spare, dtype=np.int64)
        grouped = rows == 0 or bool(np.all(np.diff(keys) >= 0))
        if grouped and rows:
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            self._start[keys[starts]] = starts
            self._count[keys[starts]] = np.diff(np.r_[starts, rows])
        elif not grouped:
            self.exact = True           # rows of a key scattered: score them all (small indexes only)
            if self._m.dtype != np.float32:
                self._m = self._m.astype(np.float32)
        self._coarse: np.ndarray | None = None        # beyond EXACT_ROWS: each row in RANK dimensions

    @property
    def keys(self) -> np.ndarray:
        return self._key[:self._used]

    @property
    def vectors(self) -> np.ndarray:
        return self._m[:self._used]

    def __len__(self) -> int:
        return self._used - self._dead

    # ------------------------------------------------------------------ editing
    def update(self, key: int, vectors: np.ndarray) -> None:
        """Replaces one key's texts (an edited or a new entry): its old rows die, new ones are appended."""
        self.remove(key)
        n = len(vectors)
        if not n:
            return
        if self._used + n > len(self._m):
            self._compact(n)
        self._m[self._used:self._used + n] = vectors
        self._key[self._used:self._used + n] = key
        if key >= len(self._start):
            grow = max(key + 1, int(len(self._start) * 1.25)) - len(self._start)
            self._start = np.r_[self._start, np.zeros(grow, np.int64)]
            self._count = np.r_[self._count, np.zeros(grow, np.int64)]
        self._start[key], self._count[key] = self._used, n
        self._used += n
        self.n_keys = max(self.n_keys, key + 1)
        if self.exact:
            self._regroup()
        if self._coarse is not None:
            lo = self._used - n
            self._coarse[lo:self._used] = self._m[lo:self._used].astype(np.float32) @ self._basis

    def remove(self, key: int) -> None:
        """Forgets one key's texts (a retired entry)."""
        if key >= len(self._start) or not self._count[key]:
            dead = np.flatnonzero(self.keys == key) if self._count.sum() < len(self) else []
            if not len(dead):
                return
            rows = dead
        else:
            rows = np.arange(self._start[key], self._start[key] + self._count[key])
        self._m[rows] = 0
        self._key[rows] = -1
        self._dead += len(rows)
        if key < len(self._count):
            self._count[key] = 0
        if self._coarse is not None:
            self._coarse[rows] = 0
        if self.exact:
            self._regroup()

    def _regroup(self) -> None:
        """A small index keeps its rows as a fresh build lays them out (by key, no dead rows): the float32
        product rounds a row's cosine by its place in the matrix, and an edit must answer as a rebuild."""
        live = np.flatnonzero(self._key[:self._used] >= 0)
        order = live[np.argsort(self._key[live], kind="stable")]
        n = len(order)
        self._m[:n] = self._m[order]
        self._m[n:self._used] = 0
        self._key[:n] = self._key[order]
        self._key[n:self._used] = -1
        self._used, self._dead = n, 0
        k = self._key[:n]
        self._count[:] = 0
        if n:
            first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
            self._start[k[first]] = first
            self._count[k[first]] = np.diff(np.r_[first, n])

    def _compact(self, need: int) -> None:
        """Drops dead rows (keeping order) and makes room for `need` more."""
        live = np.flatnonzero(self._key[:self._used] >= 0)
        spare = max(256, int(len(live) * SPARE), need)
        m = np.zeros((len(live) + spare, self.dim), dtype=self._m.dtype)
        m[:len(live)] = self._m[live]
        key = np.full(len(live) + spare, -1, dtype=np.int64)
        key[:len(live)] = self._key[live]
        if self._coarse is not None:
            coarse = np.zeros((len(live) + spare, self._coarse.shape[1]), dtype=np.float32)
            coarse[:len(live)] = self._coarse[live]
            self._coarse = coarse
        self._m, self._key, self._used, self._dead = m, key, len(live), 0
        moved = np.full(len(self._start), -1, dtype=np.int64)
        if len(live):
            k = key[:len(live)]
            first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
            moved[k[first][::-1]] = first[::-1]         # grouped keys: their first row
        self._start = np.where(self._count > 0, moved, 0)

    # ------------------------------------------------------------------ scoring
    def best_per_key(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best cosine per key, index of the text that gave it); -1 for keys with no text."""
        sims = self.vectors @ query
        keys = self.keys if not self._dead else np.where(self.keys >= 0, self.keys, self.n_keys)
        best = np.full(self.n_keys + 1, -1.0, dtype=np.float32)
        np.maximum.at(best, keys, sims)
        # The argmax text per key: among texts whose similarity equals their key's best.
        winners = np.flatnonzero(sims >= best[keys])
        which = np.full(self.n_keys + 1, -1, dtype=np.int64)
        which[keys[winners[::-1]]] = winners[::-1]
        return best[:self.n_keys], which[:self.n_keys]

    def key_cosines(self, query: np.ndarray, keys: list[int]) -> np.ndarray:
        """Best cosine per key, for (at least) the given keys; -1 elsewhere."""
        if self.exact:
            return self.best_per_key(query)[0]
        out = np.full(self.n_keys, -1.0, dtype=np.float32)
        ks = np.asarray([k for k in keys if 0 <= k < self.n_keys and self._count[k]], dtype=np.int64)
        if len(ks):
            best, _ = self._exact_for(query, ks)
            out[ks] = best
        return out

    def _exact_for(self, query: np.ndarray, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best cosine, best row) of each key in `ks` (each with at least one row)."""
        counts = self._count[ks]
        offsets = np.r_[0, np.cumsum(counts)[:-1]]
        rows = np.repeat(self._start[ks] - offsets, counts) + np.arange(counts.sum())
        sims = self._m[rows].astype(np.float32) @ query
        best = np.maximum.reduceat(sims, offsets)
        at = np.flatnonzero(sims >= np.repeat(best, counts))           # each key's best rows …
        seg = np.repeat(np.arange(len(ks)), counts)[at]
        return best, rows[at[np.r_[True, seg[1:] != seg[:-1]]]]        # … the first of them

    def prepare(self) -> None:
        """Readies `search` beyond EXACT_ROWS (a few seconds at 600,000 texts): every row projected on the
        RANK directions that carry most of the vectors (from a sample of rows), float32 for a fast scan."""
        if self.exact or self._coarse is not None:
            return
        live = np.flatnonzero(self._key[:self._used] >= 0)
        sample = np.sort(np.random.default_rng(0).choice(live, min(len(live), 8_000), replace=False))
        _, _, vt = np.linalg.svd(self._m[sample].astype(np.float32), full_matrices=False)
        self._basis = np.ascontiguousarray(vt[:RANK].T)                  # dim x RANK
        coarse = np.zeros((len(self._m), RANK), dtype=np.float32)
        for lo in range(0, self._used, 65536):          # in blocks: no float32 copy of every row at once
            hi = min(lo + 65536, self._used)
            coarse[lo:hi] = self._m[lo:hi].astype(np.float32) @ self._basis
        self._coarse = coarse

    def mask_of(self, keys: Iterable[int]) -> np.ndarray:
        """A key filter for `search` (built once per district, not per question)."""
        mask = np.zeros(self.n_keys, dtype=bool)
        mask[[k for k in keys if 0 <= k < self.n_keys]] = True
        return mask

    def search(self, query: np.ndarray, allowed: np.ndarray | None = None, limit: int = 10) -> list[SemanticHit]:
        """Best keys first; `allowed` is a boolean mask over keys (see mask_of)."""
        if not len(self):
            return []
        if allowed is not None and len(allowed) < self.n_keys:
            allowed = np.r_[allowed, np.zeros(self.n_keys - len(allowed), dtype=bool)]
        best, which = self.best_per_key(query) if self.exact else self._shortlisted(query, allowed)
        if allowed is not None:
            best = np.where(allowed[:self.n_keys], best, -1.0)
        k = min(limit, self.n_keys)
        top = np.argpartition(-best, k - 1)[:k] if k < self.n_keys else np.arange(self.n_keys)
        top = top[np.argsort(-best[top], kind="stable")]
        return [SemanticHit(int(i), float(best[i]), int(which[i])) for i in top if best[i] > -1.0]

    def _shortlisted(self, query: np.ndarray, allowed: np.ndarray | None):
        """Exact best cosines for the keys of the SHORTLIST rows closest in RANK dimensions; -1 elsewhere."""
        self.prepare()
        coarse = self._coarse[:self._used] @ (query @ self._basis)
        keys = self._key[:self._used]
        if allowed is not None:
            coarse[~allowed[np.maximum(keys, 0)]] = -np.inf
        if self._dead:
            coarse[keys < 0] = -np.inf
        k = min(SHORTLIST, self._used)
        # The k best rows: above a threshold read off a sample of the rows still in play (masked ones
        # are -inf), since a full partition of 600,000 costs more.
        sample = coarse[::29]
        finite = sample[np.isfinite(sample)]
        rows = np.zeros(0, dtype=np.int64)
        if len(finite):
            in_play = self._used * len(finite) / len(sample)
            threshold = np.quantile(finite, max(0.0, 1.0 - 2.0 * k / in_play))
            rows = np.flatnonzero(coarse >= threshold)
        if len(rows) < k:
            rows = np.argpartition(-coarse, k - 1)[:k]
        elif len(rows) > k:
            rows = rows[np.argpartition(-coarse[rows], k - 1)[:k]]
        rows = np.sort(rows[np.isfinite(coarse[rows])])
        # Those rows scored exactly; a key's best among them (its rows' cosines are close, and
        # key_cosines gives every candidate its exact best).
        sims = self._m[rows].astype(np.float32) @ query
        best = np.full(self.n_keys, -1.0, dtype=np.float32)
        np.maximum.at(best, keys[rows], sims)
        which = np.full(self.n_keys, -1, dtype=np.int64)
        won = sims >= best[keys[rows]]
        which[keys[rows][won][::-1]] = rows[won][::-1]
        return best, which
