"""Start-up safety for the PyInstaller bundle.

A windowed bundle on Windows and macOS starts with ``sys.stdout`` and ``sys.stderr`` set to None.
Anything that prints then raises ``AttributeError`` — Keras' progress output, absl/TensorFlow
warnings, a stray ``print``. ``keras.config.disable_interactive_logging()`` is no full cure: Keras
keeps that setting per thread, and the GUI runs Keras in worker threads. So the launcher replaces
missing streams once, process-wide, before anything else is imported: stdout (progress chatter)
goes to devnull, stderr (warnings worth keeping) goes to the log file.

The bundle stays windowed on every platform (no console window flashing up behind the GUI on
Windows). Output meant for a terminal — the ``--self-test`` summary — goes through
``print_to_terminal``, which finds the terminal the app was started from by itself.
"""

from __future__ import annotations

import io
import logging
import os
import sys


class LogWriter(io.TextIOBase):
    """A text stream that turns each written line into a log record."""

    def __init__(self, logger: logging.Logger, level: int = logging.WARNING) -> None:
        super().__init__()
        self._logger = logger
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._logger.log(self._level, "%s", line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._logger.log(self._level, "%s", self._pending.rstrip())
        self._pending = ""


_stdout_replaced = False


def make_streams_safe() -> None:
    """Give the process a stdout and stderr if it has none (windowed bundle)."""
    global _stdout_replaced
    if sys.stdout is None:
        # Never closed: it is the process's stdout until exit.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        _stdout_replaced = True
    if sys.stderr is None:
        sys.stderr = LogWriter(logging.getLogger("stderr"))


def print_to_terminal(line: str) -> None:
    """Print one line for the user who started the app, even from a windowed bundle.

    With a real stdout this is ``print``. Without one (windowed Windows/macOS), file descriptor 1
    is still the terminal or the redirect on macOS and in a redirected Windows run; a Windows GUI
    program started from a console has neither, so it attaches to its parent's console.
    """
    if not _stdout_replaced:
        print(line, flush=True)
        return
    data = (line + "\n").encode("utf-8", errors="replace")
    try:
        os.write(1, data)
        return
    except OSError:
        pass
    if sys.platform == "win32":
        import ctypes

        if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
            with open("CONOUT$", "w", encoding="utf-8") as console:
                console.write(line + "\n")
