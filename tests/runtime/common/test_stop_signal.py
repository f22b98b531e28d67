"""A stop signal is a flag the handler sets without a lock; a run ends on it even while its service holds a lock."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from vgsum.runtime.common.stop_signal import StopSignal
from vgsum.runtime.daemon.service import run_until_done


class _LockedService:
    """A service whose `wait` holds its lock when the signal is delivered, as `Event.wait` holds its event's lock.

    Whatever the signal handler reached into that took this lock would wait on the
    main thread, which waits on the handler: the deadlock of a daemon stopped at the
    wrong moment.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waits = 0
        self.stopped = False
        self.failure = None

    def start(self) -> None:
        pass

    def wait(self, timeout_s: float | None = None) -> bool:
        with self.lock:
            self.waits += 1
            if self.waits == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.02)  # the handler runs here, with the lock held
        return False

    def stop(self) -> None:
        with self.lock:
            self.stopped = True

    def stream_states(self) -> dict:
        return {}


@pytest.mark.timeout(20)
def test_a_signal_while_the_service_holds_its_lock_ends_the_run_at_the_next_tick():
    service = _LockedService()
    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    run_until_done(service, tick_s=0.05)
    assert time.monotonic() - started < 2.0
    assert service.waits == 3  # no wait after the signal's
    assert service.stopped
    assert signal.getsignal(signal.SIGTERM) is before  # the handler from before is back


@pytest.mark.timeout(20)
def test_a_signal_already_caught_means_the_service_never_starts():
    stop = StopSignal()
    with stop.caught():
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(2.0)
        service = _LockedService()
        run_until_done(service, stop=stop)
    assert stop.signum == signal.SIGINT
    assert service.waits == 0 and service.stopped


def test_wait_times_out_without_a_signal_and_off_the_main_thread_nothing_is_caught():
    stop = StopSignal()
    with stop.caught():
        started = time.monotonic()
        assert not stop.wait(0.12)
        assert 0.1 <= time.monotonic() - started < 1.0
    installed: list[dict] = []
    thread = threading.Thread(target=lambda: installed.append(StopSignal().install()))
    thread.start()
    thread.join()
    assert installed == [{}]
