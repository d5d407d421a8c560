"""The window's caption models: open one (dialog, Open Recent, command line, a freshly trained
one), find the VGG16 weights it needs (asking once when there are none), reload it when the
encoder precision changes, show its details, and open the training dialog.

Loading itself runs in the captioning worker thread (``CaptioningController.load_model``); this
controller decides what to load and remembers what was loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from desktop_captioner.core import weights
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.gui.captioning import CaptioningController
from desktop_captioner.gui.dialogs.model_info import show_model_info
from desktop_captioner.gui.dialogs.weights_dialog import WeightsDialog, choose_weights_file
from desktop_captioner.gui.settings import Settings
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar
from desktop_captioner.gui.workers.caption_worker import ModelInfo

if TYPE_CHECKING:
    from desktop_captioner.gui.training import TrainingDialog

MODEL_FILTER = "Caption models (*.dcmodel);;All files (*)"


class ModelController(QObject):
    """Chooses models and weights and has ``captioning`` load them; ``window`` parents the
    dialogs, ``save_settings`` stores what was chosen. ``weights_override`` is the
    ``--weights`` file, used before the remembered one until the user picks another."""

    def __init__(self, captioning: CaptioningController, status: CaptionStatusBar,
                 settings: Settings, save_settings: Callable[[], None], window: QWidget,
                 weights_override: Path | None = None) -> None:
        super().__init__(window)
        self.captioning, self.status, self.settings = captioning, status, settings
        self.save_settings, self.window = save_settings, window
        self.weights_override = weights_override
        self.training_dialog: TrainingDialog | None = None
        self.recent_menu = QMenu("Open &Recent", window)
        captioning.model_loaded.connect(self._on_model_loaded)
        self._rebuild_recent_menu()

    @Slot()
    def choose_model(self) -> None:
        start = str(Path(self.settings.last_model).parent) if self.settings.last_model else ""
        name, _ = QFileDialog.getOpenFileName(self.window, "Open Caption Model", start,
                                              MODEL_FILTER)
        if name:
            self.load_model(Path(name))

    def load_model(self, model_path: Path) -> None:
        """Find the VGG16 weights (asking once if needed), then load in the worker thread."""
        if self.captioning.busy:
            self.status.showMessage("Stop captioning (Esc) before changing the model.", 8000)
            return
        weights_path = self._weights_or_ask()
        if weights_path is None:
            self.status.set_model_state("No model loaded", "The VGG16 weights are missing.")
            return
        self.captioning.load_model(model_path, weights_path,
                                   self.settings.caption_precision or None)

    @Slot()
    def choose_weights(self) -> None:
        chosen = choose_weights_file(self.window)
        if chosen is None:
            return
        self.settings.weights_path, self.weights_override = str(chosen), None
        self.status.showMessage(f"VGG16 weights: {chosen}", 8000)

    @Slot(str)
    def set_precision(self, precision: str) -> None:
        """Remember the choice and reload the current model with it (the encoder is built for
        one precision). The menu is disabled while captioning, so no job is cut short."""
        self.settings.caption_precision = precision
        self.save_settings()
        current = self.captioning.loading_model or (
            self.captioning.model_info and self.captioning.model_info.path)
        if current:
            self.load_model(Path(current))

    @Slot()
    def show_info(self) -> None:
        show_model_info(self.window, self.captioning.model_info)

    def open_training_dialog(self, dataset_dir: Path | None = None) -> None:
        """Open (or raise) the training dialog; its trained model can be loaded straight away."""
        if self.training_dialog is None:
            from desktop_captioner.gui.training import TrainingDialog  # charts, datasets: on use

            try:
                known = self._known_weights()
            except WeightsError:
                known = None  # the dialog asks for weights itself when it needs them
            self.training_dialog = TrainingDialog(self.window, weights=known,
                                                  dataset_dir=dataset_dir)
            self.training_dialog.use_model.connect(self.load_model)
        elif dataset_dir is not None:
            self.training_dialog.choose_folder(Path(dataset_dir))
        self.training_dialog.show()
        self.training_dialog.raise_()

    def _known_weights(self) -> Path | None:
        """The weights file found without asking (``--weights``, the remembered choice, then
        ``weights.find_weights``' own places); raises ``WeightsError`` for an unusable one."""
        location = weights.find_weights(self.weights_override or self.settings.weights_path
                                        or None)
        return location.path if location is not None else None

    def _weights_or_ask(self) -> Path | None:
        """The known weights file, else the one the weights dialog downloads or the user picks
        (remembered); None when the user gave none."""
        try:
            known = self._known_weights()
        except WeightsError as exc:
            QMessageBox.warning(self.window, "VGG16 weights", str(exc))
            known = None
        if known is not None:
            return known
        dialog = WeightsDialog(self.window)
        if dialog.exec() and dialog.weights_path is not None:
            self.settings.weights_path = str(dialog.weights_path)
            self.weights_override = None
            return dialog.weights_path
        return None

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.settings.remember_model(info.path)
        self._rebuild_recent_menu()
        self.save_settings()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for recent in self.settings.recent_models:
            action = self.recent_menu.addAction(Path(recent).name)
            action.setToolTip(recent)
            action.triggered.connect(lambda _=False, p=recent: self.load_model(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_models))
