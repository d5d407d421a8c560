"""A job: a callable run off the GUI thread whose outcome comes back on the GUI thread.

Both ways of running background work (``worker_thread.WorkerThread`` and
``pool_job.run_in_pool``) wrap the callable in a ``Job``. ``Job.run`` executes in the
background thread; each outcome is posted through one application-wide relay QObject that lives
in the GUI thread, so the callbacks always run there (queued), never in the background thread:

- a plain function's return value goes to ``on_result``;
- a generator function's yielded values go to ``on_yield`` one by one (progress, chunks of
  results), then its return value to ``on_result``;
- an exception goes to ``on_error`` as the exception object (``core.errors.describe_failure``
  turns it into one sentence); without ``on_error`` it is only logged.

The callbacks belong to ``receiver``: once that QObject is deleted nothing more is delivered, so
a job may outlive the widget that started it. The relay itself is never deleted while the
application runs, so a background thread never emits on a dying object.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from desktop_captioner.core.errors import describe_failure

log = logging.getLogger(__name__)

Callback = Callable[[Any], Any]


class _Relay(QObject):
    """Lives in the GUI thread and runs, there, the deliveries posted from other threads."""

    posted = Signal(object)  # a callable without arguments

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.posted.connect(self._run)

    @Slot(object)
    def _run(self, delivery: Callable[[], None]) -> None:
        delivery()


_relay: _Relay | None = None


def _gui_relay() -> _Relay:
    """The relay, made on first use as a child of the application (so it lives in its thread)."""
    global _relay
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("background jobs need a running QApplication")
    if _relay is None or not shiboken6.isValid(_relay) or _relay.parent() is not app:
        _relay = _Relay(app)
    return _relay


class Job:
    """``fn(*args)`` with its callbacks; make it on the GUI thread, ``run`` it on another."""

    def __init__(self, receiver: QObject, fn: Callable[..., Any], args: tuple,
                 on_result: Callback | None = None, on_error: Callback | None = None,
                 on_yield: Callback | None = None) -> None:
        self.receiver = receiver
        self.fn, self.args = fn, args
        self.on_result, self.on_error, self.on_yield = on_result, on_error, on_yield
        self._relay = _gui_relay()

    def run(self) -> None:
        """Call the function here (the background thread) and post what comes out of it."""
        try:
            outcome = self.fn(*self.args)
            if inspect.isgenerator(outcome):
                outcome = self._relay_yields(outcome)
        except Exception as exc:  # noqa: BLE001 - every failure is delivered, none kills a thread
            self._post(self.on_error, exc, failed=True)
        else:
            self._post(self.on_result, outcome)

    def _relay_yields(self, generator) -> Any:
        while True:
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
            self._post(self.on_yield, value)

    def _post(self, callback: Callback | None, value: Any, failed: bool = False) -> None:
        if callback is not None or failed:
            self._relay.posted.emit(lambda: self._deliver(callback, value, failed))

    def _deliver(self, callback: Callback | None, value: Any, failed: bool) -> None:
        """On the GUI thread: hand ``value`` over unless the receiver has been deleted; an error
        nobody receives is at least logged."""
        if callback is not None and shiboken6.isValid(self.receiver):
            callback(value)
        elif failed:
            describe_failure(value, f"{getattr(self.fn, '__qualname__', self.fn)} stopped")
