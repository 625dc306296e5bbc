"""A progress bar on one terminal line (stderr), redrawn in place; nothing when not a terminal."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

#: Seconds between two redraws (the last one is always drawn).
REDRAW_EVERY = 0.1


class ProgressBar:
    """``label  done/total [#####.....] 41%  24.8 rows/s  ETA 11:52`` on ``stream``.

    ``stream`` is a Django ``OutputWrapper`` or a file; the bar is drawn only when it is a
    terminal and ``enabled``. Lines printed meanwhile go through :meth:`print`, which clears
    the bar first so that it never stays in the middle of the output.
    """

    def __init__(
        self,
        stream: Any,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        isatty = getattr(stream, "isatty", None)
        self.stream = stream
        self.active = bool(enabled and isatty is not None and isatty())
        self._clock = clock
        self.label, self.total, self.done = "", 0, 0
        self._started = self._drawn_at = 0.0
        self._shown = False

    def start(self, label: str, total: int) -> None:
        """A new part: the bar counts ``total`` rows from 0."""
        self.finish()
        self.label, self.total, self.done = label, total, 0
        self._started = self._clock()
        self._drawn_at = 0.0
        self._draw()

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        now = self._clock()
        if now - self._drawn_at >= REDRAW_EVERY or self.done >= self.total:
            self._draw()

    def print(self, write: Callable[[str], Any], line: str) -> None:
        """``write(line)`` (a command's stdout or stderr write) below a cleared bar."""
        self.clear()
        write(line)

    def clear(self) -> None:
        if self._shown:
            self._write("\r\033[K")
            self._shown = False

    def finish(self) -> None:
        """Leave the finished bar on its line and go to the next one."""
        if self._shown:
            self._draw()
            self._write("\n")
            self._shown = False

    def line(self) -> str:
        """The bar's text for the terminal's width."""
        now = self._clock()
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 and self.done else None
        fraction = self.done / self.total if self.total else 1.0
        eta = "--:--" if left is None else _minutes(left)
        head = f"{self.label}  {self.done:,}/{self.total:,} "
        tail = f" {fraction:4.0%}  {rate:,.1f} rows/s  ETA {eta}"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        room = max(10, min(40, width - len(head) - len(tail) - 2))
        filled = int(room * min(fraction, 1.0))
        return f"{head}[{'#' * filled}{'.' * (room - filled)}]{tail}"

    def _draw(self) -> None:
        if not self.active:
            return
        self._write("\r\033[K" + self.line())
        self._shown = True
        self._drawn_at = self._clock()

    def _write(self, text: str) -> None:
        if not self.active:
            return
        # A command's stderr colours what it writes (red) and ends it with a newline.
        try:
            self.stream.write(text, style_func=_plain, ending="")
        except TypeError:  # a plain file
            self.stream.write(text)
        self.stream.flush()


def _plain(text: str) -> str:
    return text


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
