"""Guards against a Qt binding that would crash a long-running app."""

import sys

from PySide6.QtWidgets import QApplication


def test_process_events_keeps_none_refcount(qapp: QApplication) -> None:
    # PySide6 6.12.0 drops one reference to None per processEvents() call; on Python < 3.12
    # (None not immortal) the process aborts after a few thousand calls. pyproject excludes it.
    before = sys.getrefcount(None)
    for _ in range(3000):
        qapp.processEvents()
    assert sys.getrefcount(None) >= before - 50
