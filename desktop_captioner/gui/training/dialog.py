"""Train New Model: choose a dataset folder, check it, pick settings, watch it train, use it.

The dialog never blocks on training: a ``TrainingWorker`` in its own ``WorkerThread`` runs the
pipeline and every report arrives as a queued signal. Closing the dialog (or the main window)
while it trains asks first, then cancels, and waits for the worker to stop at the end of its
batch, so no thread outlives the dialog and the checkpoint is kept for Resume.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.dataset import TOKEN_FILE_NAME, Dataset
from desktop_captioner.core.errors import Cancelled, describe_failure
from desktop_captioner.core.progress import Progress
from desktop_captioner.gui.training.dataset_panel import SAMPLE_IMAGES, DatasetPanel
from desktop_captioner.gui.training.run_view import RunView
from desktop_captioner.gui.training.settings_form import TrainingSettingsForm
from desktop_captioner.gui.training.worker import TrainingJob, TrainingResult, TrainingWorker
from desktop_captioner.gui.workers.worker_thread import WorkerThread

_SETUP_PAGE, _RUN_PAGE = 0, 1
SAMPLE_FOLDER_NAME = "captioner-sample"


class TrainingDialog(QDialog):
    """``use_model(Path)`` is emitted when the user wants to caption with the trained model."""

    use_model = Signal(Path)
    # "setup" | "running" | "stopping" | "cancelled" | "failed" | "done"
    state_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, weights: Path | None = None,
                 dataset_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train New Model")
        self.setSizeGripEnabled(True)
        self.resize(1120, 780)
        self.weights = weights
        self.state = "setup"
        self._dataset: Dataset | None = None
        self._job: TrainingJob | None = None
        self._thread: WorkerThread | None = None  # one per run, joined when the run ends
        self._worker: TrainingWorker | None = None
        self._build()
        if parent is not None:
            # Closing the main window must not destroy a running QThread: ask and stop first.
            parent.installEventFilter(self)
        if dataset_dir is not None:
            self.choose_folder(Path(dataset_dir))

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("A Flickr8k-style folder: images plus a captions file")
        self.folder_edit.returnPressed.connect(
            lambda: self.choose_folder(Path(self.folder_edit.text().strip()).expanduser()))
        self.browse_button = QPushButton("Choose Folder…")
        self.browse_button.clicked.connect(self._browse)
        self.sample_button = QPushButton("Make Sample Dataset…")
        self.sample_button.setToolTip(
            f"No dataset yet? Write {SAMPLE_FOLDER_NAME}/ ({SAMPLE_IMAGES} generated pictures of "
            "coloured shapes, five captions each) into a folder you choose and train on that: a "
            "few minutes on a CPU.")
        self.sample_button.clicked.connect(self._make_sample)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Dataset folder:"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        folder_row.addWidget(self.sample_button)

        self.dataset_panel = DatasetPanel()
        self.dataset_panel.inspected.connect(self._on_inspected)
        self.dataset_panel.rejected.connect(self._on_rejected)
        self.dataset_panel.flickr8k.downloaded.connect(self.choose_folder)
        self.settings = TrainingSettingsForm()
        found_box = QGroupBox("What is in the folder")
        QVBoxLayout(found_box).addWidget(self.dataset_panel)
        settings_box = QGroupBox("Settings (the defaults work; hover for explanations)")
        QVBoxLayout(settings_box).addWidget(self.settings)
        setup_page = QWidget()
        setup_row = QHBoxLayout(setup_page)
        setup_row.setContentsMargins(0, 0, 0, 0)
        setup_row.addWidget(found_box, 1)
        setup_row.addWidget(settings_box, 1)

        self.run_view = RunView()
        self.run_view.use_model.connect(self._use_model)

        self.pages = QStackedWidget()
        self.pages.addWidget(setup_page)
        self.pages.addWidget(self.run_view)

        self.back_button = QPushButton("‹ Settings")
        self.back_button.setToolTip("Change the dataset or the settings and start again.")
        self.back_button.clicked.connect(self._back_to_setup)
        self.start_button = QPushButton("Start Training")
        self.start_button.setToolTip("Start training (Ctrl+Return). Plain Return does not, so "
                                     "finishing an entry never starts a long run by accident.")
        self.start_button.clicked.connect(self.start_training)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._start_shortcut)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self._start_shortcut)
        self.cancel_button = QPushButton("Cancel Training")
        self.cancel_button.setToolTip("Stop after the current batch. Finished epochs are kept and "
                                      "Resume continues after the last one.")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the cancelled training after its last finished "
                                      "epoch.")
        self.resume_button.clicked.connect(self.resume_training)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.resume_button,
                       self.close_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(folder_row)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self._set_state("setup")

    def _set_state(self, state: str) -> None:
        self.state = state
        idle = state in ("setup", "cancelled", "failed", "done")
        self.pages.setCurrentIndex(_SETUP_PAGE if state == "setup" else _RUN_PAGE)
        self.folder_edit.setEnabled(state == "setup")
        self.browse_button.setEnabled(state == "setup")
        self.sample_button.setEnabled(state == "setup")
        self.back_button.setVisible(idle and state != "setup")
        self.start_button.setVisible(state == "setup")
        self.start_button.setEnabled(state == "setup" and self._dataset is not None)
        self.cancel_button.setVisible(state in ("running", "stopping"))
        self.cancel_button.setEnabled(state == "running")
        self.resume_button.setVisible(state == "cancelled")
        self.close_button.setEnabled(state != "stopping")
        self.state_changed.emit(state)

    # ---------------------------------------------------------------- dataset
    def choose_folder(self, folder: Path, make_sample: bool = False) -> None:
        """Show ``folder`` and inspect it in the background; Start waits for a usable result."""
        if self.is_training():
            return
        self.folder_edit.setText(str(folder))
        self._dataset = None
        self._set_state("setup")
        self.dataset_panel.inspect(folder, make_sample)

    @Slot()
    def _make_sample(self) -> None:
        parent = QFileDialog.getExistingDirectory(
            self, f"Where should the {SAMPLE_FOLDER_NAME} folder go?", str(Path.home()))
        if parent:
            folder = Path(parent) / SAMPLE_FOLDER_NAME
            self.choose_folder(folder, make_sample=not (folder / TOKEN_FILE_NAME).exists())

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a dataset folder",
                                                  self.folder_edit.text())
        if folder:
            self.choose_folder(Path(folder))

    @Slot(object)
    def _on_inspected(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self.settings.suggest_name(f"{dataset.root.name}-model")
        self._set_state("setup")

    @Slot(str)
    def _on_rejected(self, _reason: str) -> None:
        self._dataset = None
        self._set_state("setup")

    # ---------------------------------------------------------------- running
    @Slot()
    def _start_shortcut(self) -> None:
        if self.start_button.isVisible() and self.start_button.isEnabled():
            self.start_training()

    @Slot()
    def start_training(self) -> None:
        """Start a new run with the current settings (asks before replacing an existing model)."""
        if self._dataset is None or self.is_training():
            return
        choices = self.settings.choices()
        if choices.out_path.exists() and QMessageBox.question(
                self, "Replace model?",
                f"{choices.out_path} already exists. Replace it with the model you are about "
                "to train?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
            return
        self._job = TrainingJob(dataset_dir=self._dataset.root,
                                images_dir=self._dataset.images_dir, out_path=choices.out_path,
                                config=choices.config, image_size=choices.image_size,
                                precision=choices.precision, devices=choices.devices,
                                weights=self.weights)
        self.run_view.new_model(int(choices.config["epochs"]),
                                f"Training {choices.out_path.name} on {self._dataset.root}.")
        self._launch(self._job)

    @Slot()
    def resume_training(self) -> None:
        """Continue the cancelled run from its checkpoint, with the same settings."""
        if self._job is None or self.is_training():
            return
        self._job = dataclasses.replace(self._job, resume=True)
        self.run_view.log("Resuming from the last finished epoch.")
        self._launch(self._job)

    @Slot()
    def cancel_training(self) -> None:
        """Ask the worker to stop after its current batch (the checkpoint is kept)."""
        if self.state == "running" and self._thread is not None:
            self._thread.cancel()
            self.run_view.log("Stopping after the current batch …")
            self._set_state("stopping")

    def is_training(self) -> bool:
        return self._thread is not None

    def stop_and_wait(self) -> None:
        """Cancel a running training and block until its thread has finished."""
        if self._thread is None:
            return
        self._set_state("stopping")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._end_thread()
        finally:
            QApplication.restoreOverrideCursor()

    def _launch(self, job: TrainingJob) -> None:
        thread = self._thread = WorkerThread("training", self)
        self._worker = TrainingWorker(job, thread.new_token())
        self._worker.report.connect(self._on_event)
        self._worker.progress.connect(self._on_progress)
        self.run_view.run_started()
        self._set_state("running")
        thread.submit(self._worker.run, on_result=functools.partial(self._on_succeeded, thread),
                      on_error=functools.partial(self._on_error, thread))

    def _run_ended(self, thread: WorkerThread) -> bool:
        """Join the thread of the run that ended; False when a newer run has started since
        (the outcome that arrived is stale)."""
        if thread is self._thread:
            self._end_thread()
            return True
        return self._thread is None

    def _end_thread(self) -> None:
        """Cancel and join the run's thread (it has usually ended already) and drop it."""
        if self._thread is not None:
            self._thread.stop()
            self._thread.deleteLater()
            self._thread, self._worker = None, None

    # Reports still queued after a cancel or a close are dropped: the run is over for the user.
    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        if self.state == "running":
            self.run_view.show_progress(report)

    @Slot(object)
    def _on_event(self, event) -> None:
        if self.state == "running":
            self.run_view.show_event(event)

    def _on_succeeded(self, thread: WorkerThread, result: TrainingResult) -> None:
        if not self._run_ended(thread):
            return
        self.run_view.show_succeeded(result)
        self._set_state("done")

    def _on_error(self, thread: WorkerThread, exc: Exception) -> None:
        if not self._run_ended(thread):
            return
        if isinstance(exc, Cancelled):
            self.run_view.show_cancelled()
            self._set_state("cancelled")
        else:
            self.run_view.show_failed(describe_failure(exc, "Training stopped"))
            self._set_state("failed")

    @Slot(Path)
    def _use_model(self, path: Path) -> None:
        self.use_model.emit(path)
        self.accept()

    @Slot()
    def _back_to_setup(self) -> None:
        self._set_state("setup")

    # ---------------------------------------------------------------- closing
    def confirm_stop(self) -> bool:
        """While training, ask whether to stop; on Yes stop cleanly. False means keep going."""
        if not self.is_training():
            return True
        answer = QMessageBox.question(
            self, "Stop training?",
            "Training is still running. Stop it now? Finished epochs are kept, so "
            "you can resume later.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.stop_and_wait()
        return True

    def reject(self) -> None:
        """Close, Escape and the window's close box all land here (QDialog.closeEvent calls it)."""
        if self.confirm_stop():
            self.dataset_panel.wait()
            super().reject()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and watched is self.parent() and self.is_training():
            if not self.confirm_stop():
                event.ignore()
                return True
        return super().eventFilter(watched, event)
