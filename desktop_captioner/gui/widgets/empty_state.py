"""What an empty window says: drop photos here, and how to get a caption model if there is none."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_MODEL_WAYS = [
    ("open_model", "Open Model…",
     "<b>Open a model file</b> (<code>.dcmodel</code>) that you or someone else trained."),
    ("train", "Train a Model…",
     "<b>Train one</b> on your own captioned photos (a Flickr8k-style folder)."),
    ("sample", "Try the Sample…",
     "<b>Make the sample dataset and train on it</b>: generated scenes, a few minutes on a CPU."),
]


class EmptyStateWidget(QWidget):
    """Shown instead of the list while it has no rows; its buttons only emit signals."""

    add_images = Signal()
    add_folder = Signal()
    open_model = Signal()
    train = Signal()
    sample = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        picture = QLabel()
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        icon = QApplication.windowIcon()
        if not icon.isNull():
            picture.setPixmap(icon.pixmap(96, 96))
        title = QLabel("Drop photos or folders here")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        hint = QLabel("Folders are searched for images, including their subfolders.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        add_row = QHBoxLayout()
        add_row.addStretch()
        for text, signal in (("Add Images…", self.add_images), ("Add Folder…", self.add_folder)):
            button = QPushButton(text)
            button.clicked.connect(signal)
            add_row.addWidget(button)
        add_row.addStretch()

        self.model_help = QFrame()
        self.model_help.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self.model_help)
        grid.addWidget(
            QLabel("<b>No caption model is loaded.</b> There are three ways to get one:"),
            0, 0, 1, 2)
        for row, (name, button_text, text) in enumerate(_MODEL_WAYS, start=1):
            label = QLabel(f"{row}. {text}")
            label.setWordWrap(True)
            button = QPushButton(button_text)
            button.setObjectName(f"empty_{name}")
            button.clicked.connect(getattr(self, name))
            grid.addWidget(label, row, 0)
            grid.addWidget(button, row, 1)
        grid.setColumnStretch(0, 1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(picture)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(add_row)
        layout.addSpacing(24)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.model_help, 4)
        centred.addStretch(1)
        layout.addLayout(centred)
        layout.addStretch(3)

    def set_model_loaded(self, loaded: bool) -> None:
        self.model_help.setVisible(not loaded)
