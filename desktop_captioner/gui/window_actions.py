"""The main window's actions, menus and toolbar, and how their names and enabled states follow
the list, the filter and the running jobs.

Built onto the window, the way Qt Designer's ``setupUi`` builds a form: every action stays
``window.<name>_action`` (for menus, shortcuts and tests), and this module is the one place that
says what the actions are, where they appear and when they are enabled."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolButton

from desktop_captioner.gui.models.image_list_model import ERROR, NEW
from desktop_captioner.gui.widgets.caption_options_menu import BeamWidthMenu, PrecisionMenu

if TYPE_CHECKING:
    from desktop_captioner.gui.main_window import MainWindow


def _action(window: MainWindow, text: str, slot: Callable, shortcut=None, icon=None,
            tip: str = "") -> QAction:
    """A window action; its shortcut works even when the menu bar is hidden."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def create_actions(window: MainWindow) -> None:
    """Every action of the window, as ``window.<name>_action``, connected to the part it drives."""
    sp = QStyle.StandardPixmap
    action = partial(_action, window)
    adder, editor, models = window.adder, window.list_editor, window.models
    settings = window.settings
    window.add_images_action = action("Add &Images…", adder.choose_images, "Ctrl+O",
                                      sp.SP_FileIcon, "Add photos to the list")
    window.add_folder_action = action("Add &Folder…", adder.choose_folder, "Ctrl+Shift+O",
                                      sp.SP_DirIcon, "Add every photo in a folder")
    window.import_action = action("&Import Captions…", editor.choose_import_file, "Ctrl+I",
                                  tip="Bring back captions this app exported (CSV or JSON)")
    window.export_action = action("&Export…", window.export_all, "Ctrl+E",
                                  sp.SP_DialogSaveButton, "Export captions to CSV or JSON")
    window.export_selected_action = action("Export &Selected…", window.export_selected)
    window.sidecars_action = action("Write Caption &Sidecars…", window.write_sidecars,
                                    tip="Write each caption to a .txt (or other) file next to "
                                        "its photo")
    window.restore_session_action = action(
        "&Restore Last Session", editor.restore_last_session,
        tip="Replace the list with the session that was open when the app last ended")
    window.restore_at_start_action = action(
        "Reopen Last Session at &Start", window.set_restore_at_start,
        tip="Started without photos, the app shows the list it had when it last ended")
    window.restore_at_start_action.setCheckable(True)
    window.restore_at_start_action.setChecked(settings.restore_session)
    window.write_metadata_action = action(
        "Write to Photos' &Metadata…", window.write_metadata,
        tip="Write captions where photo software looks: XMP sidecars or inside the photos")
    window.read_captions_action = action(
        "Read Existing &Captions When Adding", window.set_read_existing_captions,
        tip="Show captions photos already have (.txt or XMP sidecars, their metadata)")
    window.read_captions_action.setCheckable(True)
    window.read_captions_action.setChecked(settings.read_existing_captions)
    window.quit_action = action("&Quit", window.close, QKeySequence.StandardKey.Quit)
    window.undo_action = window.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
    window.redo_action = window.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.edit_action = action("&Edit Caption", window.view.edit_current_caption, "F2")
    window.filter_action = action("&Filter…", window.filter_bar.focus_filter,
                                  QKeySequence.StandardKey.Find,
                                  tip="Show only the images whose name or caption matches")
    window.remove_action = action("&Remove Selected", window.remove_selected,
                                  QKeySequence.StandardKey.Delete)
    window.clear_action = action("&Clear List", editor.clear)
    window.caption_all_action = action("Caption &All", window.caption_all, "Ctrl+R",
                                       sp.SP_MediaPlay, "Caption every image not captioned yet")
    window.caption_selected_action = action("Caption &Selected", window.caption_selected,
                                            "Ctrl+Shift+R")
    window.recaption_all_action = action("&Re-caption All…", window.recaption_all,
                                         tip="Caption every image again, replacing the captions "
                                             "it has (undoable)")
    window.stop_action = action("S&top", window.captioning.stop, "Esc", sp.SP_MediaStop,
                                "Stop after the current batch")
    window.open_model_action = action("&Open Model…", models.choose_model, "Ctrl+M",
                                      sp.SP_DialogOpenButton, "Open a caption model file")
    window.model_info_action = action("Model &Info…", models.show_info)
    window.train_action = action("&Train New Model…", lambda: models.open_training_dialog(),
                                 "Ctrl+T", tip="Train a caption model on a dataset folder")
    window.weights_action = action("Choose VGG16 &Weights File…", models.choose_weights)


def build_menus(window: MainWindow) -> None:
    """The menu bar, the toolbar and the status bar's Restore Last Session button."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([window.add_images_action, window.add_folder_action,
                          window.import_action])
    file_menu.addSeparator()
    file_menu.addActions([window.export_action, window.export_selected_action,
                          window.sidecars_action, window.write_metadata_action])
    file_menu.addSeparator()
    file_menu.addAction(window.read_captions_action)
    file_menu.addSeparator()
    file_menu.addActions([window.restore_session_action, window.restore_at_start_action])
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([window.undo_action, window.redo_action])
    edit_menu.addSeparator()
    edit_menu.addActions([window.edit_action, window.filter_action, window.remove_action,
                          window.clear_action])
    caption_menu = bar.addMenu("&Caption")
    caption_menu.addActions([window.caption_all_action, window.caption_selected_action,
                             window.recaption_all_action, window.stop_action])
    caption_menu.addSeparator()
    window.precision_menu = PrecisionMenu(window.settings.caption_precision, window)
    window.beam_width_menu = BeamWidthMenu(window.settings.beam_width, window)
    caption_menu.addMenu(window.precision_menu)
    caption_menu.addMenu(window.beam_width_menu)
    model_menu = bar.addMenu("&Model")
    model_menu.addAction(window.open_model_action)
    window.recent_menu = window.models.recent_menu
    model_menu.addMenu(window.recent_menu)
    model_menu.addActions([window.model_info_action, window.train_action, window.weights_action])
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addActions([window.add_images_action, window.add_folder_action,
                        window.open_model_action])
    toolbar.addSeparator()
    toolbar.addActions([window.caption_all_action, window.stop_action, window.export_action])
    window.restore_session_button = QToolButton()
    window.restore_session_button.setDefaultAction(window.restore_session_action)
    window.restore_session_button.setAutoRaise(True)
    window.status.addPermanentWidget(window.restore_session_button)


def update_action_states(window: MainWindow, has_rows: bool, has_selection: bool) -> None:
    """Enable what can run now: the list has rows, some are selected, a job is running."""
    busy = window.captioning.busy
    for action in (window.caption_all_action, window.recaption_all_action):
        action.setEnabled(has_rows and not busy)
    window.caption_selected_action.setEnabled(has_selection and not busy)
    window.stop_action.setEnabled(busy)
    window.export_action.setEnabled(has_rows)
    window.export_selected_action.setEnabled(has_selection)
    window.sidecars_action.setEnabled(has_rows)
    window.write_metadata_action.setEnabled(has_rows and not window.metadata_writer.busy)
    window.remove_action.setEnabled(has_selection)
    window.clear_action.setEnabled(has_rows and not busy)
    waiting = window.session.previous_count
    window.restore_session_action.setEnabled(bool(waiting) and not busy)
    window.restore_session_action.setText(
        f"&Restore Last Session ({waiting:,} photos)" if waiting else "&Restore Last Session")
    window.restore_session_button.setVisible(bool(waiting))
    window.open_model_action.setEnabled(not busy)
    window.precision_menu.setEnabled(not busy)
    window.model_info_action.setEnabled(window.captioning.model_info is not None)


def name_actions_for_scope(window: MainWindow) -> None:
    """Say in the actions' names whether they act on every row or only the visible ones."""
    if window.filter_model.active:
        shown = window.filter_model.rowCount()
        uncaptioned = window.filter_model.count_matching((NEW, ERROR))
        window.caption_all_action.setText(f"Caption &Visible ({uncaptioned:,})")
        window.caption_all_action.setStatusTip(f"Caption the {uncaptioned:,} visible images "
                                               f"not captioned yet")
        window.recaption_all_action.setText(f"&Re-caption Visible ({shown:,})…")
        window.recaption_all_action.setStatusTip("Caption the visible images again, replacing "
                                                 "their captions (undoable)")
        window.export_action.setText("&Export Visible…")
        window.export_action.setStatusTip("Export the captions of the visible images")
        window.sidecars_action.setText("Write Caption &Sidecars of Visible Images…")
    else:
        window.caption_all_action.setText("Caption &All")
        window.caption_all_action.setStatusTip("Caption every image not captioned yet")
        window.recaption_all_action.setText("&Re-caption All…")
        window.recaption_all_action.setStatusTip("Caption every image again, replacing the "
                                                 "captions it has (undoable)")
        window.export_action.setText("&Export…")
        window.export_action.setStatusTip("Export captions to CSV or JSON")
        window.sidecars_action.setText("Write Caption &Sidecars…")
    for action in (window.caption_all_action, window.recaption_all_action, window.export_action):
        action.setToolTip(action.statusTip())
