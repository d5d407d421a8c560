"""What the finished model is worth: BLEU in plain words, example captions, time and path."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.progress import format_eta
from desktop_captioner.gui.training.worker import THUMBNAIL_SIDE, TrainingResult

BLEU_KEYS = ("bleu1", "bleu2", "bleu3", "bleu4")


def interpret_bleu(bleu4: float) -> str:
    """One sentence a non-specialist can act on. The yardsticks are published Flickr8k BLEU-4
    scores: a well-known VGG16+LSTM tutorial model 0.13, research models 0.18-0.21."""
    if bleu4 < 0.03:
        return ("The captions rarely match what people wrote yet: train on more images or for "
                "more epochs before relying on this model.")
    if bleu4 < 0.08:
        return ("The captions often name the main subject, but seldom in the words people used; "
                "more images or more epochs will help.")
    if bleu4 < 0.15:
        return ("Typical of a good model on real photos (a popular VGG16+LSTM tutorial model "
                "scores 0.13 on Flickr8k): captions are usually sensible, if generic.")
    if bleu4 < 0.30:
        return ("As good as published research models on real photos (0.18–0.21 on Flickr8k): "
                "captions are usually sensible and specific.")
    return ("The captions match the people's almost word for word, as expected on simple "
            "pictures like the sample scenes; real photos score far lower (0.13–0.21 on "
            "Flickr8k).")


def format_duration(seconds: float) -> str:
    return format_eta(seconds) if seconds >= 1 else "under a second"


class ResultsPanel(QWidget):
    """Shown when training succeeds; "Use this model" asks the main window to caption with it."""

    use_model = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_path: Path | None = None
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bleu_labels = {key: QLabel("–") for key in BLEU_KEYS}
        self.interpretation = QLabel()
        self.interpretation.setWordWrap(True)
        self.scores = scores = QGroupBox("Scores on the test images")
        scores.setToolTip("BLEU-n counts how many runs of n words of the model's caption also "
                          "appear in the human captions of the same image (0 = none, 1 = all).")
        form = QFormLayout(scores)
        for number, key in enumerate(BLEU_KEYS, start=1):
            form.addRow(f"BLEU-{number}:", self.bleu_labels[key])
        form.addRow(self.interpretation)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Caption photos in the main window with the model just trained.")
        self.use_button.clicked.connect(self._use)
        left = QVBoxLayout()
        left.addWidget(scores)
        left.addWidget(self.use_button)
        left.addStretch(1)

        self.examples = QListWidget()
        self.examples.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.examples.setWordWrap(True)
        self.examples.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.examples.setSpacing(2)
        examples_box = QGroupBox("Test images: the model's caption, then the human ones")
        QVBoxLayout(examples_box).addWidget(self.examples)

        row = QHBoxLayout()
        row.addLayout(left, 2)
        row.addWidget(examples_box, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addLayout(row, 1)

    def show_result(self, result: TrainingResult, seconds: float) -> None:
        self.model_path = result.model_path
        metrics = result.manifest.get("metrics", {})
        self.headline.setText(f"<b>Training finished in {format_duration(seconds)}.</b> "
                              f"The model is saved as {html.escape(str(result.model_path))}.")
        for key, label in self.bleu_labels.items():
            value = metrics.get(key)
            label.setText("–" if value is None else f"{value:.3f}")
        self.scores.setTitle(f"Scores on the {metrics.get('split', 'test')} images "
                             f"({metrics.get('images', '?')} the model never trained on)")
        bleu4 = metrics.get("bleu4")
        self.interpretation.setText("" if bleu4 is None else interpret_bleu(bleu4))
        self.examples.clear()
        for example in metrics.get("examples", []):
            references = "\n".join(f"    • {text}" for text in example.get("references", []))
            item = QListWidgetItem(f"“{example.get('hypothesis', '')}”\n{references}")
            item.setToolTip(example.get("image", ""))
            thumbnail = result.thumbnails.get(example.get("image", ""))
            if thumbnail is not None:
                item.setIcon(QPixmap.fromImage(thumbnail))
            self.examples.addItem(item)

    def _use(self) -> None:
        if self.model_path is not None:
            self.use_model.emit(self.model_path)
