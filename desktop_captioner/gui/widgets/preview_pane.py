"""The selected image, larger, with its caption (editable) and details."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSizePolicy, QVBoxLayout, QWidget

from desktop_captioner.gui.models.image_list_model import (
    ERROR,
    STATUS_LABELS,
    ImageItem,
    ImageListModel,
)
from desktop_captioner.gui.workers.thumbnails import ThumbnailLoader


class CaptionEdit(QPlainTextEdit):
    """A few lines of caption; Enter or leaving the field commits (Shift+Enter is a newline)."""

    committed = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.committed.emit(self.toPlainText().strip())
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        self.committed.emit(self.toPlainText().strip())
        super().focusOutEvent(event)


def _file_details(path: Path) -> str:
    from desktop_captioner.core.images import image_size  # Pillow: after the window shows

    try:
        size = path.stat().st_size
    except OSError:
        return "file missing"
    dims = image_size(path)
    pixels = f"{dims[0]} × {dims[1]} px, " if dims else ""
    return f"{pixels}{size / 1024:.0f} KB" if size >= 1024 else f"{pixels}{size} bytes"


class PreviewPane(QWidget):
    """Follows one row of the model; caption edits go back through the model's undo stack."""

    def __init__(self, model: ImageListModel, images: ThumbnailLoader,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.images = model, images
        self.row: int | None = None
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(200, 160)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.caption = CaptionEdit()
        self.caption.setPlaceholderText("No caption yet. Type one, or press Ctrl+R to caption.")
        self.caption.setFixedHeight(self.caption.fontMetrics().lineSpacing() * 4 + 12)
        self.caption.committed.connect(self._commit)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(QLabel("<b>Caption</b>"))
        layout.addWidget(self.caption)
        layout.addWidget(self.details)
        model.item_changed.connect(self._on_item_changed)
        model.modelReset.connect(self.clear)
        images.thumbnail_ready.connect(self._on_image)
        images.thumbnail_failed.connect(self._on_image)
        self.show_row(None)

    def show_row(self, row: int | None) -> None:
        self.row = row if row is not None and 0 <= row < self.model.rowCount() else None
        enabled = self.row is not None
        self.caption.setEnabled(enabled)
        if not enabled:
            self.picture.clear()
            self.picture.setText("Select an image to see it here.")
            self.caption.setPlainText("")
            self.details.setText("")
            return
        item = self.model.item(self.row)
        self._show_picture(item)
        self._show_text(item)

    @Slot()
    def clear(self) -> None:
        self.show_row(None)

    def current_item(self) -> ImageItem | None:
        return None if self.row is None else self.model.item(self.row)

    def _show_picture(self, item: ImageItem) -> None:
        pixmap = self.images.pixmap(item.path)
        if pixmap is not None:
            self._set_scaled(pixmap)
        else:
            self.picture.clear()
            failure = self.images.failure(item.path)
            self.picture.setText("Cannot show this image." if failure else "Loading…")

    def _set_scaled(self, pixmap: QPixmap) -> None:
        """Fit the pane, enlarging small pictures too (a 64-px scene is unreadable otherwise)."""
        self.picture.setPixmap(pixmap.scaled(self.picture.size(),
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def _show_text(self, item: ImageItem) -> None:
        if self.caption.toPlainText() != item.caption:
            self.caption.setPlainText(item.caption)
        lines = [f"<b>{escape(item.path.name)}</b> — {escape(_file_details(item.path))}",
                 f"<span style='color:gray'>{escape(str(item.path.parent))}</span>",
                 f"Status: {STATUS_LABELS[item.status]}"]
        if item.score is not None and item.status != ERROR:
            lines[-1] += f" (score {item.score:.2f})"
        if item.origin:
            lines[-1] += f", read from {escape(item.origin)}"
        if item.status == ERROR:
            lines.append(f"<span style='color:#c0392b'>{escape(item.error)}</span>")
        self.details.setText("<br>".join(lines))

    @Slot(str)
    def _commit(self, text: str) -> None:
        if self.row is not None:
            self.model.edit_caption(self.row, text)

    @Slot(int)
    def _on_item_changed(self, row: int) -> None:
        if row == self.row:
            self._show_text(self.model.item(row))

    @Slot(str)
    def _on_image(self, path: str, _reason: str = "") -> None:
        item = self.current_item()
        if item is not None and str(item.path) == path:
            self._show_picture(item)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        item = self.current_item()
        if item is not None:
            self._show_picture(item)

