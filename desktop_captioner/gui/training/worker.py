"""The training worker: runs ``train_model`` in a ``WorkerThread`` and reports through signals.

TensorFlow is imported inside ``run`` only, so opening the dialog costs nothing and the import
itself happens off the GUI thread. Batch events are thinned to about ten a second: the chart and
the progress bar cannot show more, and every queued signal costs the GUI thread a repaint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop_captioner.core.devices import DEFAULT_DEVICES
from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.core.modelfile import read_manifest
from desktop_captioner.core.progress import CancelToken, Progress
from desktop_captioner.gui.workers.thumbnails import decode_thumbnail

log = logging.getLogger(__name__)

EVENT_INTERVAL = 0.1  # seconds between two forwarded batch-level reports
THUMBNAIL_SIDE = 112


@dataclass(frozen=True)
class TrainingJob:
    """Everything one call of ``train_model`` needs; ``config`` is ``TrainingConfig`` kwargs."""

    dataset_dir: Path
    images_dir: Path  # to show the evaluated test images next to their captions
    out_path: Path
    config: dict
    image_size: int = 224
    precision: str = "auto"
    devices: str = DEFAULT_DEVICES
    weights: Path | None = None
    resume: bool = False


@dataclass
class TrainingResult:
    """A saved model with its manifest and thumbnails of the manifest's example images."""

    model_path: Path
    manifest: dict
    thumbnails: dict[str, QImage] = field(default_factory=dict)


def _is_milestone(report: object) -> bool:
    """Reports that must never be dropped: step starts/ends and epoch ends."""
    if isinstance(report, Progress):
        return report.done in (0, report.total)
    batch = getattr(report, "batch", None)
    return batch is None or batch == getattr(report, "batches", None)


class TrainingWorker(QObject):
    """Submit ``run`` to a WorkerThread: it returns the ``TrainingResult`` or raises (``Cancelled``
    when the token was set); the reports on the way arrive as signals. One worker, one job."""

    report = Signal(object)  # a pipeline StepEvent or a core.training.TrainingEvent
    progress = Signal(object)  # core.progress.Progress

    def __init__(self, job: TrainingJob, cancel: CancelToken) -> None:
        super().__init__()
        self.job = job
        self.cancel = cancel
        self._last_forward = 0.0
        self._last_phase = ""

    def run(self) -> TrainingResult:
        return self._result(self._train())

    def _train(self) -> Path:
        from desktop_captioner.core.pipeline import train_model
        from desktop_captioner.core.tf_runtime import freeze_long_lived_objects
        from desktop_captioner.core.training import TrainingConfig

        freeze_long_lived_objects()
        job = self.job
        self.cancel.raise_if_cancelled()
        return train_model(job.dataset_dir, job.out_path, weights=job.weights,
                           config=TrainingConfig(**job.config), image_size=job.image_size,
                           precision=job.precision, on_event=self._forward,
                           cancel=self.cancel, resume=job.resume, devices=job.devices)

    def _forward(self, report: object) -> None:
        """``on_event`` for the pipeline: called in this thread, re-emitted as queued signals."""
        now = time.monotonic()
        phase = getattr(report, "phase", "")
        if phase == self._last_phase and not _is_milestone(report) \
                and now - self._last_forward < EVENT_INTERVAL:
            return
        self._last_forward, self._last_phase = now, phase
        (self.progress if isinstance(report, Progress) else self.report).emit(report)

    def _result(self, path: Path) -> TrainingResult:
        manifest = read_manifest(path)
        result = TrainingResult(model_path=Path(path), manifest=manifest)
        for example in manifest.get("metrics", {}).get("examples", []):
            name = example.get("image", "")
            try:
                result.thumbnails[name] = decode_thumbnail(self.job.images_dir / name,
                                                           THUMBNAIL_SIDE, use_disk_cache=False)
            except CaptionerError as exc:  # a missing thumbnail never hides the scores
                log.info("no thumbnail for %s: %s", name, exc)
        return result
