"""Run a short job on a thread pool and get its outcome back on the GUI thread.

Use it for independent jobs that keep nothing in their thread: walking a folder, decoding a
thumbnail, inspecting a dataset, writing files. Work that keeps state between jobs or must be
joined at a known moment goes to ``worker_thread.WorkerThread``.

How to use it, from the GUI thread::

    run_in_pool(self, walk, paths, cancel, pool=self.pool,
                on_yield=self._on_chunk, on_result=self._on_done, on_error=self._on_failed)

``self`` is the receiver: once it is deleted, nothing more is delivered to it. ``walk`` runs on
the pool (``QThreadPool.globalInstance()`` unless ``pool`` is given); a generator function's
yielded values go to ``on_yield`` as they come, its return value to ``on_result``, an exception
to ``on_error`` (see ``job.Job``; ``core.errors.describe_failure`` makes it one sentence). To stop
jobs, pass them a ``core.progress.CancelToken`` and raise ``Cancelled`` when it is set; at
shutdown ``pool.clear()`` then ``pool.waitForDone()`` drops the queued ones and joins the rest.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool

from desktop_captioner.gui.workers.job import Callback, Job


def run_in_pool(receiver: QObject, fn: Callable[..., Any], *args: Any,
                on_result: Callback | None = None, on_error: Callback | None = None,
                on_yield: Callback | None = None, pool: QThreadPool | None = None,
                priority: int = 0) -> None:
    """Start ``fn(*args)`` on ``pool``; higher ``priority`` jobs leave the queue first."""
    job = Job(receiver, fn, args, on_result, on_error, on_yield)
    (pool or QThreadPool.globalInstance()).start(job.run, priority)
