"""Per-user flood limit: a sliding one-minute window kept in memory.

Why in memory: one bot process owns one token's update stream, the limit only
has to protect this process from a single user hammering it, and losing the
counters on restart is harmless.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"      # over the limit: tell the user when to try again (once per REWARN_SECONDS)
    DROP = "drop"      # still over the limit and just told: ignore silently


REWARN_SECONDS = 20.0          # someone who keeps writing while blocked is told again, not every time


class FloodGate:
    """At most `limit` events per user in any `window` seconds; a warning per burst (repeated at most
    every `rewarn` seconds), saying when the user may write again."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sweep_every: int = 1000, rewarn: float = REWARN_SECONDS):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.sweep_every = sweep_every
        self.rewarn = rewarn
        self._events: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._seen = 0

    def check(self, user_id: int) -> Verdict:
        """Counts one event for the user and says what to do with it."""
        now = self.clock()
        self._seen += 1
        if self._seen % self.sweep_every == 0:
            self._sweep(now)
        stamps = self._events.setdefault(user_id, deque())
        cutoff = now - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if len(stamps) < self.limit:
            stamps.append(now)
            self._warned.pop(user_id, None)
            return Verdict.ALLOW
        # Over the limit: dropped events are not counted, so the user is let back in as soon
        # as the oldest accepted event leaves the window.
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < self.rewarn:
            return Verdict.DROP
        self._warned[user_id] = now
        return Verdict.WARN

    def retry_in(self, user_id: int) -> float:
        """Seconds until the user may write again (0 when they may now)."""
        stamps = self._events.get(user_id)
        if not stamps or len(stamps) < self.limit:
            return 0.0
        return max(0.0, stamps[0] + self.window - self.clock())

    def _sweep(self, now: float) -> None:
        """Forgets users who have been quiet for a whole window (keeps memory bounded)."""
        cutoff = now - self.window
        for user_id in [u for u, s in self._events.items() if not s or s[-1] <= cutoff]:
            del self._events[user_id]
            self._warned.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._events)
