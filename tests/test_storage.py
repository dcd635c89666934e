"""Storage: migrations and the knowledge import on SQLite and PostgreSQL."""
from dataclasses import replace

import pytest
from sqlalchemy import inspect, text

from bot.db import Database
from bot.repositories import LoggedQuery, Repositories
from bot.setup import InvalidKnowledge, import_files
from knowledge.kbfiles import export_entries, load_all

TABLES = {"faq_entries", "synonyms", "source_documents", "stations", "user_preferences", "query_log",
          "audit_log", "feedback", "admins", "kb_meta"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    """A fresh migrated database: a SQLite file, or a PostgreSQL database created and dropped here."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'store.db'}")
        db.migrate()
        yield db
        db.dispose()
        return
    db = Database(request.getfixturevalue("pg_url"))
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def test_migrations_create_every_table_and_are_idempotent(database):
    database.migrate()
    assert TABLES <= set(inspect(database.engine).get_table_names())


def test_import_is_idempotent_and_bumps_the_version_once(database):
    repos = Repositories(database)
    files = load_all()
    first = import_files(repos, files)
    assert len(first.added) == len(files.faq_raw)
    v1 = repos.knowledge.version()
    second = import_files(repos, files)
    assert not second.changed and second.unchanged == len(files.faq_raw)
    assert repos.knowledge.version() == v1
    snap = repos.knowledge.snapshot()
    assert len(snap.entries) == len(files.faq_raw) and len(snap.documents) == 5 and snap.synonyms


def test_an_admin_edit_survives_reimport_and_force_overwrites(database):
    repos = Repositories(database)
    files = load_all()
    import_files(repos, files)
    entry = files.entries()[0]
    repos.knowledge.save_entry(replace(entry, answer=entry.answer + "（管理员补充）"), actor="admin:1")
    changed_file = [(name, dict(raw, question=raw["question"] + "？")) if raw["id"] == entry.id else (name, raw)
                    for name, raw in files.faq_raw]
    files.faq_raw = changed_file
    report = import_files(repos, files)
    assert report.conflicts == [entry.id]
    assert repos.knowledge.get_entry(entry.id).answer.endswith("（管理员补充）")
    report = import_files(repos, files, force=True)
    assert report.updated == [entry.id]
    assert not repos.knowledge.get_entry(entry.id).answer.endswith("（管理员补充）")


def test_an_invalid_file_changes_nothing(database):
    repos = Repositories(database)
    files = load_all()
    files.faq_raw[3] = (files.faq_raw[3][0], dict(files.faq_raw[3][1], district="不存在区"))
    with pytest.raises(InvalidKnowledge) as err:
        import_files(repos, files)
    assert any("未知的区县" in str(p) for p in err.value.problems)
    assert repos.knowledge.count_entries() == 0 and repos.knowledge.version() == 0


def test_save_entry_is_audited_with_before_and_after(database):
    repos = Repositories(database)
    import_files(repos)
    entry = repos.knowledge.all_entries()[0]
    v = repos.knowledge.version()
    repos.knowledge.save_entry(replace(entry, answer="新的回答"), actor="admin:42")
    assert repos.knowledge.version() == v + 1
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT actor, action, before, after FROM audit_log WHERE target_id = :i "
                                "ORDER BY id DESC"), {"i": entry.id}).first()
    assert row.actor == "admin:42" and row.action == "update"


def test_preferences_and_query_log(database):
    repos = Repositories(database)
    assert repos.preferences.district_of(7) is None
    repos.preferences.set_district(7, "临平区")
    repos.preferences.set_district(7, "建德市")
    assert repos.preferences.district_of(7) == "建德市"
    qid = repos.queries.record(LoggedQuery("怎么煮咖啡", None, False, "out_of_scope", None, 12.5, user_id=7))
    assert qid > 0
    assert [q for q, _, _ in repos.queries.recent_unanswered()] == ["怎么煮咖啡"]


def test_a_failed_transaction_leaves_nothing_behind(database):
    repos = Repositories(database)
    with pytest.raises(RuntimeError):
        with database.transaction() as s:
            from bot.models import UserPreferenceRow
            s.add(UserPreferenceRow(user_id=99, district="临平区"))
            s.flush()
            raise RuntimeError("boom")
    assert repos.preferences.district_of(99) is None


def test_export_round_trips(database, tmp_path):
    repos = Repositories(database)
    import_files(repos)
    before = {e.id: e.content() for e in repos.knowledge.all_entries()}
    export_entries(repos.knowledge.all_entries(), tmp_path / "faq")
    data = tmp_path / "data"
    data.mkdir()
    import shutil

    from knowledge.kbfiles import DATA_DIR
    for name in ("sources.yaml", "categories.yaml", "synonyms.yaml"):
        shutil.copy(DATA_DIR / name, data / name)
    shutil.copytree(DATA_DIR / "sources", data / "sources")
    shutil.copytree(tmp_path / "faq", data / "faq")
    again = {e.id: e.content() for e in load_all(data).entries()}
    assert again == before


def test_conversation_turns_and_bot_persistence_are_stored_and_replaced(database):
    """The bot's own state on both databases: upserts replace, None deletes, old conversations purge."""
    repos = Repositories(database)
    turn = {"question": "临平读大专有补贴吗", "district": "临平区", "faq_id": "x", "category": "学历提升",
            "kind": "faq", "topic": "", "at": 1.0}
    repos.conversations.write({"1": [turn], "-5:7": [turn, turn]})
    repos.conversations.write({"1": [turn, {**turn, "question": "那富阳呢"}], "-5:7": None})
    assert [t["question"] for t in repos.conversations.get("1")] == ["临平读大专有补贴吗", "那富阳呢"]
    assert repos.conversations.get("-5:7") == [] and repos.conversations.purge(-60) == 1
    assert repos.conversations.get("1") == []
    repos.persistence.save("user_data", {"9001": {"admin_draft": {"kind": "entry"}}, "9002": {"a": [1]}})
    repos.persistence.save("user_data", {"9001": {"admin_draft": {"kind": "station"}}, "9002": None})
    assert repos.persistence.load("user_data") == {"9001": {"admin_draft": {"kind": "station"}}}
