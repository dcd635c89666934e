"""A start reads the knowledge files only when they changed since the last clean import: reading and
validating them was most of a one-shot `run_bot.py ask`."""
from __future__ import annotations

import shutil

import pytest

import bot.setup as setup
from bot.config import load_settings
from bot.setup import open_app
from knowledge.kbfiles import DATA_DIR, fingerprint


def _start(url: str):
    app = open_app(load_settings(DATABASE_URL=url, _env_file=None))
    app.db.dispose()
    return app


def test_unchanged_files_are_not_read_again_and_changed_ones_are(db_url, monkeypatch):
    reads = []
    real = setup.load_all
    monkeypatch.setattr(setup, "load_all", lambda *a, **k: reads.append(1) or real(*a, **k))
    _start(db_url)
    assert len(reads) == 1                       # a new database: imported
    _start(db_url)
    assert len(reads) == 1                       # the same files: not even read
    monkeypatch.setattr(setup, "fingerprint", lambda: fingerprint() ^ 1)    # a file changed
    app = _start(db_url)
    assert len(reads) == 2
    assert app.repos.knowledge.imported_fingerprint() == fingerprint() ^ 1


def test_an_import_that_kept_an_admins_edit_is_reported_at_every_start(db_url, monkeypatch):
    app = _start(db_url)
    entry = app.repos.knowledge.all_entries()[0]
    app.repos.knowledge.save_entry(entry.__class__(**{**vars(entry), "answer": entry.answer + "（管理员改过）"}),
                                   actor="admin:1")
    real = setup.load_all

    def changed_file(*a, **k):
        files = real(*a, **k)
        raw = next(r for _, r in files.faq_raw if r["id"] == entry.id)
        raw["answer"] = raw["answer"] + "（文件也改了）"
        return files

    monkeypatch.setattr(setup, "load_all", changed_file)
    monkeypatch.setattr(setup, "fingerprint", lambda: 42)
    first = setup._import_changed_files(app.repos)
    assert first is not None and first.conflicts == [entry.id]
    again = setup._import_changed_files(app.repos)
    assert again is not None and again.conflicts == [entry.id]      # not recorded: still said
    assert app.repos.knowledge.imported_fingerprint() != 42


def test_the_fingerprint_follows_every_file_the_import_reads(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("embeddings"))
    before = fingerprint(data)
    assert fingerprint(data) == before
    for name in ("faq/fuyang.yaml", "synonyms.yaml", "sources.yaml", next(
            str(p.relative_to(data)) for p in (data / "sources").glob("*.txt"))):
        path = data / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert fingerprint(data) != before, name
        path.write_bytes(original)
    assert fingerprint(data) == before
    (data / "faq" / "new.yaml").write_text("entries: []\n", "utf-8")
    assert fingerprint(data) != before


@pytest.mark.parametrize("decoy", ["decision.json", "STATIONS.md"])
def test_files_the_import_does_not_read_leave_it_alone(tmp_path, decoy):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("embeddings"))
    before = fingerprint(data)
    (data / decoy).write_text("changed", "utf-8")
    assert fingerprint(data) == before


def test_kb_import_of_another_directory_is_undone_by_the_next_start_as_before(db_url, tmp_path, capsys, monkeypatch):
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", db_url)
    _start(db_url)
    other = tmp_path / "other"
    shutil.copytree(DATA_DIR, other, ignore=shutil.ignore_patterns("embeddings"))
    path = other / "faq" / "fuyang.yaml"
    text = path.read_text("utf-8").replace("文中没有写明活动安排和参与方式", "文中没有写明活动的安排")
    path.write_text(text, "utf-8")
    assert cli.main(["kb", "import", "--data-dir", str(other)]) == 0
    assert "1 updated" in capsys.readouterr().out
    assert cli.main(["kb", "import", "--data-dir", str(other)]) == 0
    app = _start(db_url)                          # the shipped files again: re-imported
    assert not any("没有写明活动的安排" in e.answer for e in app.repos.knowledge.all_entries())
