"""Updates are handled concurrently across users but in order for each user (handlers.update_processor)."""
import asyncio

import pytest
from telegram import Update

from handlers.update_processor import PerUserUpdateProcessor

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(10)]


def message_update(update_id: int, user_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "hi",
        "chat": {"id": user_id, "type": "private"}, "from": {"id": user_id, "is_bot": False, "first_name": "u"}}},
        None)


async def test_one_users_updates_wait_for_each_other_while_others_go_ahead():
    processor = PerUserUpdateProcessor(8)
    release = asyncio.Event()
    done: list[str] = []

    async def slow(name: str):
        await release.wait()
        done.append(name)

    async def quick(name: str):
        done.append(name)

    first = asyncio.create_task(processor.process_update(message_update(1, 1), slow("user1-first")))
    await asyncio.sleep(0)
    second = asyncio.create_task(processor.process_update(message_update(2, 1), quick("user1-second")))
    other = asyncio.create_task(processor.process_update(message_update(3, 2), quick("user2")))
    await other
    assert done == ["user2"] and processor.busy_users == 1      # user 1's second update is still waiting
    release.set()
    await asyncio.gather(first, second)
    assert done == ["user2", "user1-first", "user1-second"] and processor.busy_users == 0


async def test_updates_without_a_user_are_not_serialised():
    processor = PerUserUpdateProcessor(2)
    ran = []

    async def work():
        ran.append(1)

    await processor.process_update(object(), work())
    assert ran == [1] and processor.busy_users == 0


async def test_an_update_waiting_for_its_users_turn_holds_no_slot():
    processor = PerUserUpdateProcessor(1)
    release = asyncio.Event()
    done: list[str] = []

    async def slow(name: str):
        await release.wait()
        done.append(name)

    async def quick(name: str):
        done.append(name)

    first = asyncio.create_task(processor.process_update(message_update(1, 1), slow("A1")))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(processor.process_update(message_update(2, 1), quick("A2"))),
             asyncio.create_task(processor.process_update(message_update(3, 2), quick("B")))]
    await asyncio.sleep(0)
    assert processor.current_concurrent_updates == 1 and processor.max_concurrent_updates == 1
    release.set()
    await asyncio.gather(first, *tasks)
    assert done == ["A1", "B", "A2"]          # B was waiting for the slot before A2's turn came
