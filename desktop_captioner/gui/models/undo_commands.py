"""Undoable edits. Commands remember the image *path*, not the row, because rows move when
other images are removed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from desktop_captioner.gui.models.image_list_model import ImageListModel, ItemState


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
class ChangeItemsCommand(QUndoCommand):
    """Many items changed in one step (an import, a re-captioning job): ``changes`` maps each
    path to its (old, new) state; ``added`` paths are appended on redo and removed on undo.
    With ``already_done`` the first redo (which QUndoStack.push runs) changes nothing, for
    changes that were applied as they happened, such as captions arriving from the worker."""

    def __init__(self, model: "ImageListModel", text: str,
                 changes: dict[Path, tuple["ItemState", "ItemState"]],
                 added: Sequence[Path] = (), already_done: bool = False) -> None:
        super().__init__(text)
        self.model, self.changes, self.added = model, dict(changes), list(added)
        self._skip_redo = already_done

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.model.add_paths(self.added)
        for path, (_old, new) in self.changes.items():
            self.model.restore_state(path, new)

    def undo(self) -> None:
        for path, (old, _new) in self.changes.items():
            self.model.restore_state(path, old)
        rows = [self.model.row_of(path) for path in self.added]
        self.model.remove_rows(row for row in rows if row is not None)
