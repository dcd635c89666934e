"""The call recorder: every request the bot made, and waiting until a matching one arrives.

Why waiting sleeps on the state's condition (and async waiters on their own loop's event):
a recorded call wakes the waiter at once, so tests need no sleeps and no polling.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from typing import Any, Unpack

from ..records import Call, CallFilter, Matcher, polling_timeout_error, wait_timeout_error


class Recorder:
    """calls, calls_of, mark, clear and the wait_for* family (sync and async)."""

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls (since the last clear())."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str, *, token: str | None = None, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [
                c for c in self._calls
                if c.method == method and (token is None or c.token == token) and (ok is None or c.ok == ok)
            ]

    def mark(self) -> int:
        """Index of the next call; pass as ``since=`` to only wait for calls after this point."""
        with self._lock:
            return self._call_seq

    def clear(self) -> None:
        """Forget recorded calls and injected faults (state such as messages stays)."""
        with self._lock:
            self._calls = []
            self._injections = []
            self._fault_plans = {}

    def wait_for(self, method: str | None, predicate: Callable[[Call], bool] | None = None, timeout: float = 5.0,
                 **where: Unpack[CallFilter]) -> Call:
        """Block until a matching call exists (already recorded ones count); return it.

        ``where``: match=, ok=, since=, token= (records.CallFilter).  Raises AssertionError
        listing the recent calls on timeout.  In async tests use wait_for_async.
        Calls are recorded when answered, so a long-polling getUpdates shows up
        only once it returns (use wait_until_polling to know the bot is polling).
        """
        return self.wait_for_count(method, 1, predicate, timeout, **where)[0]

    def wait_for_count(self, method: str | None, count: int, predicate: Callable[[Call], bool] | None = None,
                       timeout: float = 5.0, **where: Unpack[CallFilter]) -> list[Call]:
        """Block until ``count`` matching calls were recorded; return the first ``count``."""
        m = Matcher(method, predicate, **where)
        return self._wait_until(self._count_probe(m, count), timeout, lambda: self._timeout_error(m, count, timeout))

    def wait_until_polling(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        """Block until the bot sits in a long-polling getUpdates (i.e. it is up and idle).

        Useful before pushing when the bot starts with drop_pending_updates=True.
        """
        self._wait_until(self._polling_probe(token), timeout, lambda: polling_timeout_error(timeout))

    async def wait_for_async(self, method: str | None, predicate: Callable[[Call], bool] | None = None,
                             timeout: float = 5.0, **where: Unpack[CallFilter]) -> Call:
        """Async wait_for (same semantics)."""
        return (await self.wait_for_count_async(method, 1, predicate, timeout, **where))[0]

    async def wait_for_count_async(self, method: str | None, count: int,
                                   predicate: Callable[[Call], bool] | None = None, timeout: float = 5.0,
                                   **where: Unpack[CallFilter]) -> list[Call]:
        """Async wait_for_count: yields to the event loop (the bot may run on it)."""
        m = Matcher(method, predicate, **where)
        return await self._wait_until_async(
            self._count_probe(m, count), timeout, lambda: self._timeout_error(m, count, timeout)
        )

    async def wait_until_polling_async(self, timeout: float = 5.0, *, token: str | None = None) -> None:
        await self._wait_until_async(self._polling_probe(token), timeout, lambda: polling_timeout_error(timeout))

    # ------------------------------------------------------------------ inside
    def _record(self, token: str, method: str, params: dict, files: dict, status: int,
                response: dict | None, started: float) -> Call:
        call = Call(self._call_seq, method, params, started, token, status, response, files)
        self._call_seq += 1
        self._calls.append(call)
        self._notify()
        return call

    def _notify(self) -> None:
        """Wake sync waiters (condition) and async waiters (their event loops)."""
        self._cond.notify_all()
        for wake in self._listeners:
            wake()

    def _scan(self, m: Matcher) -> None:
        calls = self._calls
        start = bisect.bisect_left(calls, m.next_index, key=lambda c: c.index)
        for i in range(start, len(calls)):
            if m.accepts(calls[i]):
                m.found.append(calls[i])
        m.next_index = self._call_seq

    def _timeout_error(self, m: Matcher, count: int, timeout: float) -> AssertionError:
        hint = ""
        try:
            asyncio.get_running_loop()
            hint = ("\nHint: wait_for() blocked the running event loop; in async tests use "
                    "`await api.wait_for_async(...)`.")
        except RuntimeError:
            pass
        return wait_timeout_error(m.describe(), count, timeout, len(m.found), self._calls[-15:], hint)

    def _wait_until(self, probe: Callable[[], Any], timeout: float, on_timeout: Callable[[], Exception]) -> Any:
        """Re-evaluate ``probe`` (under the lock) whenever state changes until it is truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = probe()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise on_timeout()
                self._cond.wait(remaining)

    async def _wait_until_async(self, probe: Callable[[], Any], timeout: float,
                                on_timeout: Callable[[], Exception]) -> Any:
        """Like _wait_until but awaits: handler threads wake us via call_soon_threadsafe."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            if not event.is_set():
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # loop closed
                    pass

        deadline = time.monotonic() + timeout
        with self._lock:
            self._listeners.append(wake)
        try:
            while True:
                event.clear()
                with self._lock:
                    result = probe()
                    error = on_timeout() if not result and time.monotonic() >= deadline else None
                if result:
                    return result
                if error is not None:
                    raise error
                try:
                    await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    pass
        finally:
            with self._lock:
                self._listeners.remove(wake)

    def _count_probe(self, m: Matcher, count: int) -> Callable[[], list[Call] | None]:
        def probe() -> list[Call] | None:
            self._scan(m)
            return m.found[:count] if len(m.found) >= count else None

        return probe

    def _polling_probe(self, token: str | None) -> Callable[[], bool]:
        bot = self._bot(token)
        return lambda: bot.waiting_polls > 0
