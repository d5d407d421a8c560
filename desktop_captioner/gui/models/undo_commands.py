"""Undoable edits. Commands remember the image *path*, not the row, because rows move when
other images are removed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from desktop_captioner.gui.models.image_list_model import ImageListModel


# (caption, status, source) of one item before or after an edit.
CaptionState = tuple[str, str, str]


class EditCaptionCommand(QUndoCommand):
    def __init__(self, model: "ImageListModel", path: Path, old: CaptionState,
                 new: CaptionState) -> None:
        super().__init__(f"Edit caption of {path.name}")
        self.model, self.path = model, path
        self.old, self.new = old, new

    def redo(self) -> None:
        self.model.set_caption(self.path, *self.new)

    def undo(self) -> None:
        self.model.set_caption(self.path, *self.old)


class ClearListCommand(QUndoCommand):
    """Clear List. Redo takes the rows' items out of the model (as they are at that moment);
    undo puts those same items back, captions, statuses and sources included."""

    def __init__(self, model: "ImageListModel", paths: list[Path]) -> None:
        super().__init__(f"Clear list ({len(paths):,} images)")
        self.model, self.paths = model, paths
        self.items: list = []

    def redo(self) -> None:
        self.items = self.model.take_paths(self.paths)

    def undo(self) -> None:
        self.model.insert_items(self.items)
