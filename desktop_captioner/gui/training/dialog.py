"""Train New Model: choose a dataset folder, check it, pick settings, watch it train, use it.

The dialog never blocks on training: a ``TrainingWorker`` in its own QThread runs the pipeline
and every report arrives as a queued signal. Closing the dialog (or the main window) while it
trains asks first, then cancels, and waits for the worker to stop at the end of its batch, so no
thread outlives the dialog and the checkpoint is kept for Resume.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QDialog, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton,
                               QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from desktop_captioner.cli.terminal import format_eta
from desktop_captioner.core.dataset import TOKEN_FILE_NAME, Dataset
from desktop_captioner.core.progress import CancelToken, Progress
from desktop_captioner.gui.training.dataset_panel import SAMPLE_IMAGES, DatasetPanel
from desktop_captioner.gui.training.loss_chart import LossChart
from desktop_captioner.gui.training.results_panel import ResultsPanel, format_duration
from desktop_captioner.gui.training.settings_form import TrainingSettingsForm
from desktop_captioner.gui.training.steps import STEP_KEYS, STEPS, StepList, step_index
from desktop_captioner.gui.training.worker import TrainingJob, TrainingResult, TrainingWorker

_SETUP_PAGE, _RUN_PAGE = 0, 1
SAMPLE_FOLDER_NAME = "captioner-sample"
TRAIN_STEP = STEP_KEYS.index("train")


class TrainingDialog(QDialog):
    """``use_model(Path)`` is emitted when the user wants to caption with the trained model."""

    use_model = Signal(Path)
    state_changed = Signal(str)  # "setup" | "running" | "stopping" | "cancelled" | "failed" | "done"

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
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._cancel = CancelToken()
        self._run_started = 0.0
        self._seconds = 0.0  # training time over all runs of this model (cancel + resume)
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

        self.steps = StepList()
        self.step_label = QLabel()
        font = self.step_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.step_label.setFont(font)
        self.step_detail = QLabel()
        self.step_detail.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.rate_label = QLabel()
        self.chart = LossChart()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.results = ResultsPanel()
        self.results.use_model.connect(self._use_model)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.results, "Results")
        self.tabs.setTabEnabled(1, False)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([420, 260])
        status = QVBoxLayout()
        status.addWidget(self.step_label)
        status.addWidget(self.step_detail)
        status.addWidget(self.progress_bar)
        status.addWidget(self.rate_label)
        status.addWidget(splitter, 1)
        self.elapsed_label = QLabel()
        self.elapsed_label.setWordWrap(True)
        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(1000)
        self._elapsed_timer.timeout.connect(self._show_elapsed)
        left = QVBoxLayout()
        left.addWidget(self.steps)
        left.addWidget(self.elapsed_label)
        left.addStretch(1)
        run_page = QWidget()
        run_row = QHBoxLayout(run_page)
        run_row.setContentsMargins(0, 0, 0, 0)
        run_row.addLayout(left)
        run_row.addLayout(status, 1)

        self.pages = QStackedWidget()
        self.pages.addWidget(setup_page)
        self.pages.addWidget(run_page)

        self.back_button = QPushButton("‹ Settings")
        self.back_button.setToolTip("Change the dataset or the settings and start again.")
        self.back_button.clicked.connect(self._back_to_setup)
        self.start_button = QPushButton("Start Training")
        self.start_button.setToolTip("Start training (Ctrl+Return).")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_training)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._start_shortcut)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self._start_shortcut)
        self.cancel_button = QPushButton("Cancel Training")
        self.cancel_button.setToolTip("Stop after the current batch; the best checkpoint so far "
                                      "is kept and Resume continues from it.")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the cancelled training from its best checkpoint.")
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
                                precision=choices.precision, weights=self.weights)
        self._seconds = 0.0
        self.chart.reset(int(choices.config["epochs"]))
        self.log_view.clear()
        self.tabs.setTabEnabled(1, False)
        self.tabs.setCurrentIndex(0)
        self._log(f"Training {choices.out_path.name} on {self._dataset.root}.")
        self._launch(self._job)

    @Slot()
    def resume_training(self) -> None:
        """Continue the cancelled run from its checkpoint, with the same settings."""
        if self._job is None or self.is_training():
            return
        self._job = TrainingJob(**{**self._job.__dict__, "resume": True})
        self._log("Resuming from the best checkpoint.")
        self._launch(self._job)

    @Slot()
    def cancel_training(self) -> None:
        """Ask the worker to stop after its current batch (the checkpoint is kept)."""
        if self.state == "running":
            self._cancel.cancel()
            self._log("Stopping after the current batch …")
            self._set_state("stopping")

    def is_training(self) -> bool:
        return self._thread is not None

    def stop_and_wait(self) -> None:
        """Cancel a running training and block until its thread has finished."""
        if self._thread is None:
            return
        self._cancel.cancel()
        self._set_state("stopping")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._thread.quit()
            self._thread.wait()
        finally:
            QApplication.restoreOverrideCursor()
        self._on_thread_finished()

    def _launch(self, job: TrainingJob) -> None:
        self._cancel = CancelToken()
        self.steps.reset()
        self.step_label.setText("Starting …")
        self.step_detail.setText("Loading TensorFlow; the first step starts in a few seconds.")
        self.progress_bar.setRange(0, 0)
        self.rate_label.clear()
        self._thread = QThread()
        self._thread.setObjectName("training")
        self._worker = TrainingWorker(job, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)
        self._worker.progress.connect(self._on_progress)
        self._worker.succeeded.connect(self._on_succeeded)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.done.connect(self._thread.quit)
        self._thread.finished.connect(self._on_thread_finished)
        self._run_started = time.monotonic()
        self._set_state("running")
        self._elapsed_timer.start()
        self._show_elapsed()
        self._thread.start()

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._thread, self._worker = None, None

    def _enter_step(self, phase: str) -> int | None:
        index = step_index(phase)
        if index is not None and index != self.steps.current:
            self.steps.set_current(index)
            self.step_label.setText(f"Step {index + 1} of {len(STEPS)}: {STEPS[index][1]}")
            self.step_detail.setText(STEPS[index][2])
            self.progress_bar.setRange(0, 0)
            self.rate_label.clear()
            self._log(f"— {STEPS[index][1]}")
        return index

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        """Counting through images (features, evaluation) or bytes (the weights download)."""
        if self.state != "running":
            return
        self._enter_step(report.phase)
        self.progress_bar.setRange(0, max(report.total, 1))
        self.progress_bar.setValue(report.done)
        if report.phase == "download":
            self.progress_bar.setFormat("downloading the VGG16 weights · %p%")
            self.rate_label.setText(self._rate_text(report.rate / 1e6, "MB", report.eta))
        else:
            self.progress_bar.setFormat("%v of %m images")
            self.rate_label.setText(self._rate_text(report.rate, "images", report.eta))

    @Slot(object)
    def _on_event(self, event) -> None:
        """A pipeline ``StepEvent`` (phase, message) or a ``core.training.TrainingEvent``."""
        if self.state != "running":
            return
        if self._enter_step(event.phase) != TRAIN_STEP or not hasattr(event, "epochs"):
            if event.message:  # a pipeline StepEvent: the step's news for the log
                self._log(event.message)
            return
        if event.epochs:
            self.chart.set_epochs(event.epochs)
        if event.phase == "train" and event.batches:
            done = (event.epoch - 1) * event.batches + event.batch
            self.progress_bar.setRange(0, event.epochs * event.batches)
            self.progress_bar.setValue(done)
            self.progress_bar.setFormat(f"epoch {event.epoch} of {event.epochs} · %p%")
            self.rate_label.setText(self._rate_text(event.captions_per_s, "captions", event.eta))
            if event.loss is not None:
                self.chart.add_batch_loss(done / event.batches, event.loss)
        elif event.phase == "validate":
            self.rate_label.setText(event.message)
        elif event.phase == "epoch_end":
            self.chart.add_epoch(event.epoch, event.loss, event.val_loss)
            self._log(f"Epoch {event.epoch} of {event.epochs}: loss {event.loss:.3f}, "
                      f"validation loss {event.val_loss:.3f} (best {event.best_val_loss:.3f})")
            if event.message:
                self._log(event.message)
        elif event.message:
            self._log(event.message)

    @staticmethod
    def _rate_text(rate: float, unit: str, eta: float | None) -> str:
        speed = f"{rate:,.1f} {unit}/s" if rate else ""
        left = f"about {format_eta(eta)} left in this step" if eta is not None else ""
        return " · ".join(part for part in (speed, left) if part)

    @Slot(object)
    def _on_succeeded(self, result: TrainingResult) -> None:
        self._count_time()
        self.steps.finish()
        self.step_label.setText("Done")
        self.step_detail.setText("The model is trained, scored on the test images and saved.")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat("%p%")
        self.rate_label.clear()
        self.results.show_result(result, self._seconds)
        self.tabs.setTabEnabled(1, True)
        self.tabs.setCurrentIndex(1)
        self._log(f"Saved {result.model_path} after {format_duration(self._seconds)}.")
        self._set_state("done")

    @Slot(str)
    def _on_failed(self, reason: str) -> None:
        self._count_time()
        self.steps.mark_stopped(failed=True)
        self.step_label.setText("Training failed")
        self.step_detail.setText(html.escape(reason))
        self._stop_bar()
        self._log(f"Failed: {reason}")
        self._set_state("failed")

    @Slot(str)
    def _on_cancelled(self, _reason: str) -> None:
        self._count_time()
        self.steps.mark_stopped(failed=False)
        self.step_label.setText("Training cancelled")
        self.step_detail.setText("The best checkpoint so far is kept: Resume continues from it.")
        self._stop_bar()
        self._log("Cancelled; Resume continues from the best checkpoint.")
        self._set_state("cancelled")

    def _count_time(self) -> None:
        self._seconds += time.monotonic() - self._run_started
        self._elapsed_timer.stop()
        self._show_elapsed()

    @Slot()
    def _show_elapsed(self) -> None:
        seconds = self._seconds
        if self._elapsed_timer.isActive():
            seconds += time.monotonic() - self._run_started
        self.elapsed_label.setText(f"Time so far: {format_eta(seconds)}")

    def _stop_bar(self) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("stopped")
        self.rate_label.clear()

    @Slot(Path)
    def _use_model(self, path: Path) -> None:
        self.use_model.emit(path)
        self.accept()

    @Slot()
    def _back_to_setup(self) -> None:
        self._set_state("setup")

    def _log(self, line: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    # ---------------------------------------------------------------- closing
    def confirm_stop(self) -> bool:
        """While training, ask whether to stop; on Yes stop cleanly. False means keep going."""
        if not self.is_training():
            return True
        answer = QMessageBox.question(
            self, "Stop training?",
            "Training is still running. Stop it now? The best checkpoint so far is kept and "
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close and watched is self.parent() and self.is_training():
            if not self.confirm_stop():
                event.ignore()
                return True
        return super().eventFilter(watched, event)
