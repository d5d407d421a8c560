"""The captioning worker: a QObject living in its own QThread that owns the Captioner.

TensorFlow is imported, the models are built and run only in that thread (TF objects are not
thread-safe). The GUI talks to it only through queued signals, and stops it through a
``CancelToken`` it sets directly (a queued "stop" would wait behind the running batch).
"""

from __future__ import annotations

import functools
import gc
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop_captioner.core.errors import Cancelled, CaptionerError
from desktop_captioner.core.progress import CancelToken, Progress
from desktop_captioner.gui.workers.python_thread import PythonThread

log = logging.getLogger(__name__)

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

    captioner = Captioner.load(model_file, weights=weights, precision=precision,
                               download_weights=False, progress=progress, cancel=cancel)
    # TensorFlow and the models leave ~300k long-lived objects; a full garbage collection walks
    # them all holding the GIL, which froze the window for 100-300 ms (benchmarks/bench_gui.py).
    gc.freeze()
    return captioner


class CaptionWorker(QObject):
    """Loads a model and captions jobs; every outcome goes out as a signal."""

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

    @Slot(str, object, object, object)
    def load_model(self, model_path: str, weights: Path | None, precision: str | None,
                   cancel: CancelToken) -> None:
        """``precision`` None lets the Captioner choose (see ``Captioner.load``)."""
        self.model_loading.emit(model_path)
        self._captioner, self._loading = None, model_path
        try:
            captioner = self._load_captioner(Path(model_path), weights, precision, cancel)
        except Cancelled:
            self.model_failed.emit(model_path, "")
        except CaptionerError as exc:
            log.info("model %s not loaded: %s", model_path, exc)
            self.model_failed.emit(model_path, str(exc))
        except Exception as exc:  # noqa: BLE001 - report, never kill the worker thread
            log.exception("loading model %s failed", model_path)
            self.model_failed.emit(model_path, f"{Path(model_path).name} could not be loaded: "
                                               f"{exc.__class__.__name__}: {exc}.")
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

    @Slot(list, int, object)
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
        except CaptionerError as exc:
            log.info("captioning stopped: %s", exc)
            self.job_failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - report, never kill the worker thread
            log.exception("captioning failed")
            self.job_failed.emit(f"Captioning failed: {exc.__class__.__name__}: {exc}.")
        else:
            self.job_finished.emit(False)


class CaptionService(QObject):
    """GUI-thread owner of the worker thread: starts jobs, stops them, shuts the thread down."""

    _load_requested = Signal(str, object, object, object)
    _caption_requested = Signal(list, int, object)

    def __init__(self, load_captioner: LoadCaptioner | None = None, batch_size: int = 16,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = PythonThread(self)
        self.thread.setObjectName("caption-worker")
        self.worker = CaptionWorker(load_captioner, batch_size)
        self.worker.moveToThread(self.thread)
        self._load_requested.connect(self.worker.load_model)
        self._caption_requested.connect(self.worker.caption)
        self._cancel = CancelToken()
        self.thread.start()

    def load_model(self, model_path: str | Path, weights: Path | None,
                   precision: str | None = None) -> None:
        self._cancel.cancel()  # a new model replaces whatever the worker was doing
        self._cancel = CancelToken()
        self._load_requested.emit(str(model_path), weights, precision, self._cancel)

    def caption(self, paths: list[Path], beam_width: int) -> None:
        self._cancel = CancelToken()
        self._caption_requested.emit(list(paths), beam_width, self._cancel)

    def stop(self) -> None:
        self._cancel.cancel()

    def shutdown(self) -> None:
        """Cancel, let the current batch end, and join the thread (safe to call twice)."""
        self._cancel.cancel()
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
