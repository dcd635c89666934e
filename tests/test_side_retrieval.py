"""A big index's semantic retrieval runs beside the lexical one for a long message (AnswerEngine._decide):
the same replies as one after the other, and nothing left running once the answer is given."""
from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import Future

import pytest

from bench.labelled import latency_questions
from bot.live_knowledge import load_categories
from knowledge import engine as engine_module
from knowledge import semantic
from knowledge.engine import AnswerEngine

# Settled by the lexical matcher alone (the cascade): the side work started for it is not used.
SETTLED_LONG = ("你好！我是拱墅区一家企业的工会主席，想问问区里前阵子那个会员实名制的攻坚行动，"
                "听说十几天就新增了好多人，具体是多少来着？年底总结要用")


class InlinePool:
    """Runs the side work at once, in the caller's thread: the sequential order, for comparison."""

    def submit(self, fn, *args):
        f: Future = Future()
        f.set_result(fn(*args))
        return f


@pytest.fixture(scope="module")
def big(kb_files, vectors):
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    mp = pytest.MonkeyPatch()
    mp.setattr(semantic, "EXACT_ROWS", 0)           # the shipped base indexed as a big one is
    engine = AnswerEngine(kb_files.entries(), kb_files.documents, kb_files.synonyms, load_categories(),
                          vectors=vectors, decision_cache=0)
    mp.undo()
    assert not engine.semantic.exact
    return engine


def test_a_long_message_is_retrieved_semantically_on_another_thread_with_the_same_replies(big, monkeypatch):
    threads: list[str] = []
    real = big._semantic_hits

    def recording(q):
        threads.append(threading.current_thread().name)
        return real(q)

    monkeypatch.setattr(big, "_semantic_hits", recording)
    chatty = latency_questions()["chatty"][::9]
    beside = [big.answer(q) for q in chatty]
    assert threads and all(name.startswith("semantic-retrieval") for name in threads)
    monkeypatch.setattr(engine_module, "side_pool", InlinePool)
    threads.clear()
    after = [big.answer(q) for q in chatty]
    assert threads and all(name == threading.current_thread().name for name in threads)
    assert [(a.answer, a.faq_id) for a in beside] == [(a.answer, a.faq_id) for a in after]


def test_a_short_question_or_a_small_index_is_retrieved_in_order(big, engine, monkeypatch):
    monkeypatch.setattr(engine_module, "side_pool", lambda: pytest.fail("side work started"))
    assert big.answer("临平区职工疗休养怎么报名").matched
    assert engine.semantic.exact
    engine.answer(latency_questions()["chatty"][0])


def test_side_work_is_finished_before_the_answer_returns_even_when_unused(big, monkeypatch):
    done: list[float] = []
    real = big._semantic_hits

    def slow(q):
        time.sleep(0.2)
        out = real(q)
        done.append(time.perf_counter())
        return out

    monkeypatch.setattr(big, "_semantic_hits", slow)
    a = big.answer(SETTLED_LONG)
    returned = time.perf_counter()
    assert a.matched
    assert done and done[0] <= returned          # an edit may follow the answer: nothing still reads the index


def test_side_work_gets_the_gil_back_within_a_millisecond(big):
    from knowledge.indexing import SWITCH_INTERVAL
    big.answer(latency_questions()["chatty"][0])
    assert sys.getswitchinterval() <= SWITCH_INTERVAL
