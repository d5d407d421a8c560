"""Write to Photos' Metadata: captions go where photo software looks, off the GUI thread.

The user picks the rows (all/visible, or selected) and the place: XMP sidecars beside the photos
(``photo.jpg.xmp``, the default; photos are never opened for writing) or inside the photos, which
rewrites the user's files and so is only done after they agreed once (remembered in settings).
A pool thread writes one photo after another through ``core.metadata``; one photo that cannot be
written fails alone, and the failures are listed in one dialog at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_captioner.core.errors import describe_failure
from desktop_captioner.core.metadata_modes import MODE_EMBED
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.gui.dialogs.problems import show_problems
from desktop_captioner.gui.dialogs.write_metadata_dialog import WriteMetadataDialog
from desktop_captioner.gui.models.image_list_model import CAPTIONED, ImageListModel
from desktop_captioner.gui.settings import Settings
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar
from desktop_captioner.gui.workers.pool_job import run_in_pool

PROGRESS_SECONDS = 0.1
PLACES = {"xmp": "XMP sidecar files", "embed": "the photos' own metadata"}


@dataclass
class WriteOutcome:
    """How a write went: photos written, and each failed photo with its one-sentence reason."""

    mode: str
    written: int = 0
    failures: list[tuple[Path, str]] = field(default_factory=list)
    stopped: bool = False


def write_captions(captions: list[tuple[Path, str]], mode: str,
                   cancel: CancelToken) -> Generator[tuple[int, int], None, WriteOutcome]:
    """In a pool thread: write each caption, yield (done, total) now and then, return the
    outcome. One photo that cannot be written fails alone; ``cancel`` stops after a photo."""
    from desktop_captioner.core import metadata  # exiv2: not before the window shows

    outcome = WriteOutcome(mode)
    last = time.monotonic()
    for done, (path, caption) in enumerate(captions, start=1):
        if cancel.cancelled:
            outcome.stopped = True
            break
        try:
            metadata.write_caption_metadata(path, caption, mode)
            outcome.written += 1
        except Exception as exc:  # noqa: BLE001 - a bug hit by one photo fails that photo only
            outcome.failures.append((path, describe_failure(exc, f"{path} could not be written")))
        if time.monotonic() - last > PROGRESS_SECONDS:
            yield done, len(captions)
            last = time.monotonic()
    return outcome


class MetadataWriter(QObject):
    """Asks what to write where, writes it in a pool thread, and reports once at the end."""

    changed = Signal()  # busy changed: the window refreshes its actions

    def __init__(self, model: ImageListModel, status: CaptionStatusBar, settings: Settings,
                 save_settings: Callable[[], None], window: QWidget) -> None:
        super().__init__(window)
        self.model, self.status, self.settings = model, status, settings
        self.save_settings, self.window = save_settings, window
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._cancel = CancelToken()
        self.busy = False

    def start(self, scope_rows: list[int], selected_rows: list[int], scope_name: str) -> None:
        """Ask (rows and place), confirm embedding once, then write in the background."""
        if self.busy:
            return
        choice = WriteMetadataDialog.ask(self.window, self.settings.metadata_mode, scope_name,
                                         len(scope_rows), len(selected_rows))
        if choice is None:
            return
        mode, selected_only = choice
        if mode == MODE_EMBED and not self._embedding_agreed():
            return
        self.settings.metadata_mode = mode
        self.save_settings()
        items = [self.model.item(row) for row in (selected_rows if selected_only else scope_rows)]
        captions = [(item.path, item.caption) for item in items
                    if item.status in CAPTIONED and item.caption.strip()]
        if not captions:
            self.status.showMessage("Nothing to write: none of these images has a caption.", 8000)
            return
        self.busy = True
        self.changed.emit()
        self.status.showMessage(f"Writing {len(captions):,} captions to {PLACES[mode]}…")
        run_in_pool(self, write_captions, captions, mode, self._cancel, pool=self.pool,
                    on_yield=self._on_progress, on_result=self._on_finished,
                    on_error=self._on_failed)

    def shutdown(self) -> None:
        self._cancel.cancel()
        self.pool.clear()
        self.pool.waitForDone()

    def _embedding_agreed(self) -> bool:
        if self.settings.metadata_embed_confirmed:
            return True
        answer = QMessageBox.question(
            self.window, "Write into the photo files?",
            "Writing captions into the photos rewrites each photo file (its pixels and other "
            "metadata stay as they are). XMP sidecar files leave the photos untouched. "
            "Write into the photos? You will not be asked again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.settings.metadata_embed_confirmed = True
        return True

    def _on_progress(self, progress: tuple[int, int]) -> None:
        done, total = progress
        self.status.showMessage(f"Writing captions… {done:,} of {total:,}")

    def _on_failed(self, exc: Exception) -> None:
        """Only a bug outside the per-photo writes gets here: say so, and be ready again."""
        self.busy = False
        self.changed.emit()
        self.status.showMessage(describe_failure(exc, "Writing the captions stopped"), 15000)

    def _on_finished(self, outcome: WriteOutcome) -> None:
        self.busy = False
        self.changed.emit()
        message = f"Wrote {outcome.written:,} captions to {PLACES[outcome.mode]}"
        if outcome.failures:
            message += f"; {len(outcome.failures):,} could not be written"
        if outcome.stopped:
            message += "; stopped"
        self.status.showMessage(message + ".", 15000)
        if outcome.failures:
            show_problems(self.window, "Some captions were not written",
                          [reason for _path, reason in outcome.failures])
