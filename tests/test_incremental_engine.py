"""An admin's edit applied in place (AnswerEngine.apply) answers exactly as a rebuild of the new version.

Edits at the scale the bot sees them: one entry changed, one added, one retired, and all three at once;
on the shipped knowledge base, hybrid and lexical-only, over a spread of real questions.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.live_knowledge import load_categories
from knowledge.engine import AnswerEngine
from knowledge.model import FaqEntry

DATA = Path(__file__).resolve().parent / "data"


def _questions() -> list[tuple[str, str | None]]:
    out = []
    for name in ("labelled_questions.jsonl", "chat_questions.jsonl"):
        rows = [json.loads(x) for x in (DATA / name).read_text("utf-8").splitlines() if x.strip()]
        out += [(r["q"], r.get("district")) for r in rows[::6]]
    return out


QUESTIONS = _questions()


def _reply(engine: AnswerEngine, q: str, district: str | None):
    """What the user sees. The score to 3 decimals: an entry added before others (the rebuild gives it the
    first key) moves every vector's row, and float32 products round by row position (1e-6 of a score)."""
    a = engine.answer(q, district)
    return a.faq_id, a.kind, a.answer, round(a.score, 3), [s.faq_id for s in a.related], \
        [s.faq_id for s in a.suggestions]


def _edits(entries: list[FaqEntry]) -> dict[str, list[FaqEntry]]:
    by_id = {e.id: e for e in entries}
    health = next(e for e in entries if "体检" in e.question)
    changed = replace(health, alternates=[*health.alternates, "工会安排的身体检查每年几次"],
                      answer=health.answer + "（以当年通知为准）")
    added = replace(health, id="zz.test.added", question="职工疗休养每年可以去几天",
                    alternates=["疗休养天数"], keywords=["疗休养天数"], district=None)
    retired = next(e for e in entries if e.id != health.id and e.district is not None)
    early = replace(added, id="aa.test.added")       # sorts first: a rebuild gives it the first key
    return {
        "changed": [changed if e.id == health.id else e for e in entries],
        "added": [*entries, added],
        "added first": [early, *entries],
        "retired": [e for e in entries if e.id != retired.id],
        "all three": [changed if e.id == health.id else e for e in entries if e.id != retired.id] + [added],
        "back again": list(by_id.values()),
    }


@pytest.mark.parametrize("semantic", [True, False], ids=["hybrid", "lexical"])
def test_an_edit_applied_in_place_answers_as_a_rebuild(kb_files, vectors, semantic):
    if semantic and vectors is None:
        pytest.skip("the embedding model cannot load here")
    vec = vectors if semantic else None
    cats = load_categories()
    entries = kb_files.entries()
    live = AnswerEngine(entries, kb_files.documents, kb_files.synonyms, cats, vectors=vec)
    for version, (name, new) in enumerate(_edits(entries).items(), start=1):
        assert live.apply(new, kb_files.documents, kb_files.synonyms, version), name
        fresh = AnswerEngine(new, kb_files.documents, kb_files.synonyms, cats, version=version, vectors=vec)
        assert live.version == version and len(live.entries) == len(fresh.entries)
        differ = [q for q, d in QUESTIONS if _reply(live, q, d) != _reply(fresh, q, d)]
        assert not differ, f"{name}: {len(differ)} of {len(QUESTIONS)} answers differ, e.g. {differ[:3]}"
        for q in ("职工疗休养每年可以去几天", "工会安排的身体检查每年几次"):
            assert _reply(live, q, None) == _reply(fresh, q, None), (name, q)
        assert sorted(e.id for e in live.entries_in(entries[0].category)) == \
            sorted(e.id for e in fresh.entries_in(entries[0].category))
        assert live.topics() == fresh.topics()


def test_a_rebuild_is_asked_for_when_documents_synonyms_or_many_entries_change(kb_files):
    cats = load_categories()
    entries = kb_files.entries()
    engine = AnswerEngine(entries, kb_files.documents, kb_files.synonyms, cats)
    assert not engine.apply(entries, kb_files.documents[1:], kb_files.synonyms, 1)
    assert not engine.apply(entries, kb_files.documents, [*kb_files.synonyms, ["甲", "乙"]], 1)
    many = [replace(e, answer=e.answer + "。") for e in entries]
    assert not engine.apply(many, kb_files.documents, kb_files.synonyms, 1)
    assert engine.version == 0
    assert engine.apply(entries, kb_files.documents, kb_files.synonyms, 2) and engine.version == 2
