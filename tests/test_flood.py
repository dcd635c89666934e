"""The per-user flood limit: a sliding window, one warning per burst, memory that does not grow."""
from __future__ import annotations

import pytest

from bot.flood import FloodGate, Verdict


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_warns_once_then_drops():
    gate = FloodGate(3, window=60, clock=Clock())
    verdicts = [gate.check(1) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]


def test_users_are_counted_separately():
    gate = FloodGate(2, clock=Clock())
    assert [gate.check(1), gate.check(1), gate.check(2), gate.check(1)] == \
        [Verdict.ALLOW, Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]


def test_window_slides_and_a_new_burst_warns_again():
    clock = Clock()
    gate = FloodGate(2, window=60, clock=clock)
    gate.check(7)
    clock.now += 30
    gate.check(7)
    assert gate.check(7) is Verdict.WARN
    clock.now += 31                      # the first event left the window, the second has not
    assert gate.check(7) is Verdict.ALLOW
    assert gate.check(7) is Verdict.WARN  # a new burst: warned again
    assert gate.check(7) is Verdict.DROP


def test_dropped_messages_do_not_extend_the_block():
    clock = Clock()
    gate = FloodGate(1, window=60, clock=clock)
    gate.check(1)
    for _ in range(10):
        clock.now += 5
        gate.check(1)
    clock.now += 10.1                    # 60.1 s after the only accepted message
    assert gate.check(1) is Verdict.ALLOW


def test_quiet_users_are_forgotten():
    clock = Clock()
    gate = FloodGate(5, window=60, clock=clock, sweep_every=10)
    for user in range(9):
        gate.check(user)
    clock.now += 61
    gate.check(100)                      # the 10th event sweeps
    assert len(gate) == 1


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        FloodGate(0)
