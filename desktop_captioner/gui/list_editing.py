"""Changes to the list as a whole: remove rows, clear it, put back the last session, import
captions. A captioning job owns its rows' states until it ends, so Remove leaves those rows and
the others wait for the job to stop; those that would drop unexported captions ask first
(``UnsavedGuard``); each says in the status bar what it did."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from desktop_captioner.gui import importing
from desktop_captioner.gui.captioning import CaptioningController
from desktop_captioner.gui.models.image_list_model import CAPTIONING, QUEUED, ImageListModel
from desktop_captioner.gui.session import SessionKeeper
from desktop_captioner.gui.settings import Settings
from desktop_captioner.gui.unsaved_guard import Decision, UnsavedGuard
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar


class ListEditor(QObject):
    """Edits ``model`` as a whole; ``window`` parents the dialogs."""

    removed = Signal()  # rows were removed: the preview and actions follow
    restored = Signal()  # the last session replaced the list

    def __init__(self, model: ImageListModel, status: CaptionStatusBar, settings: Settings,
                 captioning: CaptioningController, guard: UnsavedGuard, session: SessionKeeper,
                 window: QWidget) -> None:
        super().__init__(window)
        self.model, self.status, self.settings = model, status, settings
        self.captioning, self.guard, self.session, self.window = captioning, guard, session, window

    def remove(self, rows: list[int]) -> None:
        """Remove ``rows`` as one undoable step, except those being captioned."""
        busy = [r for r in rows if self.model.item(r).status in (QUEUED, CAPTIONING)]
        if busy:
            self.status.showMessage("Images being captioned cannot be removed; press Esc first.",
                                    8000)
            rows = [r for r in rows if r not in busy]
        self.model.remove_rows(rows)
        self.removed.emit()

    @Slot()
    def clear(self) -> None:
        """Asks about unexported captions, then clears as one undoable step."""
        if self._refused_while_captioning("clearing the list"):
            return
        if self.guard.confirm("clearing the list",
                              "clears it (Edit → Undo brings it back).") is Decision.CANCEL:
            return
        self.model.clear()
        self.removed.emit()
        self.status.showMessage("List cleared (Edit → Undo brings it back).", 8000)

    @Slot()
    def restore_last_session(self) -> None:
        if self._refused_while_captioning("restoring a session"):
            return
        if self.guard.confirm("replacing the list with the last session",
                              "replaces it without exporting.") is Decision.CANCEL:
            return
        self.status.showMessage(self.session.restore_previous(), 15000)
        self.restored.emit()

    @Slot()
    def choose_import_file(self) -> None:
        chosen = importing.choose_export_file(self.window, self.settings.last_export_folder)
        if chosen is not None:
            self.import_captions(chosen)

    def import_captions(self, export_file: Path) -> None:
        """Import an export of this app as one undo step."""
        if self._refused_while_captioning("importing captions"):
            return
        message = importing.import_captions(self.window, self.model, export_file)
        if message:
            self.status.showMessage(message, 15000)

    def _refused_while_captioning(self, doing: str) -> bool:
        if self.captioning.busy:
            self.status.showMessage(f"Stop captioning (Esc) before {doing}.", 8000)
        return self.captioning.busy
