"""The inbox's storage (bot.inbox) on SQLite and PostgreSQL: recorded once, handled in order, locked per chat."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.inbox import InboxRepository

BOT = 1234


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def inbox(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'inbox.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    db.migrate()
    yield InboxRepository(db).for_bot(BOT)
    db.dispose()


def test_a_redelivered_update_is_not_new_and_bots_sharing_a_database_do_not_collide(inbox):
    assert inbox.record([(1, 10, "{}"), (2, 10, "{}"), (3, 11, "{}")]) == [1, 2, 3]
    assert inbox.record([(2, 10, "{}"), (4, 11, "{}"), (4, 11, "{}")]) == [4]
    other = InboxRepository(inbox.db).for_bot(BOT + 1)
    assert other.record([(1, 10, "{}")]) == [1]               # the same update_id of another bot
    assert inbox.counts() == {"pending": 4} and other.counts() == {"pending": 1}
    with pytest.raises(RuntimeError):
        InboxRepository(inbox.db).record([(5, 10, "{}")])      # an inbox belongs to one bot


def test_a_chats_updates_come_oldest_first_and_a_waiting_retry_holds_the_later_ones(inbox):
    inbox.record([(7, 10, "a"), (5, 10, "b"), (6, 11, "c")])
    assert inbox.due_chats() == [10, 11]
    slot = inbox.slot()
    try:
        first = slot.next_item(10)
        assert (first.update_id, first.payload, first.state) == (5, "b", "pending")
        slot.mark_sending(5)
        assert slot.next_item(10).state == "sending"          # still open until finished
        slot.finish(5)
        assert slot.next_item(10).update_id == 7
        slot.retry_later(7, 60, "retry: NotDelivered")
        assert slot.next_item(10) is None and inbox.due_chats() == [11]
        row = inbox.get(7)
        assert (row.state, row.attempts, row.note) == ("pending", 1, "retry: NotDelivered")
        slot.retry_later(7, -1, "retry: NotDelivered")        # due again
        assert slot.next_item(10).attempts == 2
    finally:
        slot.close()


def test_done_rows_are_pruned_after_two_days(inbox):
    inbox.record([(1, 10, "{}"), (2, 10, "{}")])
    slot = inbox.slot()
    slot.finish(1)
    slot.close()
    with inbox.db.transaction() as s:
        s.execute(text("UPDATE inbox SET done_at = :t WHERE update_id = 1"),
                  {"t": "2000-01-01 00:00:00" if not inbox.postgres else "2000-01-01T00:00:00+00:00"})
    assert inbox.prune() == 1 and inbox.counts() == {"pending": 1}


@pytest.mark.postgres
def test_a_chat_lock_is_held_by_one_slot_and_freed_when_its_connection_dies(pg_url):
    db = Database(pg_url)
    db.migrate()
    inbox = InboxRepository(db).for_bot(BOT)
    a, b = inbox.slot(), inbox.slot()
    try:
        assert a.try_lock(10) and not b.try_lock(10) and b.try_lock(11)
        assert InboxRepository(db).for_bot(BOT + 1).slot().try_lock(10)     # another bot's chat 10
        a.unlock(10)
        assert b.try_lock(10)
        with db.engine.connect() as admin:                   # the holder's connection dies (a killed worker)
            pid = b._c().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            admin.execute(text("SELECT pg_terminate_backend(:p, 2000)"), {"p": pid})   # waits for it to end
        assert a.try_lock(10) and a.try_lock(11)
    finally:
        a.close()
        b.reset()
        db.dispose()
