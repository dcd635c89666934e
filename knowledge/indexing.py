"""Helpers for building and editing the engine's indexes in place (see AnswerEngine.apply).

- `Blocks`: the vectors of many texts, fetched from the Vectorizer a block at a time, so a
  100,000-entry build never holds a float32 copy of every phrasing's vector at once;
- `ReadWriteLock`: answers read the indexes concurrently, an admin's edit changes them alone;
- `changes`: which entries an edit added, changed or retired, by id;
- `side_pool`: threads for a big index's semantic retrieval, run beside the lexical one;
- `settle_heap`: after a build, the garbage collector told to leave the new indexes alone.
"""
from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from .embedding import Vectorizer
from .model import FaqEntry

BLOCK = 8192
SETTLE_ENTRIES = 10_000      # from this size a build settles the heap (settle_heap)
SWITCH_INTERVAL = 0.001      # seconds; the GIL's switch interval once side work runs (side_pool)


class Blocks:
    def __init__(self, vectors: Vectorizer, texts: Sequence[str], role: str):
        self.vectors, self.texts, self.role = vectors, texts, role
        self.dim = vectors.dim

    def __len__(self) -> int:
        return len(self.texts)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        for lo in range(0, len(self.texts), BLOCK):
            yield lo, self.vectors.vectors(list(self.texts[lo:lo + BLOCK]), self.role)


class ReadWriteLock:
    """Many readers or one writer; a reader may re-enter (answer -> entries_in)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self):
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self):
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def changes(old: dict[str, FaqEntry], new: Sequence[FaqEntry]) -> tuple[list[FaqEntry], list[str]]:
    """(entries added or changed, ids retired) between the engine's entries and a new active list."""
    fresh = {e.id: e for e in new if e.active}
    upserts = [e for i, e in fresh.items() if old.get(i) != e]
    return upserts, [i for i in old if i not in fresh]


_SIDE: ThreadPoolExecutor | None = None
_SIDE_LOCK = threading.Lock()


def side_pool() -> ThreadPoolExecutor:
    """The process's threads for work an answer starts ahead and waits for (AnswerEngine._decide).

    The side work is a dozen numpy steps, each taking the GIL back from the answering thread, which
    gives it up only every switch interval (5 ms by default): 1 ms there took chatty messages at
    100,000 entries from p50/p99 33.7/54.5 to 32.0/47.8 ms (the same run, one after the other 38.3/86.8).
    Set when the first side work starts, so a process with a small index keeps the default."""
    global _SIDE
    with _SIDE_LOCK:
        if _SIDE is None:
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            _SIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="semantic-retrieval")
        return _SIDE


def settle_heap(entries: int) -> bool:
    """After an engine of `entries` entries is built and in use. A build leaves its survivors in the
    collector's youngest generation (100,000 objects at 100,000 entries): the next young pass, due at any
    question, walked them all (115 ms), and a full pass walks every object (420 ms). Collected once now and
    frozen, the indexes are never walked again. What an earlier build froze is thawed first, so a replaced
    engine can be freed (one still answering a question at this moment stays frozen until the next build).
    Below SETTLE_ENTRIES the pauses are a millisecond or two and this would cost more (50 ms): not done."""
    if entries < SETTLE_ENTRIES:
        return False
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return True
