"""One long-lived background thread that runs jobs one after another, and owns what they build.

Use it for work that keeps state in its thread between jobs (the caption model: TensorFlow
objects are used on the thread that made them) or that must be stopped and joined at a known
moment (a training run, a download behind a Cancel button). For independent short jobs use
``pool_job.run_in_pool``.

How to use it, from the GUI thread::

    self.thread = WorkerThread("weights-download", parent=self)
    cancel = self.thread.new_token()
    self.thread.submit(download, cancel, on_result=self._done, on_error=self._failed)
    ...
    self.thread.cancel()   # the running job sees its CancelToken and raises Cancelled
    self.thread.stop()     # cancel, drop queued jobs, join: call before the owner is deleted

``on_result``/``on_error``/``on_yield`` run on the GUI thread (see ``job.Job``); ``on_error``
gets the exception, which ``core.errors.describe_failure`` turns into one sentence. A job may
also emit signals of its own as it goes: receivers in the GUI thread get them queued.

The thread runs its jobs from a Python loop in ``run`` rather than a Qt event loop. A QThread
running its event loop in C++ gets a fresh Python thread state for every queued slot call;
TensorFlow's pybind11 layer remembers the thread state it saw on a thread, and on the next call
(load the model, then caption) it could wait for a freed one forever: the app froze that way
under Xvfb. A Python loop keeps one thread state for the thread's whole life.
"""

from __future__ import annotations

import queue
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread

from desktop_captioner.core.progress import CancelToken
from desktop_captioner.gui.workers.job import Callback, Job

_STOP = None  # the queue entry that ends the loop


class WorkerThread(QThread):
    """Starts at once and runs submitted jobs in order until ``stop``."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._stopping = False
        self._cancel = CancelToken()
        self.start()

    def new_token(self, cancel_current: bool = False) -> CancelToken:
        """A fresh token for the next job; ``cancel_current`` first cancels the previous one
        (a new model replaces whatever was loading)."""
        if cancel_current:
            self._cancel.cancel()
        self._cancel = CancelToken()
        return self._cancel

    def submit(self, fn: Callable[..., Any], *args: Any, on_result: Callback | None = None,
               on_error: Callback | None = None, on_yield: Callback | None = None,
               receiver: QObject | None = None) -> None:
        """Queue ``fn(*args)``; the callbacks belong to ``receiver`` (default: the parent)."""
        if self._stopping:
            return
        owner = receiver if receiver is not None else (self.parent() or self)
        self._jobs.put(Job(owner, fn, args, on_result, on_error, on_yield))

    def cancel(self) -> None:
        """Cancel the token handed out last (the job using it stops at its next check)."""
        self._cancel.cancel()

    def stop(self) -> None:
        """Cancel, forget queued jobs, and wait for the running one to end (safe to repeat)."""
        self._cancel.cancel()
        self._stopping = True
        self._jobs.put(_STOP)
        self.wait()

    def run(self) -> None:
        while (job := self._jobs.get()) is not _STOP and not self._stopping:
            job.run()
