"""Per-user and per-chat memory stays bounded over a long run (issue 12: 183 -> 252 MB, no plateau).

The figures come from bench/bot_memory.py; these pin down the structures it found growing.
"""
from __future__ import annotations

import pytest
from telegram import Update

from bot.flood import FloodGate
from handlers import dispatcher as dispatching
from handlers import services as service_module
from handlers.dispatcher import InboxDispatcher
from handlers.services import BotServices

pytestmark = pytest.mark.asyncio


async def test_the_district_cache_keeps_recent_users_only(app, monkeypatch):
    monkeypatch.setattr(service_module, "REMEMBERED_DISTRICTS", 50)
    svc = BotServices(app, FloodGate(20))
    await svc.set_district(7, "临平区")
    for user in range(1000, 1200):
        assert await svc.district_of(user) is None
    assert len(svc._districts) == 50 and 7 not in svc._districts
    assert await svc.district_of(7) == "临平区"             # forgotten, read back from the database
    await svc.close()


async def test_parsed_updates_handed_to_the_slots_age_out_oldest_first(app, monkeypatch):
    monkeypatch.setattr(dispatching, "PARSED_KEPT", 100)
    dispatcher = InboxDispatcher(None, app.repos.inbox.for_bot(1), slots=1)
    for update_id in range(1, 301):                  # handled by another worker: never popped here
        dispatcher.notify([update_id % 7], {update_id: Update(update_id)})
    assert len(dispatcher._parsed) == 100 and min(dispatcher._parsed) == 201 and 300 in dispatcher._parsed
