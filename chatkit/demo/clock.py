"""The simulated clock the demo replays its weeks on.

The server and the client stamp times with `chatkit.timefmt.utcnow()`; while
`simulated(clock)` is active that function reads `clock.now` instead of the
system clock, so login events, sessions, `received_at` and the outbox's
backoff all carry the simulated moment. Only the demo sets it.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from .. import timefmt


class Clock:
    """A settable naive-UTC clock that never runs backwards."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance_to(self, moment: datetime) -> None:
        if moment > self.now:
            self.now = moment

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def simulated(clock: Clock):
    """Make `timefmt.utcnow()` read `clock` until the block ends."""
    previous, timefmt.simulated_now = timefmt.simulated_now, clock
    try:
        yield clock
    finally:
        timefmt.simulated_now = previous
