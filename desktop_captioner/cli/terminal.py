"""Terminal progress shared by the CLI commands (stderr, so stdout stays machine-readable)."""

from __future__ import annotations

import sys
import time

from desktop_captioner.core.progress import Progress, format_eta


class TerminalProgress:
    """A one-line progress bar redrawn in place on a TTY, throttled lines otherwise."""

    def __init__(self, stream=None, min_interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval if self.tty else 2.0
        self._last = 0.0
        self._open_line = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.total and p.done >= p.total
        if not final and now - self._last < self.min_interval:
            return
        self._last = now
        frac = p.done / p.total if p.total else 0.0
        bar = "#" * int(frac * 24)
        line = (f"{p.phase:<10} [{bar:<24}] {p.done}/{p.total} "
                f"{p.rate:7.1f}/s ETA {format_eta(p.eta)}")
        if self.tty:
            self.stream.write("\r" + line)
            self._open_line = not final
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False
