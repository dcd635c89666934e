"""The inbox dispatcher (handlers.dispatcher): a chat's updates one at a time and in order, chats in parallel."""
from __future__ import annotations

import asyncio
import json

import pytest
from telegram import Update

from bot.db import Database
from bot.inbox import InboxRepository
from handlers import dispatcher as dispatching
from handlers.dispatcher import InboxDispatcher

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(20)]


def message(update_id: int, chat_id: int) -> dict:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "text": f"m{update_id}",
            "chat": {"id": chat_id, "type": "private"}, "from": {"id": chat_id, "is_bot": False, "first_name": "u"}}}


class FakeApplication:
    """Records the order updates are handled in; update 1 waits for `release`."""

    bot = None

    def __init__(self):
        self.done: list[int] = []
        self.release = asyncio.Event()
        self.changed = asyncio.Event()

    async def process_update(self, update: Update) -> None:
        if update.update_id == 1:
            await self.release.wait()
        self.done.append(update.update_id)
        self.changed.set()

    async def until(self, count: int) -> None:
        while len(self.done) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


@pytest.fixture
def inbox(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'inbox.db'}")
    db.migrate()
    yield InboxRepository(db).for_bot(1)
    db.dispose()


async def run(inbox, application, slots, updates, parsed_for=()):
    """Records the updates, starts a dispatcher and tells it; some come parsed, the rest are read back."""
    inbox.record([(u["update_id"], u["message"]["chat"]["id"], json.dumps(u)) for u in updates])
    dispatcher = InboxDispatcher(application, inbox, slots, sweep_interval=30)
    await dispatcher.start()
    parsed = {u["update_id"]: Update.de_json(u, None) for u in updates if u["update_id"] in parsed_for}
    dispatcher.notify(dict.fromkeys(u["message"]["chat"]["id"] for u in updates), parsed)
    return dispatcher


async def test_a_chats_updates_wait_for_each_other_while_other_chats_go_ahead(inbox):
    application = FakeApplication()
    dispatcher = await run(inbox, application, 2, [message(1, 10), message(2, 10), message(3, 20)], parsed_for={1, 3})
    try:
        await application.until(1)
        assert application.done == [3]                 # chat 10's second update waits for its first
        application.release.set()
        await application.until(3)
        assert application.done == [3, 1, 2]
    finally:
        await dispatcher.stop()
    assert inbox.counts() == {"done": 3}


async def test_one_slot_takes_turns_between_chats(inbox, monkeypatch):
    monkeypatch.setattr(dispatching, "PER_CLAIM", 1)
    application = FakeApplication()
    dispatcher = await run(inbox, application, 1, [message(1, 10), message(2, 10), message(3, 20)])
    try:
        await asyncio.sleep(0.1)
        assert application.done == []                  # the only slot is busy with chat 10
        application.release.set()
        await application.until(3)
        assert application.done == [1, 3, 2]           # chat 20 got its turn before chat 10's next update
    finally:
        await dispatcher.stop()


async def test_at_start_up_the_sweep_finds_what_is_left_in_the_inbox(inbox):
    application = FakeApplication()
    application.release.set()
    inbox.record([(u["update_id"], u["message"]["chat"]["id"], json.dumps(u)) for u in
                  (message(4, 30), message(5, 31))])
    dispatcher = InboxDispatcher(application, inbox, 2, sweep_interval=0.05)
    await dispatcher.start()                           # nobody notifies: the sweep does
    try:
        await application.until(2)
        assert sorted(application.done) == [4, 5]
    finally:
        await dispatcher.stop()
