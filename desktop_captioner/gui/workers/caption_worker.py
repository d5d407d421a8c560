"""The captioning worker: owns the Captioner, in a ``WorkerThread`` of its own.

TensorFlow is imported, the models are built and run only in that thread (TF objects are not
thread-safe). The GUI queues jobs on the thread and hears back through the worker's signals; it
stops a job through a ``CancelToken`` it sets directly (a queued "stop" would wait behind the
running batch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from desktop_captioner.core.errors import Cancelled, describe_failure
from desktop_captioner.core.progress import CancelToken, Progress
from desktop_captioner.gui.workers.worker_thread import WorkerThread

LoadCaptioner = Callable[..., Any]  # (model_file, weights, precision, cancel) -> a Captioner


@dataclass(frozen=True)
class ModelInfo:
    """What the window shows about the loaded model (the manifest holds the training details)."""

    path: Path
    name: str
    vocab_size: int | None
    manifest: dict
    precision: str  # the number format the encoder actually runs in


def _load_real_captioner(model_file, weights, precision, cancel, progress=None):
    from desktop_captioner.core.captioner import Captioner  # TF import: worker thread only
    from desktop_captioner.core.tf_runtime import freeze_long_lived_objects

    captioner = Captioner.load(model_file, weights=weights, precision=precision,
                               download_weights=False, progress=progress, cancel=cancel)
    freeze_long_lived_objects()
    return captioner


class CaptionWorker(QObject):
    """Loads a model and captions jobs (its methods run in the worker thread); every outcome
    goes out as a signal."""

    model_loading = Signal(str)  # model path
    model_step = Signal(str, str)  # what the load is doing (the one-off int8 build), model path
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str, str)  # model path, one-sentence reason ("" when cancelled)
    item_started = Signal(object)  # Path
    item_result = Signal(object)  # CaptionResult
    progress = Signal(object)  # Progress
    job_finished = Signal(bool)  # True when stopped by the user
    job_failed = Signal(str)  # one-sentence reason

    def __init__(self, load_captioner: LoadCaptioner | None = None, batch_size: int = 16) -> None:
        super().__init__()
        self._load_captioner = load_captioner or functools.partial(
            _load_real_captioner, progress=self._on_load_progress)
        self._loading = ""
        self.batch_size = batch_size
        self._captioner = None

    def load_model(self, model_path: str, weights: Path | None, precision: str | None,
                   cancel: CancelToken) -> None:
        """``precision`` None lets the Captioner choose (see ``Captioner.load``)."""
        self.model_loading.emit(model_path)
        self._captioner, self._loading = None, model_path
        try:
            captioner = self._load_captioner(Path(model_path), weights, precision, cancel)
        except Exception as exc:  # noqa: BLE001 - report, never kill the worker thread
            self.model_failed.emit(model_path, describe_failure(
                exc, f"{Path(model_path).name} could not be loaded"))
        else:
            self._captioner = captioner
            self.model_loaded.emit(ModelInfo(
                Path(model_path), getattr(captioner, "name", "") or Path(model_path).stem,
                getattr(captioner, "vocab_size", None), dict(captioner.model_info or {}),
                captioner.precision))

    def _on_load_progress(self, progress: Progress) -> None:
        """Say so while the int8 model is being built (once per weights file and size)."""
        if progress.phase == "int8 model" and progress.done < progress.total:
            self.model_step.emit("Building the int8 encoder (once, a minute or so)…",
                                 self._loading)

    def caption(self, paths: list[Path], beam_width: int, cancel: CancelToken) -> None:
        if self._captioner is None:
            self.job_failed.emit("No caption model is loaded.")
            return
        batch = self.batch_size

        def on_progress(progress: Progress) -> None:
            self.progress.emit(progress)
            for path in paths[progress.done:progress.done + batch]:
                self.item_started.emit(path)

        for path in paths[:batch]:
            self.item_started.emit(path)
        try:
            for result in self._captioner.caption(paths, batch_size=batch, beam_width=beam_width,
                                                  progress=on_progress, cancel=cancel):
                self.item_result.emit(result)
        except Cancelled:
            self.job_finished.emit(True)
        except Exception as exc:  # noqa: BLE001 - report, never kill the worker thread
            self.job_failed.emit(describe_failure(exc, "Captioning stopped"))
        else:
            self.job_finished.emit(False)


class CaptionService(QObject):
    """GUI-thread owner of the worker thread: starts jobs, stops them, shuts the thread down."""

    def __init__(self, load_captioner: LoadCaptioner | None = None, batch_size: int = 16,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = WorkerThread("caption-worker", self)
        self.worker = CaptionWorker(load_captioner, batch_size)

    def load_model(self, model_path: str | Path, weights: Path | None,
                   precision: str | None = None) -> None:
        # A new model replaces whatever the worker was doing.
        cancel = self.thread.new_token(cancel_current=True)
        self.thread.submit(self.worker.load_model, str(model_path), weights, precision, cancel)

    def caption(self, paths: list[Path], beam_width: int) -> None:
        self.thread.submit(self.worker.caption, list(paths), beam_width, self.thread.new_token())

    def stop(self) -> None:
        self.thread.cancel()

    def shutdown(self) -> None:
        """Cancel, let the current batch end, and join the thread (safe to call twice)."""
        self.thread.stop()
