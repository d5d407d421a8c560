"""Status bar: transient messages on the left, model state and batch progress on the right."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from desktop_captioner.core.progress import Progress, format_eta


class CaptionStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setTextVisible(True)
        self.model_label = QLabel("No model loaded")
        self.addPermanentWidget(self.progress_label)
        self.addPermanentWidget(self.progress_bar)
        self.addPermanentWidget(self.model_label)
        self.hide_progress()

    def set_model_state(self, text: str, tooltip: str = "") -> None:
        self.model_label.setText(text)
        self.model_label.setToolTip(tooltip)

    def start_progress(self, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"0 / {total}")
        self.progress_label.setText("Starting…")
        self.progress_bar.show()
        self.progress_label.show()

    def show_progress(self, progress: Progress) -> None:
        self.progress_bar.setRange(0, max(progress.total, 1))
        self.progress_bar.setValue(progress.done)
        self.progress_bar.setFormat(f"{progress.done} / {progress.total}")
        self.progress_label.setText(f"{progress.rate:.1f} images/s, ETA {format_eta(progress.eta)}")

    def hide_progress(self) -> None:
        self.progress_bar.hide()
        self.progress_label.hide()
