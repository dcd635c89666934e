"""Handles the inbox: each chat's updates one at a time and in order, many chats at once.

Why here (not PTB's update queue): the queue lives in memory, so whatever it held was lost to a
crash, and it knows nothing of other processes. The inbox (bot.inbox) is the queue instead:
intake (handlers.intake) records an update and calls `notify`; a slot takes a chat, takes its
lock, handles its open updates oldest first through `Application.process_update`, marks them
done, and lets the chat go. A slot holds its chat only while it works on it, and the number of
slots (TELEGRAM_CONCURRENT_UPDATES) bounds the updates in progress.

A sweep every second asks the inbox which chats have updates that are due: after a start-up
(updates recorded but not done before a crash), after a retry's wait, and for chats another
worker recorded but could not finish (it was killed: PostgreSQL dropped its locks with its
connections). A worker that records an update for a chat another worker holds leaves it to that
worker, which looks once more after letting the chat go (see `_work_chat`).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.inbox import InboxItem, InboxRepository, InboxSlot

from .delivery import Delivery, delivering

log = logging.getLogger("bot.inbox")

MAX_ATTEMPTS = 8            # an update whose replies certainly failed is handled again up to this often
PER_CLAIM = 20              # updates handled per turn of one chat before others get a slot
PRUNE_EVERY = 3600.0        # seconds between deleting old done rows
PARSED_KEPT = 2000          # parsed updates kept for the slots; beyond that they are read back from the inbox


def retry_delay(attempt: int) -> float:
    """Seconds before handling an update again after its replies certainly failed: 5, 10, 20 ... 600."""
    return min(5.0 * 2 ** attempt, 600.0)


def chat_key(update: Update) -> int:
    """What orders updates: the chat, or the user for updates without one (inline queries)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class InboxDispatcher:
    def __init__(self, application: Application, inbox: InboxRepository, slots: int, *,
                 sweep_interval: float = 1.0):
        self.application = application
        self.inbox = inbox
        self.slots = slots
        self.sweep_interval = sweep_interval
        self._ready: dict[int, None] = {}       # chats to look at, in the order they were notified
        self._busy: set[int] = set()            # chats a slot of this process is working on
        self._parsed: OrderedDict[int, Update] = OrderedDict()   # update_id -> the Update intake parsed
        self._wake = asyncio.Event()
        self._slots: list[tuple[InboxSlot, asyncio.Task]] = []
        self._sweeper: asyncio.Task | None = None
        self._stopping = False
        self.handled = 0

    # ------------------------------------------------------------ life cycle
    async def start(self) -> None:
        self._stopping = False
        for i in range(self.slots):
            slot = self.inbox.slot()
            task = asyncio.create_task(self._slot_loop(slot), name=f"inbox-slot-{i}")
            self._slots.append((slot, task))
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="inbox-sweep")

    async def stop(self, timeout: float = 10.0) -> None:
        """Lets the updates in progress finish (up to `timeout`), then stops; the rest stay in the inbox."""
        self._stopping = True
        self._wake.set()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        tasks = [task for _, task in self._slots]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            if late:
                log.warning("stopping with %d update(s) still in progress; they are finished after the next "
                            "start (or closed as uncertain if a reply may have gone out)", len(late))
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        for slot, task in self._slots:
            if task.done() and not task.cancelled():       # a cancelled one may still be in its thread
                await asyncio.to_thread(slot.close)
        self._slots.clear()

    def notify(self, chat_keys, parsed: dict[int, Update] | None = None) -> None:
        """These chats have new updates in the inbox (`parsed`: the Update objects intake already has, so
        they are not read back from their JSON)."""
        if parsed:
            self._parsed.update(parsed)
            while len(self._parsed) > PARSED_KEPT:      # oldest first: a row another worker handled is never
                self._parsed.popitem(last=False)         # popped here, so it has to age out
        for key in chat_keys:
            self._ready[key] = None
        self._wake.set()

    # ------------------------------------------------------------ slots
    async def _take(self) -> int | None:
        while not self._stopping:
            for key in self._ready:
                if key not in self._busy:
                    del self._ready[key]
                    return key
            self._wake.clear()
            await self._wake.wait()
        return None

    async def _slot_loop(self, slot: InboxSlot) -> None:
        while True:
            key = await self._take()
            if key is None:
                return
            self._busy.add(key)
            try:
                again = await self._work_chat(slot, key)
            except SQLAlchemyError as exc:
                log.warning("inbox unavailable (%s); chat %s waits for the next sweep", type(exc).__name__, key)
                again = False
                await asyncio.sleep(1.0)
            except Exception:        # a bug must not take a slot down; the update stays open in the inbox
                log.exception("inbox slot failed on chat %s", key)
                await asyncio.to_thread(slot.reset)
                again = False
                await asyncio.sleep(1.0)
            finally:
                self._busy.discard(key)
            if again:
                self.notify([key])
            elif key in self._ready:
                self._wake.set()

    async def _work_chat(self, slot: InboxSlot, key: int) -> bool:
        """Handles the chat's due updates under its lock; True if the chat should be looked at again.

        Several workers (PostgreSQL): after letting the lock go it looks once more, because a worker
        that recorded an update for this chat while the lock was held here left it to us (its own
        try_lock failed after its commit). One process (SQLite): intake's notify brings it back.
        """
        shared = slot.postgres
        if shared and not await asyncio.to_thread(slot.try_lock, key):
            return False                      # another worker has the chat; it looks again before letting go
        handled, finished, stop, retried = 0, [], False, False
        try:
            while handled < PER_CLAIM and not stop and not self._stopping:
                wanted = PER_CLAIM - handled
                items = await asyncio.to_thread(slot.advance, key, finished, wanted)
                finished = []
                if len(items) < wanted:       # all the chat has now: no second look (a new one is notified)
                    stop = True
                for item in items:
                    handled += 1
                    note, retry = await self._handle(slot, item)
                    if retry is not None:     # the chat waits for this one: nothing later may overtake it
                        await asyncio.to_thread(slot.retry_later, item.update_id, *retry)
                        stop = retried = True
                        break
                    finished.append((item.update_id, note))
                    if self._stopping:
                        break
        finally:
            try:
                if finished:
                    await asyncio.to_thread(slot.finish_many, finished)
            finally:
                if shared:
                    await asyncio.to_thread(slot.unlock, key)
        if self._stopping or retried:
            return False
        if handled >= PER_CLAIM:
            return True
        return shared and await asyncio.to_thread(slot.next_item, key) is not None

    async def _handle(self, slot: InboxSlot, item: InboxItem) -> tuple[str | None, tuple[float, str] | None]:
        """Handles one update: (the note to close it with, or (delay, note) to handle it again later)."""
        update = self._parsed.pop(item.update_id, None)
        if item.state == "sending":
            log.warning("update_id=%s was being answered when its process stopped; a reply may have been sent, "
                        "so it is not handled again", item.update_id)
            return "uncertain", None
        if update is None:
            try:
                update = Update.de_json(json.loads(item.payload), self.application.bot)
            except Exception as exc:
                log.warning("update_id=%s could not be read (%s); skipped", item.update_id, exc)
                return "unreadable", None

        def mark_sending() -> None:         # on the event loop, inside the socket write (handlers.delivery)
            slot.mark_sending(item.update_id)

        delivery = Delivery(item.update_id, item.attempts, MAX_ATTEMPTS, mark_sending)
        with delivering(delivery):
            await self.application.process_update(update)
        self.handled += 1
        error = delivery.error
        if error is None:
            return None, None
        if delivery.will_retry(error):
            return None, (retry_delay(item.attempts), f"retry: {type(error).__name__}")
        return ("gave up: " if delivery.undelivered(error) else "error: ") + type(error).__name__, None

    # ------------------------------------------------------------ sweeping
    async def _sweep_loop(self) -> None:
        last_prune = 0.0
        while not self._stopping:
            try:
                due = await asyncio.to_thread(self.inbox.due_chats)
                fresh = [k for k in due if k not in self._busy and k not in self._ready]
                if fresh:
                    self.notify(fresh)
                if time.monotonic() - last_prune > PRUNE_EVERY:
                    last_prune = time.monotonic()
                    removed = await asyncio.to_thread(self.inbox.prune)
                    if removed:
                        log.info("inbox pruned rows=%d", removed)
            except SQLAlchemyError as exc:
                log.warning("inbox sweep failed: %s", type(exc).__name__)
            await asyncio.sleep(self.sweep_interval)
