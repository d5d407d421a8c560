"""The main window: puts the list, the preview and the parts that do the work together and wires
them up. The parts: ``adding``, ``list_editing``, ``captioning``, ``model_controller``,
``export_controller``, ``metadata_writing``, ``session``; the actions and menus that drive them
are in ``window_actions``."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QByteArray, Qt, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QMainWindow, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from desktop_captioner.gui.adding import ImageAdder
from desktop_captioner.gui.captioning import CaptioningController
from desktop_captioner.gui.export_controller import ExportController
from desktop_captioner.gui.list_editing import ListEditor
from desktop_captioner.gui.metadata_writing import MetadataWriter
from desktop_captioner.gui.model_controller import ModelController
from desktop_captioner.gui.models.caption_filter_model import CaptionFilterModel
from desktop_captioner.gui.models.image_list_model import ERROR, NEW, ImageListModel
from desktop_captioner.gui.session import SessionKeeper
from desktop_captioner.gui.settings import load_settings, save_settings
from desktop_captioner.gui.settings_schema import decode_geometry
from desktop_captioner.gui.unsaved_guard import Decision, UnsavedGuard
from desktop_captioner.gui.widgets.empty_state import EmptyStateWidget
from desktop_captioner.gui.widgets.filter_bar import FilterBar
from desktop_captioner.gui.widgets.image_list_view import ImageListView
from desktop_captioner.gui.widgets.preview_pane import PreviewPane
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar
from desktop_captioner.gui.window_actions import (
    build_menus,
    create_actions,
    name_actions_for_scope,
    update_action_states,
)
from desktop_captioner.gui.workers.caption_worker import LoadCaptioner
from desktop_captioner.gui.workers.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from desktop_captioner.gui.training import TrainingDialog

log = logging.getLogger(__name__)

LIST_THUMBNAIL_SIDE = 56
PREVIEW_SIDE = 480


class MainWindow(QMainWindow):
    """``load_captioner`` and ``batch_size`` exist for tests (a fake Captioner, small batches)."""

    def __init__(self, weights_override: Path | None = None,
                 load_captioner: LoadCaptioner | None = None, batch_size: int = 16) -> None:
        super().__init__()
        self.setWindowTitle("Desktop Captioner")
        self.setAcceptDrops(True)
        self.settings, settings_warning = load_settings()

        self.undo_stack = QUndoStack(self)
        self.thumbnails = ThumbnailLoader(LIST_THUMBNAIL_SIDE, parent=self)
        self.previews = ThumbnailLoader(PREVIEW_SIDE, capacity=30, use_disk_cache=False,
                                        parent=self)
        self.model = ImageListModel(self.thumbnails, self.undo_stack, self)

        self.filter_model = CaptionFilterModel(self.model, self)
        self.view = ImageListView(self.filter_model)
        self.filter_bar = FilterBar(self.filter_model)
        self.empty_state = EmptyStateWidget()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.view)
        list_side = QWidget()
        list_layout = QVBoxLayout(list_side)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.filter_bar)
        list_layout.addWidget(self.stack, 1)
        self.preview = PreviewPane(self.model, self.previews)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(list_side)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.status = CaptionStatusBar()
        self.setStatusBar(self.status)
        self.adder = ImageAdder(self.model, self.status, self.settings, self)
        self.captioning = CaptioningController(self.model, self.status, self, load_captioner,
                                               batch_size)
        self.session = SessionKeeper(self.model, self)
        self.exports = ExportController(self.model, self.status, self.settings, self)
        self.guard = UnsavedGuard(self, self.model, self.exports.save_everything,
                                  lambda: self.settings.last_export_path)
        self.metadata_writer = MetadataWriter(self.model, self.status, self.settings,
                                              self.save_settings, self)
        self.models = ModelController(self.captioning, self.status, self.settings,
                                      self.save_settings, self, weights_override)
        self.list_editor = ListEditor(self.model, self.status, self.settings, self.captioning,
                                      self.guard, self.session, self)

        create_actions(self)
        build_menus(self)
        self._connect()
        self._restore_layout()
        self._update_actions()
        if settings_warning:
            self.status.showMessage(settings_warning, 15000)

    # --- construction -----------------------------------------------------------------------------
    def _connect(self) -> None:
        self.model.rowsInserted.connect(self._update_actions)
        self.model.rowsRemoved.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.filter_bar.changed.connect(self._update_scope)
        self.undo_stack.indexChanged.connect(self._update_scope)  # edits, imports, their undo
        self.captioning.changed.connect(self._update_scope)  # a job's end changes the counts
        self.captioning.changed.connect(self._update_actions)
        self.metadata_writer.changed.connect(self._update_actions)
        self.precision_menu.chosen.connect(self.models.set_precision)
        self.list_editor.removed.connect(self._after_rows_removed)
        self.list_editor.restored.connect(self._update_actions)
        self.session.save_failed.connect(lambda problem: self.status.showMessage(problem, 15000))
        self.beam_width_menu.chosen.connect(self.set_beam_width)
        empty = self.empty_state
        empty.add_images.connect(self.adder.choose_images)
        empty.add_folder.connect(self.adder.choose_folder)
        empty.open_model.connect(self.models.choose_model)
        empty.train.connect(self.models.open_training_dialog)
        empty.sample.connect(self.models.open_training_dialog)

    def _restore_layout(self) -> None:
        """Saved size and splitter, when they are valid (``settings_schema`` checked them on
        load, so the geometry decodes; Qt may still not recognise it)."""
        if not self._restore_geometry(self.settings.window_geometry):
            self.resize(1200, 760)
        self.splitter.setSizes(self.settings.splitter_sizes or [820, 380])

    def _restore_geometry(self, saved: str) -> bool:
        if not saved:
            return False
        if not self.restoreGeometry(QByteArray(decode_geometry(saved))):
            log.warning("saved window geometry not used: Qt does not recognise it")
            return False
        return True

    # --- start-up hooks ---------------------------------------------------------------------------
    def start(self, paths: Iterable[str | Path] = (), model: str | Path | None = None,
              train_dir: str | Path | None = None, restore: bool = True,
              captions: str | Path | None = None) -> None:
        """What the command line asked for, run once the window is on screen. The last session
        comes back when no paths were given (unless ``restore`` or the setting says no).
        ``captions`` (an export of this app) is imported once ``paths`` are listed, so rows keep
        folder order."""
        paths = list(paths)
        message = self.session.begin(restore and self.settings.restore_session and not paths)
        self._update_actions()
        if message:
            self.status.showMessage(message, 15000)
        if paths:
            self.add_paths(paths)
        if captions:
            if self.adder.walker.busy:
                self.adder.idle.connect(lambda: self.import_captions(Path(captions)),
                                        Qt.ConnectionType.SingleShotConnection)
            else:
                self.import_captions(Path(captions))
        model = model or self.settings.last_model
        if model:
            self.load_model(Path(model))
        if train_dir:
            self.models.open_training_dialog(Path(train_dir))

    def load_model(self, model_path: Path) -> None:
        """Load a caption model file (asking for the VGG16 weights once if there are none)."""
        self.models.load_model(model_path)

    @property
    def weights_override(self) -> Path | None:
        """The ``--weights`` file, until the user chooses weights in the app."""
        return self.models.weights_override

    @weights_override.setter
    def weights_override(self, path: Path | None) -> None:
        self.models.weights_override = path

    @property
    def training_dialog(self) -> TrainingDialog | None:
        return self.models.training_dialog

    # --- the list ---------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    def add_paths(self, paths: Iterable[str | Path]) -> None:
        """Walk files/folders in the background; rows arrive in chunks."""
        self.adder.add(paths)

    def import_captions(self, export_file: Path) -> None:
        """Import an export of this app as one undo step (not while captioning)."""
        self.list_editor.import_captions(export_file)

    @Slot()
    def remove_selected(self) -> None:
        self.list_editor.remove(self.view.selected_rows())

    @Slot()
    def _after_rows_removed(self) -> None:
        if not self.model.rowCount():
            self.stack.setCurrentWidget(self.empty_state)
        self._on_selection_changed()

    @Slot()
    def _on_selection_changed(self, *_args) -> None:
        rows = self.view.selected_rows()
        self.preview.show_row(rows[0] if len(rows) == 1 else None)
        self._update_actions()

    # --- captioning -------------------------------------------------------------------------------
    def scope_rows(self) -> list[int]:
        """The rows Caption All and Export act on: the visible ones while a filter hides some."""
        if self.filter_model.active:
            return self.filter_model.visible_source_rows()
        return list(range(self.model.rowCount()))

    @Slot()
    def caption_all(self) -> None:
        """Caption the rows (in scope) without a caption; failed ones are tried again."""
        rows = [row for row in self.scope_rows() if self.model.item(row).status in (NEW, ERROR)]
        self.captioning.start(rows, self.settings.beam_width)

    @Slot()
    def recaption_all(self) -> None:
        """Caption every row in scope again (hand-edited captions after the user agrees)."""
        self.captioning.recaption(self.scope_rows(), self.settings.beam_width)

    @Slot()
    def caption_selected(self) -> None:
        self.captioning.start(self.view.selected_rows(), self.settings.beam_width)

    # --- export -----------------------------------------------------------------------------------
    @Slot()
    def export_all(self) -> None:
        self.exports.export_rows(self.scope_rows())

    @Slot()
    def export_selected(self) -> None:
        self.exports.export_rows(self.view.selected_rows())

    @Slot()
    def write_sidecars(self) -> None:
        self.exports.write_sidecars(self.scope_rows())

    @Slot()
    def write_metadata(self) -> None:
        scope_name = "Visible images" if self.filter_model.active else "All images"
        self.metadata_writer.start(self.scope_rows(), self.view.selected_rows(), scope_name)

    # --- state ------------------------------------------------------------------------------------
    @Slot()
    def _update_actions(self, *_args) -> None:
        has_rows = self.model.rowCount() > 0
        update_action_states(self, has_rows, bool(self.view.selectionModel().hasSelection()))
        model_info = self.captioning.model_info
        self.empty_state.set_model_loaded(model_info is not None
                                          or bool(self.captioning.loading_model))
        self.preview.setVisible(has_rows)  # the empty state gets the whole window
        self.filter_bar.setVisible(has_rows)
        if not has_rows:
            self.stack.setCurrentWidget(self.empty_state)
        elif self.stack.currentWidget() is not self.view:
            self.stack.setCurrentWidget(self.view)
            self.view.selectRow(0)

    @Slot()
    def _update_scope(self) -> None:
        """Say in the actions' names whether they act on every row or only the visible ones."""
        name_actions_for_scope(self)

    # --- settings and shutdown --------------------------------------------------------------------
    @Slot(bool)
    def set_restore_at_start(self, checked: bool) -> None:
        self.settings.restore_session = checked
        self.save_settings()

    @Slot(int)
    def set_beam_width(self, width: int) -> None:
        """Used from the next captioning job on."""
        self.settings.beam_width = width
        self.save_settings()

    @Slot(bool)
    def set_read_existing_captions(self, on: bool) -> None:
        """Used from the next photos added on."""
        self.settings.read_existing_captions = on
        self.save_settings()

    def save_settings(self) -> None:
        self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode("ascii")
        if self.preview.isVisible():
            self.settings.splitter_sizes = list(self.splitter.sizes())
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unexported captions; then cancel and join every worker before Qt destroys
        the threads, and leave the session file exact (or gone, after Discard)."""
        decision = self.guard.confirm(
            "quitting", "quits and forgets this list: it will not reopen at the next start.")
        if decision is Decision.CANCEL:
            event.ignore()
            return
        self.captioning.shutdown()
        self.adder.shutdown()
        self.metadata_writer.shutdown()
        self.thumbnails.shutdown()
        self.previews.shutdown()
        if decision is Decision.DISCARD:
            self.session.discard()
        else:
            self.session.flush()
        self.session.shutdown()
        self.save_settings()
        event.accept()

