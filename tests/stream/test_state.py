"""State machine transitions, capped exponential backoff with jitter, the stall watchdog."""

from __future__ import annotations

import random

import pytest

from vgsum.stream.state import Backoff, IllegalTransition, StateMachine, StreamState, Watchdog


def test_transitions_and_listener():
    seen = []
    m = StateMachine(lambda old, new, why: seen.append((old.value, new.value, why)))
    assert m.state == StreamState.CONNECTING
    assert m.move(StreamState.STREAMING)
    assert not m.move(StreamState.STREAMING)  # no change, no event
    m.move(StreamState.RECONNECTING, "disconnect")
    m.move(StreamState.STREAMING)
    m.move(StreamState.FAILED, "404")
    assert seen == [
        ("connecting", "streaming", None),
        ("streaming", "reconnecting", "disconnect"),
        ("reconnecting", "streaming", None),
        ("streaming", "failed", "404"),
    ]
    assert m.state.final
    with pytest.raises(IllegalTransition):
        m.move(StreamState.STREAMING)


def test_backoff_doubles_to_cap_with_bounded_jitter():
    b = Backoff(0.5, 8.0, jitter=0.2, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    bases = [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]
    for d, base in zip(delays, bases, strict=True):
        assert base * 0.8 - 1e-9 <= d <= min(8.0, base * 1.2) + 1e-9
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter: not lockstep
    b.reset()
    assert b.next_delay() <= 0.6


def test_watchdog_declares_stall_after_bound():
    now = [0.0]
    w = Watchdog(2.0, clock=lambda: now[0])
    now[0] = 1.9
    assert not w.stalled()
    now[0] = 2.1
    assert w.stalled()
    w.feed()
    assert not w.stalled() and w.silent_for() == 0.0
