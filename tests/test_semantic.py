"""The semantic retriever's parts: vectors and their caches, the cosine index, the lexical-only fallback."""
import hashlib
import logging
import os

import numpy as np
import pytest

from knowledge import embedding
from knowledge.embedding import PASSAGE, QUERY, SPIN_COUNT, MemoryVectors, SeedVectors, Vectorizer, text_key
from knowledge.semantic import SemanticIndex


class CountingEmbedder:
    """Deterministic stand-in for the model: a vector from the text's hash; counts what it embeds."""
    model_id = "fake-8"
    dim = 8

    def __init__(self):
        self.calls: list[str] = []

    def embed(self, texts, role):
        self.calls.extend(texts)
        out = []
        for t in texts:
            v = np.frombuffer(hashlib.sha256(f"{role}{t}".encode()).digest()[:32], dtype=np.uint8).astype(np.float32)
            v = v[:8] - 127.5
            out.append(v / np.linalg.norm(v))
        return np.stack(out) if out else np.zeros((0, 8), np.float32)


def test_vectorizer_embeds_each_text_once_and_fills_the_writable_store():
    fake, store = CountingEmbedder(), MemoryVectors()
    v = Vectorizer(fake, [store])
    a = v.vectors(["体检", "驿站", "体检"], PASSAGE)
    assert a.shape == (3, 8) and np.allclose(a[0], a[2])
    assert sorted(fake.calls) == ["体检", "驿站"]
    assert set(store.snapshot()) == {text_key(PASSAGE, "体检"), text_key(PASSAGE, "驿站")}
    v.vectors(["体检"], PASSAGE)
    assert len(fake.calls) == 2                      # served from memory
    fresh = Vectorizer(fake, [store])                # a new process, the same store
    fresh.vectors(["驿站"], PASSAGE)
    assert len(fake.calls) == 2
    v.vectors(["体检"], QUERY)                       # the role is part of the key
    assert len(fake.calls) == 3


class BatchCountingEmbedder(CountingEmbedder):
    def __init__(self):
        super().__init__()
        self.batches: list[list[str]] = []

    def embed(self, texts, role):
        self.batches.append(list(texts))
        return super().embed(texts, role)


def test_several_questions_are_embedded_in_one_call_and_remembered():
    fake = BatchCountingEmbedder()
    v = Vectorizer(fake)
    whole, asking = v.queries(["你好，我是送外卖的，体检怎么报名", "体检怎么报名"])
    assert fake.batches == [["你好，我是送外卖的，体检怎么报名", "体检怎么报名"]]
    assert np.allclose(v.query("体检怎么报名"), asking) and len(fake.batches) == 1     # cached
    again = v.queries(["驿站在哪", "体检怎么报名", "驿站在哪"])
    assert fake.batches[-1] == ["驿站在哪"] and np.allclose(again[0], again[2])


def test_the_model_gives_a_batch_the_vectors_it_gives_one_text_at_a_time(vectors):
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    texts = ["你好，我是拱墅区的快递员，干了五年了，工会组织体检吗，怎么报名", "体检怎么报名"]
    together = vectors.embedder.embed(texts, QUERY)
    alone = np.stack([vectors.embedder.embed([t], QUERY)[0] for t in texts])
    assert together.shape == (2, vectors.dim)
    assert np.allclose(together, alone, atol=1e-6)


def test_seed_file_round_trip_is_read_only(tmp_path):
    fake = CountingEmbedder()
    vecs = dict(zip([text_key(PASSAGE, t) for t in "abc"], fake.embed(list("abc"), PASSAGE), strict=False))
    path = tmp_path / "seed.npz"
    SeedVectors.write(path, vecs)
    seed = SeedVectors(path)
    assert len(seed) == 3
    got = seed.get_many(list(vecs))
    assert all(np.allclose(got[k], vecs[k], atol=1e-3) for k in vecs)   # float16 on disk
    seed.put_many({"x": np.ones(8)})
    assert "x" not in seed.get_many(["x"])


def test_unreadable_seed_is_ignored(tmp_path, caplog):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with caplog.at_level(logging.WARNING):
        assert len(SeedVectors(bad)) == 0
    assert "unreadable" in caplog.text


def test_semantic_index_best_text_per_key_and_masks():
    vecs = np.eye(4, dtype=np.float32)
    index = SemanticIndex([0, 0, 1, 2], vecs)
    query = np.array([0.1, 0.9, 0.3, 0.0], dtype=np.float32)
    best, which = index.best_per_key(query)
    assert best[0] == pytest.approx(0.9) and which[0] == 1
    hits = index.search(query, None, limit=2)
    assert [h.key for h in hits] == [0, 1]
    hits = index.search(query, index.mask_of([1, 2]), limit=3)
    assert [h.key for h in hits] == [1, 2]


def test_model_that_cannot_load_means_lexical_only_said_once(monkeypatch, caplog):
    def broken():
        raise OSError("no such engine")

    monkeypatch.setattr(embedding, "E5Embedder", broken)
    monkeypatch.setattr(embedding, "_LOADED", {})
    with caplog.at_level(logging.WARNING):
        assert embedding.default_vectorizer() is None
        assert embedding.default_vectorizer() is None
    assert caplog.text.count("semantic retrieval is off") == 1


def test_engine_without_the_model_still_answers(lexical_engine):
    assert lexical_engine.semantic is None
    a = lexical_engine.answer("临平免费体检名额")
    assert a.matched and "20000" in a.answer


def test_shipped_seed_covers_every_text_the_engine_embeds(kb_files, vectors):
    """Whoever changes the knowledge files runs `python run_bot.py kb embed`; a stale seed only costs
    start-up time, but the shipped one should be whole."""
    if vectors is None:
        pytest.skip("the embedding model cannot load here")
    from bot.live_knowledge import load_categories
    from knowledge.engine import AnswerEngine
    counting = Vectorizer(vectors.embedder, vectors.stores)
    AnswerEngine(kb_files.entries(), kb_files.documents, kb_files.synonyms, load_categories(), vectors=counting)
    assert counting.embedded == 0, "knowledge/data/embeddings is stale: run `python run_bot.py kb embed`"


def test_a_short_question_is_embedded_on_one_core_a_long_one_or_a_batch_on_all(vectors):
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    embedder = vectors.embedder
    if embedder._set_threads is None:
        pytest.skip("the engine is not built with OpenMP here")
    calls: list[int] = []
    real = embedder._set_threads
    embedder._set_threads = calls.append
    try:
        embedder.embed(["体检怎么报名"], QUERY)
        embedder.embed(["你好，我是拱墅区的快递员，干了五年了，听说工会组织职工体检，想问问我们这种外卖快递的能不能参加"],
                       QUERY)
        embedder.embed(["体检", "疗休养"], QUERY)
    finally:
        embedder._set_threads = real
        real(embedder._threads)
    assert calls == [1, embedder._threads, embedder._threads]


def _unit(rows):
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def test_a_big_index_finds_what_scoring_every_row_finds_and_follows_edits():
    """Past EXACT_ROWS the index keeps float16 rows and scans a projection first; it must find the
    same best keys as the exact index, before and after an edit."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((800, 64))
    keys = np.repeat(np.arange(800), 6)
    vecs = _unit(centres[keys] + 0.4 * rng.standard_normal((len(keys), 64)))
    big, exact = SemanticIndex(list(keys), vecs, exact_rows=0), SemanticIndex(list(keys), vecs)
    assert not big.exact and exact.exact
    queries = [_unit(vecs[i] + 0.05 * rng.standard_normal(64)) for i in range(0, len(keys), 97)]
    for q in queries:
        found, truth = big.search(q, limit=3), exact.search(q, limit=3)
        assert found[0].key == truth[0].key and abs(found[0].cosine - truth[0].cosine) < 1e-2
    moved = _unit(queries[0] + 0.01 * rng.standard_normal(64))[None, :]
    for index in (big, exact):
        index.update(799, moved)                  # an edited entry now closest to the first query
        index.remove(truth_key := exact.search(queries[1], limit=1)[0].key)
    assert big.search(queries[0], limit=1)[0].key == 799 == exact.search(queries[0], limit=1)[0].key
    assert truth_key not in {h.key for h in big.search(queries[1], limit=10)}
    mask = big.mask_of(range(400))
    assert all(h.key < 400 for h in big.search(queries[2], mask, limit=10))


def test_openmp_threads_spin_briefly_at_a_barrier_instead_of_never_or_for_long(vectors):
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    # Set before the engine loaded (libgomp reads it once); a deployment's own setting would win.
    assert os.environ.get("GOMP_SPINCOUNT") == str(SPIN_COUNT)
    assert os.environ.get("OMP_WAIT_POLICY", "") != "PASSIVE"
