"""After a big build the garbage collector leaves the indexes alone (knowledge.indexing.settle_heap)."""
from __future__ import annotations

import gc
import weakref

from bot import live_knowledge
from knowledge.indexing import SETTLE_ENTRIES, settle_heap


class Node:
    pass


def test_a_big_build_leaves_nothing_young_and_thaws_what_an_earlier_build_froze():
    try:
        kept = Node()
        kept.me = kept                       # a cycle: only the collector can free it
        gone = weakref.ref(kept)
        young = [Node() for _ in range(2000)]
        assert settle_heap(SETTLE_ENTRIES)
        assert gc.get_freeze_count() > len(young) and len(gc.get_objects(0)) < 100
        del kept
        gc.collect()
        assert gone() is not None            # frozen: no pass looks at it
        assert settle_heap(SETTLE_ENTRIES)   # the next build thaws it first
        assert gone() is None
    finally:
        gc.unfreeze()


def test_a_small_build_is_left_to_the_collector():
    assert not settle_heap(SETTLE_ENTRIES - 1)
    assert gc.get_freeze_count() == 0


def test_the_bot_settles_the_heap_after_indexing(app, monkeypatch):
    sizes: list[int] = []
    monkeypatch.setattr(live_knowledge, "settle_heap", sizes.append)
    engine = app.knowledge.invalidate()
    assert sizes == [len(engine.by_id)]
