"""The image list: one row per image (thumbnail, file name, caption, status, caption source).

A plain table model over a Python list, so 10,000 rows cost a list and a dict; thumbnails are
fetched lazily from ``ThumbnailLoader`` only when the view asks for a row's decoration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QUndoStack

from desktop_captioner.core.results import (
    SOURCE_EDITED,
    SOURCE_IMPORTED,
    SOURCE_MODEL,
    STATUS_ERROR,
    STATUS_OK,
    CaptionResult,
)
from desktop_captioner.gui.models.undo_commands import ClearListCommand, EditCaptionCommand
from desktop_captioner.gui.workers.thumbnails import ThumbnailLoader

# Item states. "new" has never been captioned; "edited" is a caption the user changed;
# "has_caption" is a caption the photo already had (a sidecar, its metadata, an import).
NEW, QUEUED, CAPTIONING, DONE, ERROR, EDITED, HAS_CAPTION = (
    "new", "queued", "captioning", "done", "error", "edited", "has_caption")
STATUS_LABELS = {NEW: "Not captioned", QUEUED: "Queued", CAPTIONING: "Captioning…",
                 DONE: "Done", ERROR: "Error", EDITED: "Edited", HAS_CAPTION: "Has caption"}
_STATUS_COLOURS = {ERROR: QColor("#c0392b"), DONE: QColor("#1e8449"), EDITED: QColor("#1f618d"),
                   CAPTIONING: QColor("#b9770e"), HAS_CAPTION: QColor("#7d3c98")}
CAPTIONED = (DONE, EDITED, HAS_CAPTION)  # statuses whose caption a new job would replace

COL_THUMBNAIL, COL_NAME, COL_CAPTION, COL_STATUS, COL_SOURCE = range(5)
_NO_PARENT = QModelIndex()  # the root: a flat list has no other parent
_HEADERS = ("", "File", "Caption", "Status", "Source")
_SOURCE_TIPS = {SOURCE_MODEL: "Written by the caption model",
                SOURCE_EDITED: "Edited by hand",
                SOURCE_IMPORTED: "Imported from the photo's metadata, a sidecar or a CSV file"}
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class ImageItem:
    path: Path
    caption: str = ""
    score: float | None = None
    status: str = NEW
    error: str = ""
    source: str = SOURCE_MODEL  # where the caption came from (core.results.SOURCES)
    unsaved: bool = False  # the caption changed since it was last exported
    origin: str = ""  # for an imported caption, what it was read from ("a.txt", "XMP sidecar")

    @property
    def has_outcome(self) -> bool:
        """True once the item has something to export: a caption or the reason it has none."""
        return self.status in (DONE, EDITED, HAS_CAPTION, ERROR)

    def state(self) -> "ItemState":
        return ItemState(self.caption, self.score, self.status, self.error, self.source,
                         self.origin, self.unsaved)

    @property
    def has_caption(self) -> bool:
        """A caption to show and export (an error row's caption is not one)."""
        return bool(self.caption) and self.status != ERROR

    def to_result(self) -> CaptionResult:
        if self.status == ERROR:
            return CaptionResult(self.path, self.caption, self.score, STATUS_ERROR, self.error)
        return CaptionResult(self.path, self.caption, self.score, STATUS_OK, source=self.source)


@dataclass(frozen=True)
class ItemState:
    """Everything about an item but its path: what undo commands save and put back."""

    caption: str
    score: float | None
    status: str
    error: str
    source: str
    origin: str = ""
    unsaved: bool = False


class ImageListModel(QAbstractTableModel):
    """Rows of ImageItem; caption edits go through ``undo_stack`` so they can be undone."""

    item_changed = Signal(int)  # row whose caption/status changed (the preview pane listens)
    export_state_changed = Signal()  # rows were exported (their ``unsaved`` flags cleared)

    def __init__(self, thumbnails: ThumbnailLoader, undo_stack: QUndoStack,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.undo_stack = undo_stack
        self._items: list[ImageItem] = []
        self._rows: dict[str, int] = {}
        thumbnails.thumbnail_ready.connect(self._on_thumbnail)
        thumbnails.thumbnail_failed.connect(self._on_thumbnail)

    # --- Qt model interface -------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() == COL_CAPTION:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item, column = self._items[index.row()], index.column()
        if role == PATH_ROLE:
            return str(item.path)
        if column == COL_THUMBNAIL:
            if role == Qt.ItemDataRole.DecorationRole:
                return self.thumbnails.pixmap(item.path)
            if role == Qt.ItemDataRole.SizeHintRole:
                return QSize(self.thumbnails.max_side + 8, self.thumbnails.max_side + 8)
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.thumbnails.failure(item.path) or None
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == COL_NAME:
                return item.path.name
            if column == COL_CAPTION:
                if item.status == ERROR and role == Qt.ItemDataRole.DisplayRole:
                    return item.error  # shown where the caption would be; never edited
                return item.caption
            if column == COL_STATUS and role == Qt.ItemDataRole.DisplayRole:
                return STATUS_LABELS[item.status]
            if column == COL_SOURCE and role == Qt.ItemDataRole.DisplayRole:
                return item.source if item.has_caption else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_SOURCE and item.has_caption:
                return _SOURCE_TIPS.get(item.source)
            if column == COL_STATUS and item.status == ERROR:
                return item.error
            if column == COL_STATUS and item.origin:
                return f"Caption read from {item.origin}"
            if column == COL_NAME:
                return str(item.path)
            if column == COL_CAPTION and item.caption:
                return item.caption
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == COL_STATUS or (column == COL_CAPTION and item.status == ERROR):
                colour = _STATUS_COLOURS.get(item.status)
                return QBrush(colour) if colour else None
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """An edit from the view's editor becomes an undoable command."""
        if role != Qt.ItemDataRole.EditRole or index.column() != COL_CAPTION:
            return False
        return self.edit_caption(index.row(), str(value))

    # --- the app's interface ------------------------------------------------------------------
    def items(self) -> list[ImageItem]:
        return list(self._items)

    def item(self, row: int) -> ImageItem:
        return self._items[row]

    def row_of(self, path: str | Path) -> int | None:
        return self._rows.get(str(path))

    def add_paths(self, paths: Sequence[Path]) -> int:
        """Append paths not in the list yet (in one insert); returns how many were new."""
        return self.add_items([ImageItem(Path(path)) for path in paths])

    def add_items(self, items: Sequence[ImageItem]) -> int:
        """Append items whose path is not in the list yet (in one insert); returns how many."""
        new, seen = [], set()
        for item in items:
            key = str(item.path)
            if key not in self._rows and key not in seen:
                seen.add(key)
                new.append(item)
        if new:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._items.extend(new)
            for offset, item in enumerate(new):
                self._rows[str(item.path)] = first + offset
            self.endInsertRows()
        return len(new)

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Remove rows (any order); contiguous runs are removed in one go from the bottom up."""
        for start, end in reversed(_runs(sorted(set(rows)))):
            self.beginRemoveRows(QModelIndex(), start, end)
            del self._items[start:end + 1]
            self.endRemoveRows()
        self._reindex()

    def clear(self) -> None:
        """Empty the list as one undoable step (Undo brings every row back as it was)."""
        if self._items:
            self.undo_stack.push(ClearListCommand(self, [item.path for item in self._items]))

    def take_paths(self, paths: Iterable[Path]) -> list[ImageItem]:
        """Used by ClearListCommand: remove these paths' rows and return their items."""
        rows = sorted(row for row in map(self.row_of, paths) if row is not None)
        taken = [self._items[row] for row in rows]
        self.remove_rows(rows)
        return taken

    def insert_items(self, items: Sequence[ImageItem]) -> None:
        """Used by ClearListCommand's undo: put items back at the top (paths added again since
        keep their newer rows)."""
        back = [item for item in items if str(item.path) not in self._rows]
        if back:
            self.beginInsertRows(QModelIndex(), 0, len(back) - 1)
            self._items[0:0] = back
            self._reindex()
            self.endInsertRows()

    def replace_items(self, items: Sequence[ImageItem]) -> None:
        """A whole new list (a restored session). Undo steps refer to the old list, so they go."""
        self.beginResetModel()
        self._items = list(items)
        self._reindex()
        self.endResetModel()
        self.undo_stack.clear()

    def edit_caption(self, row: int, caption: str) -> bool:
        item = self._items[row]
        if caption == item.caption:
            return False
        old = (item.caption, item.status, item.source)
        self.undo_stack.push(EditCaptionCommand(self, item.path, old,
                                                (caption, EDITED, SOURCE_EDITED)))
        return True

    def set_caption(self, path: Path, caption: str, status: str, source: str) -> None:
        """Used by the undo command: change one item's caption, status and source (no new undo
        step). Either way the caption now differs from what was last exported."""
        row = self.row_of(path)
        if row is None:  # the row was removed since; the edit has nothing left to touch
            return
        item = self._items[row]
        item.caption, item.status, item.source = caption, status, source  # `error` stays
        item.unsaved = True
        self._row_changed(row)

    def set_status(self, path: Path, status: str) -> None:
        row = self.row_of(path)
        if row is not None and self._items[row].status != status:
            self._items[row].status = status
            self._row_changed(row)

    def apply_result(self, result: CaptionResult) -> None:
        row = self.row_of(result.path)
        if row is None:
            return
        item = self._items[row]
        item.caption, item.score, item.error = result.caption, result.score, result.error
        item.source, item.origin = result.source, ""
        item.status = DONE if result.ok else ERROR
        item.unsaved = result.ok and result.source != SOURCE_IMPORTED  # imported: kept elsewhere
        self._row_changed(row)

    def mark_exported(self, paths: Iterable[Path]) -> None:
        """These rows' captions are now in a file the user chose."""
        for row in map(self.row_of, paths):
            if row is not None:
                self._items[row].unsaved = False
        self.export_state_changed.emit()

    def unsaved_count(self) -> int:
        """How many captions changed since they were last exported (the unsaved-work guard)."""
        return sum(1 for item in self._items if item.unsaved and item.has_caption)

    def snapshot(self) -> list[tuple]:
        """Every row as a tuple of plain values (core.session_file.COLUMNS order): cheap enough
        for the GUI thread, and safe to hand to a writer thread."""
        return [(str(item.path), item.caption, item.score, item.status, item.error, item.source,
                 item.unsaved) for item in self._items]
    def restore_state(self, path: Path, state: ItemState) -> None:
        """Used by undo commands: put back everything about one item (no new undo step)."""
        row = self.row_of(path)
        if row is None:
            return
        item = self._items[row]
        (item.caption, item.score, item.status, item.error, item.source, item.origin,
         item.unsaved) = (state.caption, state.score, state.status, state.error, state.source,
                          state.origin, state.unsaved)
        self._row_changed(row)

    def rows_with_status(self, statuses: Iterable[str]) -> list[int]:
        wanted = set(statuses)
        return [row for row, item in enumerate(self._items) if item.status in wanted]

    # --- internals ----------------------------------------------------------------------------
    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, COL_CAPTION), self.index(row, COL_SOURCE))
        self.item_changed.emit(row)

    def _reindex(self) -> None:
        self._rows = {str(item.path): row for row, item in enumerate(self._items)}

    @Slot(str)
    def _on_thumbnail(self, path: str, _reason: str = "") -> None:
        row = self.row_of(path)
        if row is not None:
            index = self.index(row, COL_THUMBNAIL)
            self.dataChanged.emit(index, index)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[1,2,3,7,8] -> [(1,3),(7,8)]"""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
