#!/usr/bin/env python3
"""The engine at a synthetic knowledge base's size: build time, peak memory, latency, an admin's edit.

    python bench/scale.py hybrid 100000      # one engine per process (its own peak memory); prints JSON
    python bench/engine_latency.py --entries 100000   # runs this for both engines and prints them side by side

Synthetic entries recombine the shipped phrasings with extra words (same vocabulary, more entries).
Embedding 600,000 phrasings for real takes about an hour on 2 cores, so they get synthetic vectors
with the embedding cache warm: the seed vector of the phrasing each was made from, plus a little
gaussian noise, renormalised (cosine ~0.96 to it). An edit's new texts are embedded for real, as in
the bot. The cold cost of a real base of this size is estimated from embedding a sample for real.
"""
from __future__ import annotations

import json
import os
import random
import resource
import statistics
import sys
import time
from array import array
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # as knowledge/__init__.py does; numpy loads first here
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.labelled import latency_questions  # noqa: E402
from bot.live_knowledge import load_categories  # noqa: E402
from knowledge.answer import tidy  # noqa: E402
from knowledge.embedding import PASSAGE, QUERY, SeedVectors, Vectorizer, load_embedder, seed_path, text_key  # noqa: E402
from knowledge.engine import AnswerEngine  # noqa: E402
from knowledge.indexing import settle_heap  # noqa: E402
from knowledge.kbfiles import load_all  # noqa: E402

NOISE = 0.3          # norm of the noise added to a unit vector


def synthetic(entries, n: int, seed: int = 7, made_from: SyntheticVectors | None = None):
    """n entries made by recombining the shipped phrasings with extra words, so postings grow
    the way a real, larger knowledge base's would (same vocabulary, more entries). `made_from`, if
    given, learns which shipped phrasing each new phrasing was made from."""
    rng = random.Random(seed)
    phrasings = [p for e in entries for p in (e.question, *e.alternates)]
    vocab = sorted({ch for p in phrasings for ch in p if "\u4e00" <= ch <= "\u9fff"})
    out = list(entries)
    while len(out) < n:
        base = rng.choice(entries)
        extra = lambda: "".join(rng.choice(vocab) for _ in range(rng.randint(2, 4)))  # noqa: E731
        sources = [rng.choice(phrasings) for _ in range(5)]
        alts = [s + extra() for s in sources]
        question = extra() + base.question + extra()
        if made_from is not None:
            for text, source in zip([question, *alts], [base.question, *sources], strict=True):
                made_from.add(text, source)
        out.append(replace(base, id=f"synthetic.{len(out)}", question=question, alternates=alts, keywords=[extra()]))
    return out


class SyntheticVectors:
    """A warm cache for synthetic phrasings: the seed vector of the phrasing each was made from, plus noise.

    Compact (sorted key bytes and a row number each) so the bench's own memory does not hide the engine's.
    """

    def __init__(self, seed: SeedVectors, dim: int):
        self._seed_index, self._seed = seed._index, seed._matrix
        self._new_keys, self._new_rows = bytearray(), array("i")
        self._keys = np.zeros(0, dtype="S40")
        self._noise = np.random.default_rng(7).standard_normal((4096, dim)).astype(np.float32) * (NOISE / dim ** 0.5)

    def add(self, text: str, source: str) -> None:
        row = self._seed_index.get(text_key(QUERY, source))
        if row is not None:
            self._new_keys += text_key(QUERY, text).encode()
            self._new_rows.append(row)

    def freeze(self) -> None:
        keys = np.frombuffer(bytes(self._new_keys), dtype="S40")
        order = np.argsort(keys, kind="stable")
        self._keys, self._rows = keys[order], np.frombuffer(self._new_rows, dtype=np.int32)[order]
        self._new_keys, self._new_rows = bytearray(), array("i")

    def get_many(self, keys):
        if not len(self._keys) or not keys:
            return {}
        wanted = np.array(keys, dtype="S40")
        at = np.minimum(np.searchsorted(self._keys, wanted), len(self._keys) - 1)
        hit = np.flatnonzero(self._keys[at] == wanted)
        if not len(hit):
            return {}
        vecs = self._seed[self._rows[at[hit]]].astype(np.float32)
        vecs += self._noise[[int(keys[i][:8], 16) % 4096 for i in hit]]
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return {keys[i]: v for i, v in zip(hit, vecs, strict=True)}

    def put_many(self, items) -> None:
        """Read-only (an edit's vectors stay in the Vectorizer's memory)."""


def latency(engine: AnswerEngine, qs: list[str], rounds: int = 3) -> tuple[float, float]:
    """p50 and p99 ms per question with no decision cache (every question retrieved and decided) and the
    questions' embeddings cached: a round first embeds them (and fills the pinyin cache). Several timed
    rounds, so that p99 of the 90 chatty messages is not simply the slowest single run."""
    for q in qs:
        engine.answer(q)
    samples = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            engine.answer(q)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def embedding_ms(engine: AnswerEngine, qs: list[str]) -> float:
    """What embedding a question costs (median over 20): the text the engine embeds for it. The same at
    any knowledge-base size."""
    samples = []
    for q in qs[:: max(1, len(qs) // 20)][:20]:
        texts = [engine.reader.read(q).semantic_text]
        t0 = time.perf_counter()
        engine.vectors.embedder.embed(texts, QUERY)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def edits(engine: AnswerEngine, entries, files) -> dict[str, float]:
    """ms to apply one changed, one added and one retired entry in place (new texts embedded for real)."""
    out = {}
    target = entries[len(entries) // 2]
    changed = replace(target, alternates=[*target.alternates, "新的问法：夜班职工也能申请吗"],
                      answer=target.answer + "（已更新）")
    added = replace(entries[0], id="zz.bench.added", question="基层工会新入会职工的慰问金怎么领",
                    alternates=["新会员慰问金", "刚入会的慰问怎么申请"], keywords=["入会慰问"])
    steps = {"change": [changed if e is target else e for e in entries]}
    steps["add"] = [*steps["change"], added]
    steps["remove"] = [e for e in steps["add"] if e.id != entries[1].id]
    for version, (name, new) in enumerate(steps.items(), start=1):
        t0 = time.perf_counter()
        ok = engine.apply(new, files.documents, files.synonyms, version)
        out[name] = (time.perf_counter() - t0) * 1000
        assert ok, name
    assert engine.answer("基层工会新入会职工的慰问金怎么领").faq_id == "zz.bench.added"
    return out


def cold_estimate(embedder, entries, n: int) -> dict[str, float]:
    """Embeds ~50 real phrasings and 10 answers cold; the cost of a real base of n entries embedded cold."""
    phrasings = [p for e in entries for p in (e.question, *e.alternates)]
    sample = phrasings[:: max(1, len(phrasings) // 50)][:50]
    answers = [tidy(e.answer) for e in entries[:: max(1, len(entries) // 10)]][:10]
    t0 = time.perf_counter()
    for p in sample:
        embedder.embed([p], QUERY)
    per_q = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    for a in answers:
        embedder.embed([a], PASSAGE)
    per_a = (time.perf_counter() - t0) / len(answers)
    per_entry = len(phrasings) / len(entries)
    return {"phrasing_ms": per_q * 1000, "answer_ms": per_a * 1000,
            "cold_s": n * (per_entry * per_q + per_a), "phrasings": n * per_entry}


def run(mode: str, n: int) -> dict:
    files = load_all()
    cats = load_categories()
    shipped = files.entries()
    vectors = store = None
    if mode == "hybrid":
        embedder = load_embedder()
        seed = SeedVectors(seed_path(embedder.model_id))
        store = SyntheticVectors(seed, embedder.dim)
        vectors = Vectorizer(embedder, [seed, store], query_cache=10_000)
    entries = synthetic(shipped, n, made_from=store)
    if store is not None:
        store.freeze()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    engine = AnswerEngine(entries, files.documents, files.synonyms, cats, vectors=vectors, decision_cache=0)
    settle_heap(len(entries))           # as the bot does after a build (bot.live_knowledge)
    build = time.perf_counter() - t0
    sets = latency_questions()
    out = {"mode": mode, "entries": n, "build_s": build, "rss_before_mb": rss_before,
           "embedded_at_build": vectors.embedded if vectors else 0}
    for name, qs in sets.items():
        out[name] = latency(engine, qs)
    out["edit_ms"] = edits(engine, entries, files)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if mode == "hybrid":
        out["cold"] = cold_estimate(vectors.embedder, shipped, n)
        out["embed_ms"] = {name: embedding_ms(engine, qs) for name, qs in sets.items()}
    return out


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]))))
