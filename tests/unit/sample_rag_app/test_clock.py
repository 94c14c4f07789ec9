"""The app's clocks: the system clock and the virtual clock tests and experiments use."""

from __future__ import annotations

import threading

from sample_rag_app.clock import SystemClock, VirtualClock


def test_virtual_time_moves_only_by_sleeping() -> None:
    """now() stands still until sleep() moves it; zero and negative sleeps do nothing."""
    clock = VirtualClock(start=100.0)
    assert clock.now() == clock.now() == 100.0
    clock.sleep(2.5)
    clock.sleep(0)
    clock.sleep(-1)
    assert clock.now() == 102.5


def test_virtual_sleeps_from_many_threads_all_count() -> None:
    """Concurrent sleeps add up exactly (the clock is thread-safe)."""
    clock = VirtualClock()

    def sleeper() -> None:
        for _ in range(1000):
            clock.sleep(0.001)

    threads = [threading.Thread(target=sleeper) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert round(clock.now(), 6) == 8.0


def test_system_clock_is_monotonic() -> None:
    """The system clock never goes back."""
    clock = SystemClock()
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings)
    clock.sleep(0)
