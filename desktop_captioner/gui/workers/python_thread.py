"""A QThread that keeps one Python thread state for its whole life.

A plain QThread runs its event loop in C++; PySide then creates a fresh Python thread state for
every queued slot call and destroys it afterwards. TensorFlow's pybind11 layer remembers the
thread state it saw on a thread, so on the *next* slot call (load the model, then caption) it may
try to take the GIL with a freed (or reused) thread state and wait for itself forever: the app
froze that way under Xvfb whenever another thread had been started in between. Running the event
loop from a Python ``run()`` keeps a single thread state alive while the thread runs.
"""

from __future__ import annotations

from PySide6.QtCore import QThread


class PythonThread(QThread):
    def run(self) -> None:
        self.exec()
