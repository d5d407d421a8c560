"""The two ways to run background work: a WorkerThread (long-lived, joined on stop) and
run_in_pool (short jobs). Both deliver results, yields and errors on the GUI thread, never to a
receiver that has been deleted, and stop cleanly."""

from __future__ import annotations

import logging
import threading

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from desktop_captioner.core.errors import Cancelled, describe_failure
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.gui.workers.pool_job import run_in_pool
from desktop_captioner.gui.workers.worker_thread import WorkerThread


class Recorder:
    """Callbacks that note what arrived and on which thread."""

    def __init__(self) -> None:
        self.results: list = []
        self.errors: list[BaseException] = []
        self.yields: list = []
        self.threads: set[threading.Thread] = set()

    def result(self, value) -> None:
        self.threads.add(threading.current_thread())
        self.results.append(value)

    def error(self, exc) -> None:
        self.threads.add(threading.current_thread())
        self.errors.append(exc)

    def yielded(self, value) -> None:
        self.threads.add(threading.current_thread())
        self.yields.append(value)

    def callbacks(self) -> dict:
        return {"on_result": self.result, "on_error": self.error, "on_yield": self.yielded}


def count_to(n: int):
    for i in range(n):
        yield i
    return threading.current_thread()


def wait_for_cancel(started: threading.Event, cancel: CancelToken) -> None:
    started.set()
    while not cancel.cancelled:
        threading.Event().wait(0.01)
    cancel.raise_if_cancelled()


def fail() -> None:
    raise ValueError("no such thing\nthe real reason")


@pytest.fixture
def owner(qtbot):
    owner = QObject()
    yield owner
    if shiboken6.isValid(owner):
        shiboken6.delete(owner)


@pytest.fixture
def worker_thread(owner):
    thread = WorkerThread("test-worker", owner)
    yield thread
    thread.stop()
    assert not thread.isRunning()


# --- WorkerThread ------------------------------------------------------------------------------

def test_jobs_run_in_order_on_one_thread_and_report_on_the_gui_thread(qtbot, worker_thread):
    got = Recorder()
    worker_thread.submit(count_to, 3, **got.callbacks())
    worker_thread.submit(count_to, 2, **got.callbacks())
    qtbot.waitUntil(lambda: len(got.results) == 2)
    assert got.yields == [0, 1, 2, 0, 1]
    ran_on = set(got.results)
    assert len(ran_on) == 1 and threading.main_thread() not in ran_on
    assert got.threads == {threading.main_thread()}


def test_cancel_stops_the_running_job_with_cancelled(qtbot, worker_thread):
    got, started = Recorder(), threading.Event()
    worker_thread.submit(wait_for_cancel, started, worker_thread.new_token(), **got.callbacks())
    qtbot.waitUntil(started.is_set)
    worker_thread.cancel()
    qtbot.waitUntil(lambda: bool(got.errors))
    assert isinstance(got.errors[0], Cancelled) and describe_failure(got.errors[0], "x") == ""
    assert got.results == []


def test_a_new_token_can_cancel_the_one_before(worker_thread):
    first = worker_thread.new_token()
    second = worker_thread.new_token(cancel_current=True)
    assert first.cancelled and not second.cancelled
    worker_thread.new_token()
    assert not second.cancelled


def test_an_error_reaches_the_gui_thread_and_the_thread_goes_on(qtbot, worker_thread):
    got = Recorder()
    worker_thread.submit(fail, **got.callbacks())
    worker_thread.submit(count_to, 1, **got.callbacks())
    qtbot.waitUntil(lambda: bool(got.results))
    [error] = got.errors
    assert isinstance(error, ValueError)
    assert "(ValueError: the real reason)" in describe_failure(error, "It stopped")
    assert got.threads == {threading.main_thread()}


def test_an_error_nobody_receives_is_logged(qtbot, worker_thread, caplog):
    got = Recorder()
    with caplog.at_level(logging.ERROR):
        worker_thread.submit(fail)
        worker_thread.submit(count_to, 0, on_result=got.result)
        qtbot.waitUntil(lambda: bool(got.results))
    assert any(record.exc_info and isinstance(record.exc_info[1], ValueError)
               for record in caplog.records)


def test_stop_cancels_joins_and_drops_queued_jobs(qtbot, owner):
    thread = WorkerThread("stopping", owner)
    got, started = Recorder(), threading.Event()
    thread.submit(wait_for_cancel, started, thread.new_token(), **got.callbacks())
    thread.submit(count_to, 1, **got.callbacks())
    qtbot.waitUntil(started.is_set)
    thread.stop()
    assert thread.isFinished() and not thread.isRunning()
    thread.stop()  # twice is fine
    thread.submit(count_to, 1, **got.callbacks())  # ignored after stop
    qtbot.waitUntil(lambda: bool(got.errors))
    assert isinstance(got.errors[0], Cancelled)
    assert got.results == [] and got.yields == []


def test_nothing_reaches_a_receiver_deleted_before_the_job_ends(qtbot, worker_thread):
    gone, kept = Recorder(), Recorder()
    receiver, release = QObject(), threading.Event()

    def blocked():
        release.wait(5)
        yield "late"
        return "late"

    worker_thread.submit(blocked, receiver=receiver, **gone.callbacks())
    worker_thread.submit(fail, receiver=receiver, **gone.callbacks())
    worker_thread.submit(count_to, 1, **kept.callbacks())
    shiboken6.delete(receiver)
    release.set()
    qtbot.waitUntil(lambda: bool(kept.results))  # delivered after the deleted receiver's
    assert (gone.results, gone.yields, gone.errors) == ([], [], [])


# --- run_in_pool -------------------------------------------------------------------------------

@pytest.fixture
def pool(owner):
    pool = QThreadPool(owner)
    pool.setMaxThreadCount(1)
    yield pool
    pool.clear()
    pool.waitForDone()


def test_a_pool_job_yields_and_returns_on_the_gui_thread(qtbot, owner, pool):
    got = Recorder()
    run_in_pool(owner, count_to, 3, pool=pool, **got.callbacks())
    qtbot.waitUntil(lambda: bool(got.results))
    assert got.yields == [0, 1, 2]
    assert got.results[0] is not threading.main_thread()
    assert got.threads == {threading.main_thread()}


def test_the_global_pool_is_used_by_default(qtbot, owner):
    got = Recorder()
    run_in_pool(owner, count_to, 0, on_result=got.result)
    qtbot.waitUntil(lambda: bool(got.results))
    assert QThreadPool.globalInstance().waitForDone(5000)


def test_a_pool_job_error_and_cancel_reach_on_error(qtbot, owner, pool):
    got, started, cancel = Recorder(), threading.Event(), CancelToken()
    run_in_pool(owner, fail, pool=pool, **got.callbacks())
    run_in_pool(owner, wait_for_cancel, started, cancel, pool=pool, **got.callbacks())
    qtbot.waitUntil(started.is_set)
    cancel.cancel()
    qtbot.waitUntil(lambda: len(got.errors) == 2)
    assert isinstance(got.errors[0], ValueError) and isinstance(got.errors[1], Cancelled)
    assert got.results == []


def test_a_pool_job_outliving_its_receiver_delivers_nothing(qtbot, owner, pool):
    gone, kept = Recorder(), Recorder()
    receiver, release = QObject(), threading.Event()

    def blocked():
        release.wait(5)
        return "late"

    run_in_pool(receiver, blocked, pool=pool, **gone.callbacks())
    run_in_pool(owner, count_to, 1, pool=pool, **kept.callbacks())
    shiboken6.delete(receiver)
    release.set()
    qtbot.waitUntil(lambda: bool(kept.results))  # one pool thread: delivered after the other
    pool.waitForDone()
    assert (gone.results, gone.errors) == ([], [])
