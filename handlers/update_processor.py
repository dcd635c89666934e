"""Concurrent across users, in order for each user.

Why: the bot handles many users at once (one slow database write must not hold
up everyone else), but one person's updates must be handled in the order they
were sent. An admin's guided edit (a ConversationHandler) moves to its next step
only when the previous step's handler has returned; without this, a quick
second message or a double-tapped "确认保存" could be handled against the old
step (PTB warns that ConversationHandler relies on updates being processed one
by one).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


_UNLIMITED = 1_000_000


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Up to `max_concurrent_updates` at once; updates of the same user (or chat) one after another.

    An update waiting for its user's previous one holds no slot: the base class's own semaphore
    (taken before do_process_update) is made unlimited and the real limit is applied only once
    it is the update's turn, so one user's burst cannot keep everyone else waiting.
    """

    def __init__(self, max_concurrent_updates: int):
        if max_concurrent_updates < 1:
            raise ValueError("`max_concurrent_updates` must be a positive integer!")
        super().__init__(_UNLIMITED)
        self._limit = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._running = 0
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    @property
    def max_concurrent_updates(self) -> int:
        return getattr(self, "_limit", _UNLIMITED)    # unlimited while the base class makes its semaphore

    @property
    def current_concurrent_updates(self) -> int:
        return self._running

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        async with self._slots:
            self._running += 1
            try:
                await coroutine
            finally:
                self._running -= 1

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await self._run(coroutine)
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:          # asyncio.Lock is FIFO: the user's updates keep their order
                await self._run(coroutine)
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key]
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def busy_users(self) -> int:
        """Users with an update being handled or waiting (for tests and diagnostics)."""
        return len(self._locks)
