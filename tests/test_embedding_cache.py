"""The embedding cache in the database: a restart and an admin edit do not re-embed the knowledge base."""
from dataclasses import replace

import pytest

from bot.admin import AdminService
from bot.config import load_settings
from bot.embedding_store import EmbeddingStore
from bot.setup import open_app

NEW_PHRASING = "临平上班的人每年能免费查几次身体"


@pytest.fixture
def semantic_app(app):
    if app.knowledge.vectors is None:
        pytest.skip("the embedding model cannot load here")
    return app


def test_shipped_knowledge_comes_from_the_seed_and_an_edit_embeds_only_its_new_text(semantic_app, db_url):
    app = semantic_app
    assert app.knowledge.engine.semantic is not None
    vectors = app.knowledge.vectors
    assert vectors.embedded == 0                       # everything shipped is in the seed
    store = EmbeddingStore(app.db, vectors.model_id)
    assert store.count() == 0

    svc = AdminService(app)
    entry = svc.get("linping.health-check.quota")
    svc.save(replace(entry, alternates=[*entry.alternates, NEW_PHRASING]), actor=7)
    assert vectors.embedded == 1                       # the new phrasing, nothing else
    assert store.count() == 1
    assert app.knowledge.engine.answer(NEW_PHRASING).faq_id == entry.id

    # A restart (a new process on the same database): the edited text comes from the table.
    again = open_app(load_settings(DATABASE_URL=db_url, _env_file=None))
    try:
        assert again.knowledge.engine.semantic is not None
        assert again.knowledge.vectors.embedded == 0
        assert again.knowledge.engine.answer(NEW_PHRASING).faq_id == entry.id
    finally:
        again.db.dispose()


def test_the_bot_runs_lexical_only_when_the_model_is_off(db_url):
    app = open_app(load_settings(DATABASE_URL=db_url, EMBEDDING_MODEL="off", _env_file=None))
    try:
        assert app.knowledge.vectors is None and app.knowledge.engine.semantic is None
        assert app.knowledge.engine.answer("临平免费体检名额").matched
    finally:
        app.db.dispose()


def test_a_broken_cache_table_costs_time_not_answers(semantic_app, caplog):
    store = EmbeddingStore(semantic_app.db, "m")
    semantic_app.db.dispose()
    with semantic_app.db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE embedding_cache")
    assert store.get_many(["k"]) == {}
    import numpy as np
    store.put_many({"k": np.ones(4, dtype=np.float32)})
    assert "embedding cache" in caplog.text
