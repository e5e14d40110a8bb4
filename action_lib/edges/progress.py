"""Progress of a transfer: a live bar (bytes, rate, ETA) on a terminal, plain lines in CI."""

from __future__ import annotations

import threading
import time
from typing import TextIO


def human(n: float) -> str:
    """Bytes for people: ``1.5 GB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class Progress:
    """Thread-safe byte counter; call it with byte counts. Draws at most 5 times a second."""

    def __init__(self, label: str, total: int, stream: TextIO, live: bool) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream
        self.live = live
        self.done = 0
        self.start = time.monotonic()
        self.drawn = 0.0
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self.lock:
            self.done += n
            now = time.monotonic()
            if self.live and now - self.drawn >= 0.2:
                self.drawn = now
                self.stream.write("\r" + self.line(now) + "\x1b[K")
                self.stream.flush()

    def line(self, now: float | None = None) -> str:
        """``label: done/total  rate  ETA``."""
        elapsed = max((now or time.monotonic()) - self.start, 1e-6)
        rate = self.done / elapsed
        text = f"{self.label}: {human(self.done)}"
        if self.total:
            text += f"/{human(self.total)}"
        text += f"  {human(rate)}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f"  ETA {int((self.total - self.done) / rate)}s"
        return text

    def note(self, text: str) -> None:
        """A plain line (a finished archive); in live mode it goes above the bar."""
        with self.lock:
            if self.live:
                self.stream.write("\r\x1b[K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> float:
        """End the bar; returns the elapsed seconds."""
        elapsed = time.monotonic() - self.start
        if self.live:
            with self.lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
        return elapsed
