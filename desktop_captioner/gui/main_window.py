"""The main window: image list, preview, menus, and the wiring between them and the workers."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QByteArray, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QMainWindow, QMessageBox, QSplitter, QStackedWidget, QStyle,
                               QToolButton, QVBoxLayout, QWidget)

from desktop_captioner.gui.adding import ImageAdder
from desktop_captioner.gui.export_controller import ExportController
from desktop_captioner.gui.list_editing import ListEditor
from desktop_captioner.gui.metadata_writing import MetadataWriter
from desktop_captioner.gui.model_controller import ModelController
from desktop_captioner.gui.models.caption_filter_model import CaptionFilterModel
from desktop_captioner.gui.models.image_list_model import EDITED, ERROR, NEW, ImageListModel
from desktop_captioner.gui.session import SessionKeeper
from desktop_captioner.gui.settings import load_settings, save_settings
from desktop_captioner.gui.settings_schema import decode_geometry
from desktop_captioner.gui.unsaved_guard import Decision, UnsavedGuard
from desktop_captioner.gui.widgets.caption_options_menu import BeamWidthMenu, PrecisionMenu
from desktop_captioner.gui.widgets.empty_state import EmptyStateWidget
from desktop_captioner.gui.widgets.filter_bar import FilterBar
from desktop_captioner.gui.widgets.image_list_view import ImageListView
from desktop_captioner.gui.widgets.preview_pane import PreviewPane
from desktop_captioner.gui.widgets.status_bar import CaptionStatusBar
from desktop_captioner.gui.captioning import CaptioningController
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
        self.previews = ThumbnailLoader(PREVIEW_SIDE, capacity=30, use_disk_cache=False, parent=self)
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

        self._build_actions()
        self._build_menus()
        self._connect()
        self._restore_layout()
        self._update_actions()
        if settings_warning:
            self.status.showMessage(settings_warning, 15000)

    # --- construction -------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        adder, editor, models = self.adder, self.list_editor, self.models
        self.add_images_action = self._action("Add &Images…", adder.choose_images, "Ctrl+O",
                                              sp.SP_FileIcon, "Add photos to the list")
        self.add_folder_action = self._action("Add &Folder…", adder.choose_folder,
                                              "Ctrl+Shift+O", sp.SP_DirIcon,
                                              "Add every photo in a folder")
        self.import_action = self._action("&Import Captions…", editor.choose_import_file, "Ctrl+I",
                                          tip="Bring back captions this app exported (CSV or "
                                              "JSON)")
        self.export_action = self._action("&Export…", self.export_all, "Ctrl+E",
                                          sp.SP_DialogSaveButton, "Export captions to CSV or JSON")
        self.export_selected_action = self._action("Export &Selected…", self.export_selected)
        self.sidecars_action = self._action("Write Caption &Sidecars…", self.write_sidecars,
                                            tip="Write each caption to a .txt (or other) file "
                                                "next to its photo")
        self.restore_session_action = self._action(
            "&Restore Last Session", editor.restore_last_session,
            tip="Replace the list with the session that was open when the app last ended")
        self.restore_at_start_action = self._action(
            "Reopen Last Session at &Start", self.set_restore_at_start,
            tip="Started without photos, the app shows the list it had when it last ended")
        self.restore_at_start_action.setCheckable(True)
        self.restore_at_start_action.setChecked(self.settings.restore_session)
        self.write_metadata_action = self._action(
            "Write to Photos' &Metadata…", self.write_metadata,
            tip="Write captions where photo software looks: XMP sidecars or inside the photos")
        self.read_captions_action = self._action(
            "Read Existing &Captions When Adding", self.set_read_existing_captions,
            tip="Show captions photos already have (.txt or XMP sidecars, their metadata)")
        self.read_captions_action.setCheckable(True)
        self.read_captions_action.setChecked(self.settings.read_existing_captions)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.edit_action = self._action("&Edit Caption", self.view.edit_current_caption, "F2")
        self.filter_action = self._action("&Filter…", self.filter_bar.focus_filter,
                                          QKeySequence.StandardKey.Find,
                                          tip="Show only the images whose name or caption matches")
        self.remove_action = self._action("&Remove Selected", self.remove_selected,
                                          QKeySequence.StandardKey.Delete)
        self.clear_action = self._action("&Clear List", editor.clear)
        self.caption_all_action = self._action("Caption &All", self.caption_all, "Ctrl+R",
                                               sp.SP_MediaPlay, "Caption every image not captioned yet")
        self.caption_selected_action = self._action("Caption &Selected", self.caption_selected,
                                                    "Ctrl+Shift+R")
        self.recaption_all_action = self._action("&Re-caption All…", self.recaption_all,
                                                 tip="Caption every image again, replacing "
                                                     "the captions it has (undoable)")
        self.stop_action = self._action("S&top", self.stop_captioning, "Esc", sp.SP_MediaStop,
                                        "Stop after the current batch")
        self.open_model_action = self._action("&Open Model…", models.choose_model, "Ctrl+M",
                                              sp.SP_DialogOpenButton, "Open a caption model file")
        self.model_info_action = self._action("Model &Info…", models.show_info)
        self.train_action = self._action("&Train New Model…", lambda: models.open_training_dialog(),
                                         "Ctrl+T", tip="Train a caption model on a dataset folder")
        self.weights_action = self._action("Choose VGG16 &Weights File…", models.choose_weights)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.add_images_action, self.add_folder_action, self.import_action])
        file_menu.addSeparator()
        file_menu.addActions([self.export_action, self.export_selected_action, self.sidecars_action,
                              self.write_metadata_action])
        file_menu.addSeparator()
        file_menu.addAction(self.read_captions_action)
        file_menu.addSeparator()
        file_menu.addActions([self.restore_session_action, self.restore_at_start_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.edit_action, self.filter_action, self.remove_action,
                              self.clear_action])
        caption_menu = bar.addMenu("&Caption")
        caption_menu.addActions([self.caption_all_action, self.caption_selected_action,
                                 self.recaption_all_action, self.stop_action])
        caption_menu.addSeparator()
        self.precision_menu = PrecisionMenu(self.settings.caption_precision, self)
        self.beam_width_menu = BeamWidthMenu(self.settings.beam_width, self)
        caption_menu.addMenu(self.precision_menu)
        caption_menu.addMenu(self.beam_width_menu)
        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.open_model_action)
        self.recent_menu = self.models.recent_menu
        model_menu.addMenu(self.recent_menu)
        model_menu.addActions([self.model_info_action, self.train_action, self.weights_action])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions([self.add_images_action, self.add_folder_action, self.open_model_action])
        toolbar.addSeparator()
        toolbar.addActions([self.caption_all_action, self.stop_action, self.export_action])
        self.restore_session_button = QToolButton()
        self.restore_session_button.setDefaultAction(self.restore_session_action)
        self.restore_session_button.setAutoRaise(True)
        self.status.addPermanentWidget(self.restore_session_button)

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

    # --- start-up hooks -----------------------------------------------------------------------
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

    # --- adding and removing images -----------------------------------------------------------
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

    @Slot(bool)
    def set_restore_at_start(self, checked: bool) -> None:
        self.settings.restore_session = checked
        self.save_settings()

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

    @Slot(int)
    def set_beam_width(self, width: int) -> None:
        """Used from the next captioning job on."""
        self.settings.beam_width = width
        self.save_settings()

    # --- captioning ---------------------------------------------------------------------------
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
        """Caption every row in scope again; replaced captions come back with one Undo. Captions
        typed by hand are only replaced after the user agrees."""
        if self.captioning.busy:
            return
        rows = self.scope_rows()
        edited = sum(1 for row in rows if self.model.item(row).status == EDITED)
        if edited:
            answer = QMessageBox.question(
                self, "Replace edited captions?",
                f"{edited:,} of these {len(rows):,} captions were edited by hand. Re-captioning "
                f"replaces them too (Edit → Undo brings them all back). Continue?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.captioning.start(rows, self.settings.beam_width)

    @Slot()
    def caption_selected(self) -> None:
        self.captioning.start(self.view.selected_rows(), self.settings.beam_width)

    @Slot()
    def stop_captioning(self) -> None:
        self.captioning.stop()

    # --- export -------------------------------------------------------------------------------
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

    @Slot(bool)
    def set_read_existing_captions(self, on: bool) -> None:
        """Used from the next photos added on."""
        self.settings.read_existing_captions = on
        self.save_settings()

    # --- state and shutdown -------------------------------------------------------------------
    @Slot()
    def _update_actions(self, *_args) -> None:
        has_rows = self.model.rowCount() > 0
        has_selection = bool(self.view.selectionModel().hasSelection())
        busy = self.captioning.busy
        for action in (self.caption_all_action, self.recaption_all_action):
            action.setEnabled(has_rows and not busy)
        self.caption_selected_action.setEnabled(has_selection and not busy)
        self.stop_action.setEnabled(busy)
        self.export_action.setEnabled(has_rows)
        self.export_selected_action.setEnabled(has_selection)
        self.sidecars_action.setEnabled(has_rows)
        self.write_metadata_action.setEnabled(has_rows and not self.metadata_writer.busy)
        self.remove_action.setEnabled(has_selection)
        self.clear_action.setEnabled(has_rows and not busy)
        waiting = self.session.previous_count
        self.restore_session_action.setEnabled(bool(waiting) and not busy)
        self.restore_session_action.setText(
            f"&Restore Last Session ({waiting:,} photos)" if waiting else "&Restore Last Session")
        self.restore_session_button.setVisible(bool(waiting))
        self.open_model_action.setEnabled(not busy)
        self.precision_menu.setEnabled(not busy)
        model_info = self.captioning.model_info
        self.model_info_action.setEnabled(model_info is not None)
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
        if self.filter_model.active:
            shown = self.filter_model.rowCount()
            uncaptioned = self.filter_model.count_matching((NEW, ERROR))
            self.caption_all_action.setText(f"Caption &Visible ({uncaptioned:,})")
            self.caption_all_action.setStatusTip(f"Caption the {uncaptioned:,} visible images "
                                                 f"not captioned yet")
            self.recaption_all_action.setText(f"&Re-caption Visible ({shown:,})…")
            self.recaption_all_action.setStatusTip("Caption the visible images again, replacing "
                                                   "their captions (undoable)")
            self.export_action.setText("&Export Visible…")
            self.export_action.setStatusTip("Export the captions of the visible images")
            self.sidecars_action.setText("Write Caption &Sidecars of Visible Images…")
        else:
            self.caption_all_action.setText("Caption &All")
            self.caption_all_action.setStatusTip("Caption every image not captioned yet")
            self.recaption_all_action.setText("&Re-caption All…")
            self.recaption_all_action.setStatusTip("Caption every image again, replacing the "
                                                   "captions it has (undoable)")
            self.export_action.setText("&Export…")
            self.export_action.setStatusTip("Export captions to CSV or JSON")
            self.sidecars_action.setText("Write Caption &Sidecars…")
        for action in (self.caption_all_action, self.recaption_all_action, self.export_action):
            action.setToolTip(action.statusTip())

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

