"""First-use dialog: get the VGG16 weights by downloading them or by pointing at a file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core import weights
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.core.progress import Progress
from desktop_captioner.gui.workers.download_worker import WeightsDownload

_INTRO = ("Captioning needs the VGG16 image weights (a one-time 59 MB download from Google's "
          "Keras site). Download them now, or choose the file if you already have it.")


class WeightsDialog(QDialog):
    """Accepted with ``weights_path`` set to a validated weights file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("VGG16 weights needed")
        self.weights_path: Path | None = None
        self.download = WeightsDownload(self)
        self.download.progress.connect(self._on_progress)
        self.download.succeeded.connect(self._on_succeeded)
        self.download.failed.connect(self._on_failed)

        self.message = QLabel(_INTRO)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.progress_bar.hide()
        self.buttons = QDialogButtonBox()
        action = QDialogButtonBox.ButtonRole.ActionRole
        self.download_button = self.buttons.addButton("Download", action)
        self.choose_button = self.buttons.addButton("Choose File…", action)
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel)
        self.download_button.clicked.connect(self._start_download)
        self.choose_button.clicked.connect(self._choose_file)
        self.cancel_button.clicked.connect(self._cancel)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def _start_download(self) -> None:
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self.message.setText("Downloading the VGG16 weights…")
        self.download.start()

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * progress.done / progress.total))
            self.progress_bar.setFormat(
                f"{progress.done / 1e6:.1f} of {progress.total / 1e6:.1f} MB")

    def _on_succeeded(self, path: str) -> None:
        self.weights_path = Path(path)
        self.accept()

    def _on_failed(self, reason: str) -> None:
        self.progress_bar.hide()
        self.download_button.setEnabled(True)
        self.download_button.setText("Try Again")
        self.choose_button.setEnabled(True)
        if not reason:  # cancelled by the user
            self.message.setText(_INTRO)
            return
        target = weights.cache_weights_path()
        self.message.setText(
            f"{reason}\n\nOffline? Copy {target.name} into {target.parent} (the app looks there "
            "every time), or click \"Choose File…\" to use a copy stored elsewhere.")

    def _choose_file(self) -> None:
        chosen = choose_weights_file(self)
        if chosen is not None:
            self.weights_path = chosen
            self.accept()

    def _cancel(self) -> None:
        self.download.cancel()
        self.reject()

    def done(self, result: int) -> None:
        self.download.stop()  # join the download thread before the dialog can be destroyed
        super().done(result)


def choose_weights_file(parent: QWidget) -> Path | None:
    """Ask for a weights file; a file that is not VGG16 notop weights is refused with a reason."""
    name, _ = QFileDialog.getOpenFileName(parent, "Choose the VGG16 weights file", "",
                                          "Keras weights (*.h5);;All files (*)")
    if not name:
        return None
    try:
        weights.validate_weights_file(name)
    except WeightsError as exc:
        QMessageBox.warning(parent, "Not the weights file", str(exc))
        return None
    return Path(name)
