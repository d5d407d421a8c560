"""The window's export actions: CSV/JSON exports, caption sidecars, and the unsaved-work guard's
Save, each marking what it wrote as exported and saying so in the status bar."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop_captioner.gui import exporting
from desktop_captioner.gui.models.image_list_model import ImageItem, ImageListModel
from desktop_captioner.gui.settings import Settings
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar


class ExportController(QObject):
    """Writes rows of ``model`` where the user asks; ``window`` parents the dialogs."""

    def __init__(self, model: ImageListModel, status: CaptionStatusBar, settings: Settings,
                 window: QWidget) -> None:
        super().__init__(window)
        self.model, self.status, self.settings, self.window = model, status, settings, window

    def export_rows(self, rows: Iterable[int]) -> None:
        self._export([self.model.item(r) for r in rows], target=None)

    def save_everything(self) -> bool:
        """The unsaved-work guard's Save: export everything to the last whole-list export file
        (or ask where when there is none); False when that was cancelled or failed."""
        target = Path(self.settings.last_export_path) if self.settings.last_export_path else None
        return self._export(self.model.items(), target) is not None

    def _export(self, items: list[ImageItem], target: Path | None) -> Path | None:
        """Write the items that have an outcome to ``target`` (asking where when it is None or
        its folder is gone); returns the file written."""
        exported = [item for item in items if item.has_outcome]
        if not exported:
            self.status.showMessage("Nothing to export yet: caption some images first.", 8000)
            return None
        results = [item.to_result() for item in exported]
        if target is not None and target.parent.is_dir():
            written = exporting.export_to(self.window, results, target)
        else:
            written = exporting.ask_and_export(self.window, results,
                                               self.settings.last_export_folder)
        if written is None:
            return None
        self.settings.last_export_folder = str(written.parent)
        if len(items) == self.model.rowCount():
            self.settings.last_export_path = str(written)
        self.model.mark_exported(item.path for item in exported)
        skipped = len(items) - len(exported)
        note = f" ({skipped} images without captions left out)" if skipped else ""
        self.status.showMessage(f"Exported {len(exported)} captions to {written}{note}.", 15000)
        return written

    def write_sidecars(self, rows: Iterable[int]) -> None:
        items = [self.model.item(row) for row in rows]
        results = [item.to_result() for item in items if item.has_outcome]
        if not any(r.ok for r in results):
            self.status.showMessage("Nothing to write yet: caption some images first.", 8000)
            return
        ext = exporting.ask_sidecar_ext(self.window, self.settings.sidecar_ext)
        if ext is None:
            return
        self.settings.sidecar_ext = ext
        report = exporting.ask_and_write_sidecars(self.window, results, ext)
        if report is not None:
            self.model.mark_exported(report.written)
            self.status.showMessage(report.message, 15000)
