"""Training settings with defaults that work and tooltips that say what each knob trades off.

The GUI may not import ``core.training`` (it imports TensorFlow), so the form hands the pipeline
plain ``TrainingConfig`` keyword arguments. Its defaults are ``TrainingConfig``'s (a test keeps
them equal, so the GUI and the ``train`` command train the same model); settings not shown here
keep the core's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop_captioner.core import paths
from desktop_captioner.core.devices import DEFAULT_DEVICES, DEVICE_WORDS
from desktop_captioner.core.modelfile import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, MODEL_SUFFIX

PRECISIONS = ("auto", "float32", "bfloat16", "int8")


@dataclass(frozen=True)
class TrainingChoices:
    """What the user chose: ``config`` holds ``TrainingConfig`` keyword arguments."""

    config: dict[str, int | float] = field(default_factory=dict)
    image_size: int = 224
    precision: str = "auto"
    devices: str = DEFAULT_DEVICES
    out_path: Path = Path()


def safe_model_name(text: str) -> str:
    """A file-name-safe version of what the user typed (letters, digits, - _ . and spaces)."""
    return re.sub(r"[^\w\-. ]+", "_", text).strip(" .") or "model"


def _int_box(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class TrainingSettingsForm(QWidget):
    """The knobs of one training run, plus the model's name and where it is saved."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.epochs = _int_box(1, 500, 30, "Passes over all training captions. More passes learn "
                               "more, until the validation loss stops improving (early stopping "
                               "then ends training by itself).")
        self.batch_size = _int_box(1, 1024, 64, "Captions per training step. Larger is faster on "
                                   "big machines but needs more memory.")
        self.embedding_dim = _int_box(8, 1024, 256, "Size of each word's learned vector. Larger "
                                      "can express more, needs more data.", 8)
        self.hidden_dim = _int_box(8, 2048, 512, "Size of the LSTM's memory. Larger models "
                                   "caption better on big datasets but train slower.", 8)
        self.min_count = _int_box(1, 100, 5, "Words used fewer times than this in the training "
                                  "captions are replaced by an 'unknown' token, keeping the "
                                  "vocabulary small and learnable.")
        self.max_length = _int_box(5, 100, 32, "Longest caption, in words, the model learns and "
                                   "writes; longer training captions are cut.")
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.00001, 0.1)
        self.learning_rate.setSingleStep(0.0001)
        self.learning_rate.setValue(0.001)
        self.learning_rate.setToolTip("How big each learning step is. Too high and the loss jumps "
                                      "around; too low and training crawls. 0.001 suits Adam.")
        self.patience = _int_box(1, 100, 3, "Stop after this many epochs without a better "
                                 "validation loss; the best epoch's model is the one kept.")
        self.image_size = _int_box(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE, 224, "Images are resized to "
                                   "this many pixels square before VGG16 sees them. 224 is what "
                                   "VGG16 was trained on; smaller is much faster but less "
                                   "accurate. Captioning with the model uses the same size.", 32)
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.precision.setToolTip("Number format for feature extraction. bfloat16 is about twice "
                                  "as fast on recent CPUs with nearly the same features; int8 "
                                  "is faster still (built once, a minute or so) but its "
                                  "features differ more; auto picks bfloat16 where the "
                                  "processor has it natively, else float32.")
        self.devices = QComboBox()
        self.devices.addItems(DEVICE_WORDS)
        self.devices.setToolTip("Where the decoder trains: one device (the default), every GPU "
                                "of this computer at once (all; on a computer without a GPU it "
                                "trains on the processor), or the processor even where there "
                                "is a GPU (cpu). The batch size is shared out among the GPUs.")
        self.model_name = QLineEdit("my-model")
        self.model_name.setToolTip("The model file's name; it is saved in the output folder.")
        self.out_path = QLineEdit()
        self.out_path.setToolTip("Where the trained model is saved. An existing model is only "
                                 "replaced after you confirm.")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self._auto_path = self._auto_name = True
        self.model_name.textChanged.connect(self._name_changed)
        self.model_name.textEdited.connect(self._name_edited)
        self.out_path.textEdited.connect(self._path_edited)
        self._name_changed(self.model_name.text())

        out_row = QHBoxLayout()
        out_row.addWidget(self.out_path, 1)
        out_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Epochs:", self.epochs)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Word vector size:", self.embedding_dim)
        form.addRow("LSTM size:", self.hidden_dim)
        form.addRow("Min. word count:", self.min_count)
        form.addRow("Max. caption length:", self.max_length)
        form.addRow("Learning rate:", self.learning_rate)
        form.addRow("Early-stopping patience:", self.patience)
        form.addRow("Image size:", self.image_size)
        form.addRow("Precision:", self.precision)
        form.addRow("Devices:", self.devices)
        form.addRow("Model name:", self.model_name)
        form.addRow("Save as:", out_row)
        for label_row in range(form.rowCount()):
            label = form.itemAt(label_row, QFormLayout.ItemRole.LabelRole)
            field_item = form.itemAt(label_row, QFormLayout.ItemRole.FieldRole)
            if label and field_item and field_item.widget():
                label.widget().setToolTip(field_item.widget().toolTip())
        self.out_path.textChanged.connect(self.changed)

    def suggest_name(self, name: str) -> None:
        """Name the model after the dataset unless the user already named it."""
        if self._auto_name:
            self.model_name.setText(safe_model_name(name))

    def choices(self) -> TrainingChoices:
        config = {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
                  "embedding_dim": self.embedding_dim.value(),
                  "hidden_dim": self.hidden_dim.value(), "min_count": self.min_count.value(),
                  "max_length": self.max_length.value(),
                  "learning_rate": self.learning_rate.value(), "patience": self.patience.value()}
        return TrainingChoices(config=config, image_size=self.image_size.value(),
                               precision=self.precision.currentText(),
                               devices=self.devices.currentText(),
                               out_path=Path(self.out_path.text().strip()).expanduser())

    @Slot(str)
    def _name_changed(self, text: str) -> None:
        if self._auto_path:
            name = f"{safe_model_name(text)}{MODEL_SUFFIX}"
            self.out_path.setText(str(paths.models_dir() / name))

    @Slot(str)
    def _name_edited(self, _text: str) -> None:
        self._auto_name = False

    @Slot(str)
    def _path_edited(self, _text: str) -> None:
        self._auto_path = False

    @Slot()
    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the model as", self.out_path.text(), f"Caption models (*{MODEL_SUFFIX})",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if chosen:
            if not chosen.endswith(MODEL_SUFFIX):
                chosen += MODEL_SUFFIX
            self._auto_path = False
            self.out_path.setText(chosen)
