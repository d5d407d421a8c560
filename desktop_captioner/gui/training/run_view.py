"""The page shown while (and after) training: steps, progress with rate and ETA, the live loss
chart, a log, and the results once the model is saved.

It only displays reports; the dialog decides when a run starts and ends.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.progress import Progress, format_eta
from desktop_captioner.gui.training.loss_chart import LossChart
from desktop_captioner.gui.training.results_panel import ResultsPanel, format_duration
from desktop_captioner.gui.training.steps import STEP_KEYS, STEPS, StepList, step_index
from desktop_captioner.gui.training.worker import TrainingResult

TRAIN_STEP = STEP_KEYS.index("train")
RUNNING_SIZES, FINISHED_SIZES = [420, 260], [300, 380]  # chart vs log/results, in pixels


def rate_text(rate: float, unit: str, eta: float | None) -> str:
    speed = f"{rate:,.1f} {unit}/s" if rate else ""
    left = f"about {format_eta(eta)} left in this step" if eta is not None else ""
    return " · ".join(part for part in (speed, left) if part)


class RunView(QWidget):
    """``seconds`` is the training time of this model so far, over a cancel and its resume."""

    use_model = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds = 0.0
        self._run_started = 0.0
        self.steps = StepList()
        self.step_label = QLabel()
        font = self.step_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.step_label.setFont(font)
        self.step_detail = QLabel()
        self.step_detail.setWordWrap(True)
        self.step_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.step_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.rate_label = QLabel()
        self.chart = LossChart()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.results = ResultsPanel()
        self.results.use_model.connect(self.use_model)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.results, "Results")
        self.tabs.setTabEnabled(1, False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.chart)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes(RUNNING_SIZES)
        status = QVBoxLayout()
        for widget in (self.step_label, self.step_detail, self.progress_bar, self.rate_label):
            status.addWidget(widget)
        status.addWidget(self.splitter, 1)
        self.elapsed_label = QLabel()
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show_elapsed)
        left = QVBoxLayout()
        left.addWidget(self.steps)
        left.addWidget(self.elapsed_label)
        left.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(left)
        row.addLayout(status, 1)

    def new_model(self, epochs: int, first_line: str) -> None:
        """Forget the previous model's chart, log, results and time."""
        self.seconds = 0.0
        self.chart.reset(epochs)
        self.log_view.clear()
        self.tabs.setTabEnabled(1, False)
        self.tabs.setCurrentIndex(0)
        self.splitter.setSizes(RUNNING_SIZES)
        self.log(first_line)

    def run_started(self) -> None:
        self.steps.reset()
        self.step_label.setText("Starting …")
        self.step_detail.setText("Loading TensorFlow; the first step starts in a few seconds.")
        self.progress_bar.setRange(0, 0)
        self.rate_label.clear()
        self._run_started = time.monotonic()
        self._clock.start()
        self._show_elapsed()

    def log(self, line: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    # ---------------------------------------------------------------- reports
    def _enter_step(self, phase: str) -> int | None:
        index = step_index(phase)
        if index is not None and index != self.steps.current:
            self.steps.set_current(index)
            self.step_label.setText(f"Step {index + 1} of {len(STEPS)}: {STEPS[index][1]}")
            self.step_detail.setText(STEPS[index][2])
            self.progress_bar.setRange(0, 0)
            self.rate_label.clear()
            self.log(f"— {STEPS[index][1]}")
        return index

    def show_progress(self, report: Progress) -> None:
        """Counting through images (features, evaluation) or bytes (the weights download)."""
        self._enter_step(report.phase)
        self.progress_bar.setRange(0, max(report.total, 1))
        self.progress_bar.setValue(report.done)
        if report.phase == "download":
            self.progress_bar.setFormat("downloading the VGG16 weights · %p%")
            self.rate_label.setText(rate_text(report.rate / 1e6, "MB", report.eta))
        else:
            self.progress_bar.setFormat("%v of %m images")
            self.rate_label.setText(rate_text(report.rate, "images", report.eta))

    def show_event(self, event) -> None:
        """A pipeline ``StepEvent`` (phase, message) or a ``core.training.TrainingEvent``."""
        if self._enter_step(event.phase) != TRAIN_STEP or not hasattr(event, "epochs"):
            if event.message:  # a pipeline StepEvent: the step's news for the log
                self.log(event.message)
            return
        if event.epochs:
            self.chart.set_epochs(event.epochs)
        if event.phase == "train" and event.batches:
            done = (event.epoch - 1) * event.batches + event.batch
            self.progress_bar.setRange(0, event.epochs * event.batches)
            self.progress_bar.setValue(done)
            self.progress_bar.setFormat(f"epoch {event.epoch} of {event.epochs} · %p%")
            self.rate_label.setText(rate_text(event.captions_per_s, "captions", event.eta))
            if event.loss is not None:
                self.chart.add_batch_loss(done / event.batches, event.loss)
        elif event.phase == "validate":
            self.rate_label.setText(event.message)
        elif event.phase == "epoch_end":
            self.chart.add_epoch(event.epoch, event.loss, event.val_loss)
            self.log(f"Epoch {event.epoch} of {event.epochs}: loss {event.loss:.3f}, "
                     f"validation loss {event.val_loss:.3f} (best {event.best_val_loss:.3f})")
            if event.message:
                self.log(event.message)
        elif event.message:
            self.log(event.message)

    # ---------------------------------------------------------------- outcomes
    def show_succeeded(self, result: TrainingResult) -> None:
        self._stop_clock()
        self.steps.finish()
        self.step_label.setText("Done")
        self.step_detail.setText("The model is trained, scored on images it never saw, and saved.")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat("%p%")
        self.rate_label.clear()
        self.results.show_result(result, self.seconds)
        self.tabs.setTabEnabled(1, True)
        self.tabs.setCurrentIndex(1)
        self.splitter.setSizes(FINISHED_SIZES)
        self.elapsed_label.setText(f"Time taken: {format_eta(self.seconds)}")
        self.log(f"Saved {result.model_path} after {format_duration(self.seconds)}.")

    def show_failed(self, reason: str) -> None:
        self._stop_clock()
        self.steps.mark_stopped(failed=True)
        self.step_label.setText("Training failed")
        self.step_detail.setText(reason)
        self._stop_bar()
        self.log(f"Failed: {reason}")

    def show_cancelled(self) -> None:
        self._stop_clock()
        self.steps.mark_stopped(failed=False)
        self.step_label.setText("Training cancelled")
        self.step_detail.setText("The checkpoint of the last finished epoch is kept: Resume "
                                 "continues from it.")
        self._stop_bar()
        self.log("Cancelled; Resume continues from the last finished epoch.")

    def _stop_clock(self) -> None:
        if self._clock.isActive():
            self.seconds += time.monotonic() - self._run_started
            self._clock.stop()
        self._show_elapsed()

    @Slot()
    def _show_elapsed(self) -> None:
        seconds = self.seconds
        if self._clock.isActive():
            seconds += time.monotonic() - self._run_started
        self.elapsed_label.setText(f"Time so far: {format_eta(seconds)}")

    def _stop_bar(self) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("stopped")
        self.rate_label.clear()
