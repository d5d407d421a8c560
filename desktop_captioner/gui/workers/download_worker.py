"""Downloads the VGG16 weights off the GUI thread so the progress bar and Cancel stay live."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop_captioner.core import weights
from desktop_captioner.core.errors import describe_failure
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.gui.workers.worker_thread import WorkerThread


class WeightsDownload(QObject):
    """One download at a time in its own thread; ``stop()`` cancels and joins it."""

    progress = Signal(object)  # Progress (bytes)
    succeeded = Signal(str)  # path of the verified file
    failed = Signal(str)  # one-sentence reason ("" when cancelled)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = WorkerThread("weights-download", self)

    def start(self) -> None:
        self.thread.submit(self._download, self.thread.new_token(),
                           on_result=lambda path: self.succeeded.emit(str(path)),
                           on_error=lambda exc: self.failed.emit(
                               describe_failure(exc, "The download stopped")))

    def _download(self, cancel: CancelToken):
        """In the worker thread; ``progress`` is emitted from there, queued to the dialog."""
        return weights.download_weights(progress=self.progress.emit, cancel=cancel)

    def cancel(self) -> None:
        self.thread.cancel()

    def stop(self) -> None:
        self.thread.stop()
