"""Adding images: chosen (Add Images, Add Folder) or dropped paths are walked in the background
and appended in chunks, with one status-bar sentence at the end saying what was added and what
was skipped. A photo that already has a caption (found by the walk) arrives as a "Has caption"
row with source imported."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from desktop_captioner.core.image_types import IMAGE_EXTENSIONS
from desktop_captioner.core.results import SOURCE_IMPORTED
from desktop_captioner.gui.models.image_list_model import HAS_CAPTION, ImageItem, ImageListModel
from desktop_captioner.gui.settings import Settings
from desktop_captioner.gui.workers.folder_walker import FolderWalker, FoundImage, WalkSummary


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def walk_report(added: int, duplicates: int, summaries: list[WalkSummary],
                with_caption: int = 0) -> str:
    not_images = sum(s.not_images for s in summaries)
    missing = sum(s.missing for s in summaries)
    parts = [f"Added {_count(added, 'image')}"]
    if with_caption:
        parts.append(f"{with_caption:,} already had a caption")
    if duplicates:
        parts.append(f"{duplicates:,} already in the list")
    if not_images:
        one = not_images == 1
        parts.append(f"skipped {_count(not_images, 'file')} that {'is' if one else 'are'}"
                     f" not {'an image' if one else 'images'}")
    if missing:
        parts.append(f"{_count(missing, 'path')} not found")
    return "; ".join(parts) + "."


class ImageAdder(QObject):
    """Adds photos to ``model``; ``window`` parents the file dialogs."""

    idle = Signal()  # every walk asked for so far has finished

    def __init__(self, model: ImageListModel, status: QStatusBar, settings: Settings,
                 window: QWidget) -> None:
        super().__init__(window)
        self.model, self.status, self.settings, self.window = model, status, settings, window
        self.walker = FolderWalker(self)
        self.walker.found.connect(self._on_found)
        self.walker.finished.connect(self._on_finished)
        self._added = self._duplicates = self._with_caption = 0
        self._summaries: list[WalkSummary] = []

    def add(self, paths: Iterable[str | Path]) -> None:
        self.status.showMessage("Adding images…")
        self.walker.add(paths, self.settings.read_existing_captions)

    @Slot()
    def choose_images(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        names, _ = QFileDialog.getOpenFileNames(self.window, "Add Images",
                                                self.settings.last_image_folder,
                                                f"Images ({patterns});;All files (*)")
        if names:
            self.settings.last_image_folder = str(Path(names[0]).parent)
            self.add(names)

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add Folder",
                                                  self.settings.last_image_folder)
        if folder:
            self.settings.last_image_folder = folder
            self.add([folder])

    def shutdown(self) -> None:
        self.walker.shutdown()

    @Slot(list)
    def _on_found(self, found: list[FoundImage]) -> None:
        items = [_item(image) for image in found]
        self._with_caption += sum(1 for item in items
                                  if item.caption and self.model.row_of(item.path) is None)
        added = self.model.add_items(items)
        self._added += added
        self._duplicates += len(found) - added
        self.status.showMessage(f"Adding images… {self._added:,} added")

    @Slot(object)
    def _on_finished(self, summary: WalkSummary) -> None:
        self._summaries.append(summary)
        if self.walker.busy:  # several drops in a row: one report at the end
            return
        self.status.showMessage(walk_report(self._added, self._duplicates, self._summaries,
                                            self._with_caption), 15000)
        self._added = self._duplicates = self._with_caption = 0
        self._summaries = []
        self.idle.emit()


def _item(found: FoundImage) -> ImageItem:
    existing = found.existing
    if existing is None:
        return ImageItem(found.path)
    return ImageItem(found.path, caption=existing.caption, status=HAS_CAPTION,
                     source=SOURCE_IMPORTED, origin=existing.origin)
