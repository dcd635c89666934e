"""The last admin is never removed, even when two admins remove each other at the same moment."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.repositories import Repositories
from tests.test_first_start import _together

TRIALS = 20


def _mutual_removals(url: str, ids: list[int]) -> None:
    """Each admin removes the next one, all at once, TRIALS times; at least one admin must remain."""
    dbs = [Database(url) for _ in ids]
    repos = [Repositories(db) for db in dbs]
    repos[0].db.migrate()
    try:
        for trial in range(TRIALS):
            with dbs[0].engine.begin() as conn:
                conn.execute(text("DELETE FROM admins"))
            repos[0].admins.ensure(ids, added_by="test")
            results: dict[int, bool] = {}
            jobs = [(r, ids[(i + 1) % len(ids)], ids[i]) for i, r in enumerate(repos)]
            free = list(jobs)

            def remove(free=free, results=results):
                r, target, actor = free.pop()
                results[target] = r.admins.remove(target, removed_by=f"telegram:{actor}")

            errors = _together(len(ids), remove)
            assert not errors, repr(errors[0])
            left = repos[0].admins.list()
            assert len(left) >= 1, f"trial {trial}: no admin left ({results})"
            assert len(left) == len(ids) - sum(results.values()), f"trial {trial}: {results} vs {left}"
    finally:
        for db in dbs:
            db.dispose()


def test_two_admins_removing_each_other_on_sqlite_leave_one(tmp_path):
    _mutual_removals(f"sqlite:///{tmp_path / 'admins.db'}", [101, 202])


def test_three_admins_removing_in_a_circle_on_sqlite_leave_one(tmp_path):
    _mutual_removals(f"sqlite:///{tmp_path / 'admins3.db'}", [101, 202, 303])


@pytest.mark.postgres
def test_two_admins_removing_each_other_on_postgres_leave_one(pg_url):
    _mutual_removals(pg_url, [101, 202])


@pytest.mark.postgres
def test_three_admins_removing_in_a_circle_on_postgres_leave_one(pg_url):
    _mutual_removals(pg_url, [101, 202, 303])
