"""Captioning jobs seen from the GUI thread: which items a job still owes, what to show while it
runs, and how items go back to their old state when it is stopped.

A job that replaces captions or errors (Re-caption All, a retry of failed rows, Caption Selected
on captioned rows) records each replaced item's old state as its result arrives and, when the
job ends, pushes one undo step that puts all of them back. Rows that had nothing are not part of
it: one Ctrl+Z too many must never wipe out a night of captioning."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_captioner.core.results import CaptionResult
from desktop_captioner.gui.models.image_list_model import (
    CAPTIONED,
    CAPTIONING,
    EDITED,
    ERROR,
    QUEUED,
    ImageListModel,
    ItemState,
)
from desktop_captioner.gui.models.undo_commands import ChangeItemsCommand
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar
from desktop_captioner.gui.workers.caption_worker import CaptionService, LoadCaptioner, ModelInfo


class CaptioningController(QObject):
    """Owns the worker thread (through CaptionService) and the state of the current job."""

    changed = Signal()  # busy / model state changed: the window refreshes its actions
    model_loaded = Signal(object)  # ModelInfo

    def __init__(self, model: ImageListModel, status: CaptionStatusBar, window: QWidget,
                 load_captioner: LoadCaptioner | None = None, batch_size: int = 16) -> None:
        super().__init__(window)
        self.model, self.status, self.window = model, status, window
        self.service = CaptionService(load_captioner, batch_size, self)
        self.model_info: ModelInfo | None = None
        self.loading_model = ""
        self._pending: dict[str, str] = {}  # path -> status before the job, until its result
        self._outcomes_before: dict[str, ItemState] = {}  # captions/errors the job replaces
        self._replaced: dict[Path, tuple[ItemState, ItemState]] = {}  # for the undo step
        # From start() until the worker reports the job finished or failed. Not derived from
        # _pending: that empties with the last result, before the job's end is reported, and a
        # new job started in between would have its items reset by the old job's end.
        self._job_running = False
        self._total = self._failed = 0
        self._after_load: tuple[list[Path], int] | None = None  # a job asked for while loading
        worker = self.service.worker
        worker.model_loading.connect(self._on_model_loading)
        worker.model_step.connect(self.status.set_model_state)
        worker.model_loaded.connect(self._on_model_loaded)
        worker.model_failed.connect(self._on_model_failed)
        worker.item_started.connect(self._on_item_started)
        worker.item_result.connect(self._on_item_result)
        worker.progress.connect(self.status.show_progress)
        worker.job_finished.connect(self._on_job_finished)
        worker.job_failed.connect(self._on_job_failed)

    @property
    def busy(self) -> bool:
        return self._job_running

    def load_model(self, model_path: Path, weights_path: Path,
                   precision: str | None = None) -> None:
        self.service.load_model(model_path, weights_path, precision)

    def start(self, rows: list[int], beam_width: int) -> None:
        if self.busy:
            return
        if self.model_info is None:
            if self.loading_model:
                self._after_load = ([self.model.item(row).path for row in rows], beam_width)
                self.status.showMessage("Captioning starts as soon as the model has loaded.")
            else:
                QMessageBox.information(self.window, "No model", "Open a caption model first "
                                        "(Model → Open Model…, Ctrl+M).")
            return
        if not rows:
            self.status.showMessage("Every image already has a caption (Caption → Re-caption "
                                    "All replaces them).", 8000)
            return
        paths = [self.model.item(row).path for row in rows]
        self._pending = {str(path): self.model.item(row).status for path, row in zip(paths, rows)}
        self._outcomes_before = {str(item.path): item.state() for item in map(self.model.item, rows)
                                  if item.status in (*CAPTIONED, ERROR)}
        self._replaced = {}
        self._total, self._failed = len(paths), 0
        self._job_running = True
        for path in paths:
            self.model.set_status(path, QUEUED)
        self.status.start_progress(len(paths))
        self.service.caption(paths, beam_width)
        self.changed.emit()

    def recaption(self, rows: list[int], beam_width: int) -> None:
        """Caption ``rows`` again; replaced captions come back with one Undo. Captions typed by
        hand are only replaced after the user agrees."""
        if self.busy:
            return
        edited = sum(1 for row in rows if self.model.item(row).status == EDITED)
        if edited:
            answer = QMessageBox.question(
                self.window, "Replace edited captions?",
                f"{edited:,} of these {len(rows):,} captions were edited by hand. Re-captioning "
                f"replaces them too (Edit → Undo brings them all back). Continue?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.start(rows, beam_width)

    def stop(self) -> None:
        if self.busy:
            self.service.stop()
            self.status.showMessage("Stopping after the current batch…")

    def shutdown(self) -> None:
        self.service.shutdown()

    @Slot(str)
    def _on_model_loading(self, model_path: str) -> None:
        self.loading_model, self.model_info = model_path, None
        self.status.set_model_state(f"Loading model {Path(model_path).name}…", model_path)
        self.changed.emit()

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.loading_model, self.model_info = "", info
        vocab = f", {info.vocab_size:,} words" if info.vocab_size else ""
        self.status.set_model_state(f"Model: {info.name}{vocab}, {info.precision}",
                                    f"{info.path}\nEncoder precision: {info.precision}")
        self.model_loaded.emit(info)
        self.changed.emit()
        if self._after_load is not None:
            paths, beam_width = self._after_load
            self._after_load = None
            rows = [self.model.row_of(path) for path in paths]
            self.start([row for row in rows if row is not None], beam_width)

    @Slot(str, str)
    def _on_model_failed(self, _model_path: str, reason: str) -> None:
        self.loading_model, self._after_load = "", None
        self.status.set_model_state("No model loaded")
        self.changed.emit()
        if reason:
            QMessageBox.warning(self.window, "Model not loaded", reason)

    @Slot(object)
    def _on_item_started(self, path: Path) -> None:
        if str(path) in self._pending:
            self.model.set_status(path, CAPTIONING)

    @Slot(object)
    def _on_item_result(self, result: CaptionResult) -> None:
        if self._pending.pop(str(result.path), None) is not None:
            self.model.apply_result(result)
            self._failed += not result.ok
            before = self._outcomes_before.pop(str(result.path), None)
            row = self.model.row_of(result.path)
            if before is not None and row is not None:
                self._replaced[result.path] = (before, self.model.item(row).state())

    @Slot(bool)
    def _on_job_finished(self, stopped: bool) -> None:
        done = self._total - self._end_job()
        if stopped:
            self.status.showMessage(f"Stopped: {done} of {self._total} images captioned.", 15000)
            return
        note = (f"; {self._failed} could not be read (see their Status tooltips)"
                if self._failed else "")
        self.status.showMessage(f"Captioned {done - self._failed} images{note}.", 15000)

    @Slot(str)
    def _on_job_failed(self, reason: str) -> None:
        self._end_job()
        QMessageBox.warning(self.window, "Captioning stopped", reason)

    def _end_job(self) -> int:
        """Put the items the job did not reach back in their old state; returns how many."""
        left = len(self._pending)
        pending, self._pending = self._pending, {}
        self._job_running = False
        for path, previous in pending.items():
            self.model.set_status(Path(path), previous)
        if self._replaced:
            count = len(self._replaced)
            text = f"Caption {count} image{'s' if count > 1 else ''} again"
            self.model.undo_stack.push(ChangeItemsCommand(self.model, text, self._replaced,
                                                          already_done=True))
        self._outcomes_before, self._replaced = {}, {}
        self.status.hide_progress()
        self.changed.emit()
        return left
