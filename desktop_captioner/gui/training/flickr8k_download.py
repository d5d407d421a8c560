"""The dataset panel's "Download Flickr8k…" row: ask for a folder, fetch and unpack Flickr8k there
in the background (``core/flickr8k_download.py``, the same code as ``get-dataset flickr8k``),
with progress and Cancel, and hand the ready folder on.

The download runs on a ``WorkerThread`` made for it and joined when it reports back; ``stop()``
(also run when the window closes) cancels it and waits, so no thread outlives the row. A
cancelled download keeps its ``.part`` file and the next attempt resumes it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.errors import describe_failure
from desktop_captioner.core.flickr8k_download import get_flickr8k
from desktop_captioner.core.progress import CancelToken, Progress
from desktop_captioner.gui.workers.worker_thread import WorkerThread

FOLDER_NAME = "Flickr8k"
PHASE_WORDS = {"download": "Downloading", "verify": "Checking", "unpack": "Unpacking"}


class Flickr8kDownload(QObject):
    """One download at a time, each on its own thread, joined when it reports back."""

    progress = Signal(object)  # Progress, in bytes
    message = Signal(str)
    succeeded = Signal(Path)  # the dataset folder, ready to train on
    failed = Signal(str)  # one sentence; "" when cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: WorkerThread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, folder: Path) -> None:
        if self.busy:
            return
        self._thread = WorkerThread("flickr8k-download", self)
        self._thread.submit(self._download, Path(folder), self._thread.new_token(),
                            on_result=self._on_succeeded, on_error=self._on_failed)

    def _download(self, folder: Path, cancel: CancelToken) -> Path:
        """In the worker thread; ``progress`` and ``message`` are emitted from there, queued."""
        return get_flickr8k(folder, progress=self.progress.emit, message=self.message.emit,
                            cancel=cancel)

    def cancel(self) -> None:
        if self._thread is not None:
            self._thread.cancel()

    def stop(self) -> None:
        """Cancel and join the running download, if any (it stops within one chunk)."""
        if self._thread is not None:
            self._thread.stop()
            self._thread.deleteLater()
            self._thread = None

    def _on_succeeded(self, folder: Path) -> None:
        self.stop()
        self.succeeded.emit(folder)

    def _on_failed(self, exc: BaseException) -> None:
        self.stop()
        self.failed.emit(describe_failure(exc, "The download stopped"))


class Flickr8kDownloadRow(QWidget):
    """A button, and while it works a progress bar, a status line and Cancel; ``downloaded``
    carries the dataset folder once it is ready."""

    downloaded = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.download = Flickr8kDownload(self)
        self.download.progress.connect(self._on_progress)
        self.download.message.connect(self._on_message)
        self.download.succeeded.connect(self._on_succeeded)
        self.download.failed.connect(self._on_failed)

        self.button = QPushButton("Download Flickr8k…")
        self.button.setToolTip(
            f"Download the Flickr8k dataset (about 1 GB: 8,091 photos, five captions each) into "
            f"a {FOLDER_NAME} folder inside a folder you choose, check it and unpack it. An "
            f"interrupted download resumes where it stopped.")
        self.button.clicked.connect(self.choose_and_start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.download.cancel)
        self.progress_bar = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._show_busy(False)
        self.status.hide()

    @Slot()
    def choose_and_start(self) -> None:
        parent = QFileDialog.getExistingDirectory(
            self, f"Where should the {FOLDER_NAME} folder go?", str(Path.home()))
        if not parent:
            return
        folder = Path(parent) / FOLDER_NAME
        self.status.setText(f"Getting Flickr8k into {folder} …")
        self.status.show()
        self.progress_bar.setRange(0, 0)
        self._show_busy(True)
        self.download.start(folder)

    def stop(self) -> None:
        self.download.stop()

    def hideEvent(self, event) -> None:
        """The window closed (not just a page switch): no download may run on behind it."""
        if not self.window().isVisible():
            self.download.stop()
        super().hideEvent(event)

    def _show_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * min(progress.done / progress.total, 1.0)))
            self.progress_bar.setFormat(
                f"{PHASE_WORDS.get(progress.phase, progress.phase)} {progress.done / 1e6:,.1f} "
                f"of {progress.total / 1e6:,.1f} MB")

    @Slot(str)
    def _on_message(self, text: str) -> None:
        self.status.setText(text)

    @Slot(Path)
    def _on_succeeded(self, folder: Path) -> None:
        self._show_busy(False)
        self.downloaded.emit(folder)

    @Slot(str)
    def _on_failed(self, reason: str) -> None:
        self._show_busy(False)
        self.status.setText(reason or "Download cancelled; downloading again resumes it.")
