"""The lexical index's large-size paths give the small-size results: numpy candidate accumulation, and
edits in place (update / remove) against a fresh index."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge import phrasing_index
from knowledge.matcher import PhrasingIndex, TextPreparer
from knowledge.normalize import SynonymMap

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def shipped(kb_files):
    prep = TextPreparer(SynonymMap(kb_files.synonyms))
    entries = kb_files.entries()
    items = [(i, prep.prepare(t)) for i, e in enumerate(entries) for t in (e.question, *e.alternates, *e.keywords)]
    context = [(i, prep.prepare(t)) for i, e in enumerate(entries) for t in (e.answer, *(s.quote for s in e.sources))]
    rows = [json.loads(x) for x in (DATA / "labelled_questions.jsonl").read_text("utf-8").splitlines() if x.strip()]
    chat = [json.loads(x) for x in (DATA / "chat_questions.jsonl").read_text("utf-8").splitlines() if x.strip()]
    queries = [prep.prepare(r["q"]) for r in rows[::3] + chat[::5]]
    return entries, items, context, queries


def _hits(index, queries, allowed=None):
    return [[(h.key, h.score, h.coverage, h.phrasing) for h in index.search(q, allowed, 12)] for q in queries]


def test_numpy_candidates_find_what_the_loop_finds(shipped, monkeypatch):
    entries, items, context, queries = shipped
    index = PhrasingIndex(items, context=context)
    mask = np.array([e.district in (None, "临平区") for e in entries])
    loop = _hits(index, queries), _hits(index, queries, mask)
    monkeypatch.setattr(phrasing_index, "NUMPY_KEYS", 0)
    assert (_hits(index, queries), _hits(index, queries, mask)) == loop


def test_numpy_cut_among_equals_matches_the_loop(shipped, monkeypatch):
    _, items, context, queries = shipped
    index = PhrasingIndex(items, context=context)
    monkeypatch.setattr(phrasing_index, "MAX_CANDIDATES", 8)
    loop = _hits(index, queries)
    monkeypatch.setattr(phrasing_index, "NUMPY_KEYS", 0)
    assert _hits(index, queries) == loop


def test_edits_in_place_score_as_a_fresh_index(shipped):
    _, items, context, queries = shipped
    index = PhrasingIndex(items, context=context)
    keys = sorted({k for k, _ in items})
    gone, changed = keys[5], keys[40]
    new_items = [(k, p) for k, p in items if k != gone]
    moved = [p for k, p in items if k == keys[41]]
    new_items = [(k, p) for k, p in new_items if k != changed] + [(changed, p) for p in moved]
    new_items.sort(key=lambda kp: kp[0])
    new_context = [(k, p) for k, p in context if k != gone]
    index.remove(gone)
    index.update(changed, moved, [p for k, p in context if k == changed])
    fresh = PhrasingIndex(new_items, context=new_context)
    assert _hits(index, queries) == _hits(fresh, queries)
    assert len(index) == len(fresh)


def test_coverage_read_off_the_strings_equals_the_sets(shipped):
    """Keys not in the set cache are covered from their joined strings: the very same float, for every key
    and question, including keys with no phrasing context and questions with a single syllable."""
    _, items, context, queries = shipped
    index = PhrasingIndex(items, context=[kp for kp in context if kp[0] % 7])    # some keys without context
    keys = sorted(index._keys)
    asked = [q for q in queries if q.code]
    one = replace(asked[0], text=asked[0].text[:1], code=asked[0].code[:1])
    for q in [*asked, one]:
        index._cache.clear()
        from_text = index._coverages(q, keys)
        for k in keys:
            index._sets(k)
        assert index._coverages(q, keys) == from_text
    assert any(v > 0 for v in from_text.values())
