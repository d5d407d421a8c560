"""Undoable edits. Commands remember the image *path*, not the row, because rows move when
other images are removed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from desktop_captioner.gui.models.image_list_model import ImageListModel


class EditCaptionCommand(QUndoCommand):
    def __init__(self, model: "ImageListModel", path: Path, old_caption: str, old_status: str,
                 new_caption: str, new_status: str) -> None:
        super().__init__(f"Edit caption of {path.name}")
        self.model, self.path = model, path
        self.old = (old_caption, old_status)
        self.new = (new_caption, new_status)

    def redo(self) -> None:
        self.model.set_caption(self.path, *self.new)

    def undo(self) -> None:
        self.model.set_caption(self.path, *self.old)
