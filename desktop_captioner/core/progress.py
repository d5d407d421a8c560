"""Progress reports and cancellation shared by every long-running core operation.

Core code never knows whether a terminal or a Qt signal is listening: it calls a plain callback
with a ``Progress`` and polls a ``CancelToken`` between units of work (batches).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from desktop_captioner.core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One step of a long operation: ``done`` of ``total`` units of ``phase``."""

    phase: str
    done: int
    total: int
    rate: float = 0.0  # units per second over the operation so far
    eta: Optional[float] = None  # seconds left, None when unknown


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """A thread-safe "please stop" flag, set by the GUI/terminal and polled by the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("Stopped at your request.")


class RateMeter:
    """Turns (done, total) counts into ``Progress`` with a rate and an ETA."""

    def __init__(self, phase: str, total: int) -> None:
        self.phase = phase
        self.total = total
        self._start = time.perf_counter()

    def progress(self, done: int) -> Progress:
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        return Progress(self.phase, done, self.total, rate, eta)


def format_eta(seconds: float | None) -> str:
    """A duration as ``mm:ss`` or ``h:mm:ss`` (``--:--`` when unknown), for progress lines."""
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
