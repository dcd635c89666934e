"""The cascade: a question the lexical matcher alone settles surely is answered without embedding it,
with the very reply the hybrid engine gives (the level is fitted by bench/fit_decision.py --cascade)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bench.labelled import latency_questions
from bot.live_knowledge import load_categories
from knowledge.decision import DecisionParams
from knowledge.embedding import Vectorizer
from knowledge.engine import AnswerEngine


class CountingVectorizer(Vectorizer):
    def __init__(self, base: Vectorizer):
        super().__init__(base.embedder, base.stores, query_cache=0)
        self.asked: list[str] = []

    def queries(self, texts):
        self.asked.extend(texts)
        return super().queries(texts)


@pytest.fixture(scope="module")
def engines(kb_files, vectors):
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    shipped = DecisionParams.load()
    assert shipped.hybrid.cascade <= 1.0, "the shipped decision has no cascade level"
    off = replace(shipped, hybrid=replace(shipped.hybrid, cascade=2.0))

    def build(params):
        return AnswerEngine(kb_files.entries(), kb_files.documents, kb_files.synonyms, load_categories(),
                            vectors=CountingVectorizer(vectors), params=params, decision_cache=0)
    return build(shipped), build(off)


def test_a_plainly_worded_question_is_answered_without_embedding_it(engines):
    on, _ = engines
    on.vectors.asked.clear()
    a = on.answer("临平区职工免费体检有多少名额")
    assert a.matched and "20000" in a.answer
    assert on.vectors.asked == []


def test_a_chatty_message_is_still_embedded(engines):
    on, _ = engines
    on.vectors.asked.clear()
    on.answer("老师你好，我是富阳一所中学的老师，听说工会有个开学第一课的活动，会请劳模工匠来学校给孩子们讲，"
              "去年一共搞了几场啊？")
    assert on.vectors.asked


def test_the_semantic_retrieval_reuses_the_cascades_lexical_scores_exactly(engines):
    on, _ = engines
    for q in latency_questions()["chatty"][::6]:
        question = on.reader.read(q)
        fresh = on.retrieve(question).candidates
        hits = on.lexical_hits(question)
        on.retrieve(question, semantic=False, lexical=hits)        # the cascade's step fills `hits`
        assert on.retrieve(question, lexical=hits).candidates == fresh, q


def test_the_cascade_changes_no_reply(engines):
    on, off = engines
    sets = latency_questions()
    questions = sets["short"][::3] + sets["chatty"][::3]
    skipped = 0
    for q in questions:
        on.vectors.asked.clear()
        mine = on.answer(q)
        skipped += not on.vectors.asked
        assert mine.answer == off.answer(q).answer, q
    assert skipped >= len(questions) // 5          # and it does skip a fair share of them
