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
        items = [self.model.item(r) for r in rows]
        results = [item.to_result() for item in items if item.has_outcome]
        if not results:
            self.status.showMessage("Nothing to export yet: caption some images first.", 8000)
            return
        written = exporting.ask_and_export(self.window, results, self.settings.last_export_folder)
        if written is not None:
            self._exported(written, items, whole_list=len(items) == self.model.rowCount())

    def save_everything(self) -> bool:
        """The unsaved-work guard's Save: export everything to the last whole-list export file
        (or ask where when there is none); False when that was cancelled or failed."""
        items = self.model.items()
        results = [item.to_result() for item in items if item.has_outcome]
        target = self.settings.last_export_path
        if target and Path(target).parent.is_dir():
            written = exporting.export_to(self.window, results, Path(target))
        else:
            written = exporting.ask_and_export(self.window, results,
                                               self.settings.last_export_folder)
        if written is not None:
            self._exported(written, items, whole_list=True)
        return written is not None

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

    def _exported(self, written: Path, items: list[ImageItem], whole_list: bool) -> None:
        self.settings.last_export_folder = str(written.parent)
        if whole_list:
            self.settings.last_export_path = str(written)
        exported = [item for item in items if item.has_outcome]
        self.model.mark_exported(item.path for item in exported)
        skipped = len(items) - len(exported)
        note = f" ({skipped} images without captions left out)" if skipped else ""
        self.status.showMessage(f"Exported {len(exported)} captions to {written}{note}.", 15000)
