"""The bar above the image list: a filter box, the quick filters and how many rows are shown."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from desktop_captioner.gui.models.caption_filter_model import CaptionFilterModel, QuickFilter

PLACEHOLDER = "Filter by name or caption (Ctrl+F)"


class FilterBar(QWidget):
    """Drives a CaptionFilterModel; the count label follows both the filter and the list."""

    changed = Signal()  # the filter or the number of shown rows changed

    def __init__(self, proxy: CaptionFilterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.proxy = proxy
        self.text = QLineEdit()
        self.text.setPlaceholderText(PLACEHOLDER)
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(self._on_text)
        self.quick_buttons: dict[QuickFilter, QToolButton] = {}
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        for quick in QuickFilter:
            button = QToolButton()
            button.setText(quick.value)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setChecked(quick is QuickFilter.ALL)
            button.toggled.connect(lambda on, q=quick: on and self._on_quick(q))
            self.group.addButton(button)
            self.quick_buttons[quick] = button
            layout.addWidget(button)
        self.count = QLabel()
        # As wide as the longest count it will show, so the box and buttons never shift.
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance(
            "100,000 of 100,000 shown"))
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.count)
        # Adding 10,000 rows arrives in many inserts; the label is rewritten once per burst.
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(0)
        self._recount.timeout.connect(self.update_count)
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset,
                       proxy.layoutChanged):
            signal.connect(self._recount.start)
        self.update_count()

    def focus_filter(self) -> None:
        """Ctrl+F: put the cursor in the filter box with its text selected."""
        self.text.setFocus()
        self.text.selectAll()

    def count_text(self) -> str:
        shown, total = self.proxy.rowCount(), self.proxy.images.rowCount()
        if not self.proxy.active:
            return f"{total:,} images"
        return f"{shown:,} of {total:,} shown"

    @Slot()
    def update_count(self) -> None:
        self._recount.stop()  # a recount already queued by the same change would repeat this
        self.count.setText(self.count_text())
        self.changed.emit()

    @Slot(str)
    def _on_text(self, text: str) -> None:
        self.proxy.set_filter(text=text)
        self.update_count()

    def _on_quick(self, quick: QuickFilter) -> None:
        self.proxy.set_filter(quick=quick)
        self.update_count()
