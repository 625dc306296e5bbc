"""The emulators' clock: wall-clock time plus an offset that only ever moves forward."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: What is due next: its moment (emulator time, seconds) and the action to perform then.
Due = tuple[float, Callable[[], None]]


class Clock:
    """Emulator time: the wall clock moved on by `offset` seconds (`advance` adds to it).

    `whole_seconds=True` (Stripe, whose timestamps are integers) keeps the offset and the time
    whole; otherwise (Paddle, whose timestamps have microseconds) time has the wall clock's
    fraction.
    """

    def __init__(self, *, whole_seconds: bool = False) -> None:
        self.whole_seconds = whole_seconds
        self.offset: float = 0

    def reset(self) -> None:
        self.offset = 0

    def time(self) -> float:
        """Emulator time in seconds."""
        if self.whole_seconds:
            return int(time.time()) + self.offset
        return time.time() + self.offset

    def now(self) -> int:
        return int(self.time())

    def move_to(self, when: float) -> None:
        """Jump forward to `when` (never back); afterwards `time() >= when`."""
        delta = when - self.time()
        if delta > 0:
            # A float sum may land a hair short of `when`: a microsecond more makes it due.
            self.offset += math.ceil(delta) if self.whole_seconds else delta + 1e-6

    def advance(self, seconds: float, next_due: Callable[[], Due | None]) -> float:
        """Move on by `seconds`, performing each due action at its own moment, in order.

        `next_due` is asked again after each action (an action may schedule another, such as
        a renewal scheduling the next one); the clock stops at the target either way.
        """
        target = self.time() + seconds
        for _ in range(10_000):
            due = next_due()
            if due is None or due[0] > target:
                break
            when, perform = due
            self.move_to(when)
            perform()
        self.move_to(target)
        return self.time()
