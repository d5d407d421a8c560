"""The table view of the image list: fixed row heights so 10,000 rows lay out instantly
(no per-row size-to-contents pass, which would also decode every thumbnail).

The view shows the list through a CaptionFilterModel; everything it hands the window is in rows
of the ImageListModel (source rows), so callers never deal with the filter's row numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from desktop_captioner.gui.models.caption_filter_model import CaptionFilterModel
from desktop_captioner.gui.models.image_list_model import (
    COL_CAPTION,
    COL_NAME,
    COL_SOURCE,
    COL_STATUS,
    COL_THUMBNAIL,
)


class ImageListView(QTableView):
    def __init__(self, proxy: CaptionFilterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.proxy = proxy
        self.setModel(proxy)
        thumb = proxy.images.thumbnails.max_side
        self.setIconSize(self.iconSize().scaled(thumb, thumb, Qt.AspectRatioMode.KeepAspectRatio))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(thumb + 8)
        columns = self.horizontalHeader()
        columns.setHighlightSections(False)
        columns.setSectionResizeMode(COL_THUMBNAIL, QHeaderView.ResizeMode.Fixed)
        columns.setSectionResizeMode(COL_CAPTION, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(COL_THUMBNAIL, thumb + 12)
        self.setColumnWidth(COL_NAME, 170)
        self.setColumnWidth(COL_STATUS, 110)
        self.setColumnWidth(COL_SOURCE, 80)

    def selected_rows(self) -> list[int]:
        """Selected rows as rows of the ImageListModel, in list order."""
        return sorted(self.proxy.mapToSource(index).row()
                      for index in self.selectionModel().selectedRows())

    def edit_current_caption(self) -> None:
        """F2 from the menu: edit the caption of the current row."""
        current = self.currentIndex()
        if current.isValid():
            self.edit(self.model().index(current.row(), COL_CAPTION))
