"""Downloads the VGG16 weights in a QThread so the dialog's progress bar and Cancel stay live."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from desktop_captioner.core import weights
from desktop_captioner.core.errors import Cancelled, CaptionerError
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.gui.workers.python_thread import PythonThread

log = logging.getLogger(__name__)


class _DownloadWorker(QObject):
    progress = Signal(object)  # Progress (bytes)
    succeeded = Signal(str)  # path of the verified file
    failed = Signal(str)  # one-sentence reason ("" when cancelled)

    @Slot(object)
    def run(self, cancel: CancelToken) -> None:
        try:
            path = weights.download_weights(progress=self.progress.emit, cancel=cancel)
        except Cancelled:
            self.failed.emit("")
        except CaptionerError as exc:
            log.info("weights download failed: %s", exc)
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - the dialog must always hear back
            log.exception("weights download failed")
            self.failed.emit(f"The download failed: {exc.__class__.__name__}: {exc}.")
        else:
            self.succeeded.emit(str(path))


class WeightsDownload(QObject):
    """One download at a time in its own thread; ``stop()`` cancels and joins it."""

    _start = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = PythonThread(self)
        self.thread.setObjectName("weights-download")
        self.worker = _DownloadWorker()
        self.worker.moveToThread(self.thread)
        self._start.connect(self.worker.run)
        self.progress, self.succeeded, self.failed = (
            self.worker.progress, self.worker.succeeded, self.worker.failed)
        self._cancel = CancelToken()
        self.thread.start()

    def start(self) -> None:
        self._cancel = CancelToken()
        self._start.emit(self._cancel)

    def cancel(self) -> None:
        self._cancel.cancel()

    def stop(self) -> None:
        self._cancel.cancel()
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()

