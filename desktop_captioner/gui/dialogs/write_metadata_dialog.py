"""The question Write to Photos' Metadata asks: which rows, and where the captions go."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.metadata_modes import MODE_EMBED, MODE_XMP


class WriteMetadataDialog(QDialog):
    """Sidecars are the default; embedding is offered with what it means."""

    def __init__(self, parent: QWidget | None, mode: str, scope_name: str, scope_count: int,
                 selected_count: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Write to Photos' Metadata")
        self.sidecar = QRadioButton("XMP sidecar files beside the photos (photo.jpg.xmp); "
                                    "the photos are not changed")
        self.embed = QRadioButton("Inside the photos (XMP, IPTC and EXIF captions); "
                                  "rewrites the photo files")
        (self.embed if mode == MODE_EMBED else self.sidecar).setChecked(True)
        self.scope_all = QRadioButton(f"{scope_name} ({scope_count:,})")
        self.scope_selected = QRadioButton(f"Selected images ({selected_count:,})")
        self.scope_selected.setEnabled(selected_count > 0)
        (self.scope_selected if selected_count > 1 else self.scope_all).setChecked(True)
        layout = QVBoxLayout(self)
        for title, buttons in (("Write the captions to", (self.sidecar, self.embed)),
                               ("For", (self.scope_all, self.scope_selected))):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            group = QButtonGroup(box)
            for button in buttons:
                group.addButton(button)
                box_layout.addWidget(button)
            layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, bool]:
        """(metadata mode, selected rows only)"""
        return (MODE_EMBED if self.embed.isChecked() else MODE_XMP,
                self.scope_selected.isChecked())

    @staticmethod
    def ask(parent: QWidget | None, mode: str, scope_name: str, scope_count: int,
            selected_count: int) -> tuple[str, bool] | None:
        """Show the dialog; None when cancelled. (Tests replace this, as QFileDialog statics.)"""
        dialog = WriteMetadataDialog(parent, mode, scope_name, scope_count, selected_count)
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None
