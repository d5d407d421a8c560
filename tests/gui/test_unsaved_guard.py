"""Unsaved work is guarded: quit/close, Clear List and Restore Last Session ask Save / Discard /
Cancel when captions have not been exported since they changed; Clear List can be undone."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop_captioner.core.session_file import session_path, write_session
from tests.gui.conftest import add_and_wait, answer_unsaved, select_rows, statuses, wait_for_model

SAVE, DISCARD, CANCEL = (QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard,
                         QMessageBox.StandardButton.Cancel)


def _captioned_window(qtbot, make_window, photos):
    window = make_window()
    window.start()
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy
                    and all(item.has_outcome for item in window.model.items()))
    return window


def _csv_captions(path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["caption"] for row in csv.DictReader(handle)]


def _save_dialog(monkeypatch, target) -> list[int]:
    shown: list[int] = []

    def dialog(*_args, **_kwargs):
        shown.append(1)
        return (str(target), "") if target else ("", "")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return shown


# --- quit / close ---------------------------------------------------------------------------
def test_quit_cancel_keeps_the_window_open(qtbot, make_window, photos, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    asked = answer_unsaved(monkeypatch, CANCEL)
    window.quit_action.trigger()
    assert window.isVisible()
    assert window.captioning.service.thread.isRunning()
    assert asked == ["3 captions have not been exported. Save them before quitting?\n\n"
                     "Discard quits and forgets this list: it will not reopen at the next start."]


def test_quit_save_exports_to_the_last_target(qtbot, make_window, photos, tmp_path, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    target = tmp_path / "out.csv"
    _save_dialog(monkeypatch, target)
    window.export_action.trigger()
    window.model.edit_caption(0, "edited after the export")
    shown = _save_dialog(monkeypatch, None)  # Save must not ask where again
    asked = answer_unsaved(monkeypatch, SAVE)

    assert window.close()
    assert asked[0].startswith(
        f"1 caption has not been exported. Save it to {target} before quitting?\n\n")
    assert shown == []
    assert _csv_captions(target)[0] == "edited after the export"
    assert not window.captioning.service.thread.isRunning()


def test_quit_save_without_a_last_target_asks_where(qtbot, make_window, photos, tmp_path,
                                                    monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    answer_unsaved(monkeypatch, SAVE)
    shown = _save_dialog(monkeypatch, None)  # the user cancels the dialog: nothing is saved
    assert not window.close()
    assert shown == [1] and window.isVisible()

    _save_dialog(monkeypatch, tmp_path / "chosen.csv")
    assert window.close()
    assert _csv_captions(tmp_path / "chosen.csv") == [f"a photo called {n}" for n in "abc"]
    assert window.settings.last_export_path == str(tmp_path / "chosen.csv")


def test_quit_discard_closes_without_exporting(qtbot, make_window, photos, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    shown = _save_dialog(monkeypatch, None)
    answer_unsaved(monkeypatch, DISCARD)
    assert window.close()
    assert shown == []
    assert not window.captioning.service.thread.isRunning()


def test_nothing_is_asked_once_everything_is_exported(qtbot, make_window, photos, tmp_path,
                                                      monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    _save_dialog(monkeypatch, tmp_path / "all.json")
    window.export_action.trigger()
    asked = answer_unsaved(monkeypatch, CANCEL)
    assert window.close()
    assert asked == []


def test_export_selected_leaves_the_others_unsaved(qtbot, make_window, photos, tmp_path,
                                                   monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    _save_dialog(monkeypatch, tmp_path / "one.csv")
    select_rows(window, 0)
    window.export_selected_action.trigger()
    assert window.model.unsaved_count() == 2
    assert window.settings.last_export_path == ""  # Save must not overwrite a partial export


# --- Clear List -----------------------------------------------------------------------------
def test_clear_list_cancel_keeps_the_rows(qtbot, make_window, photos, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    answer_unsaved(monkeypatch, CANCEL)
    window.clear_action.trigger()
    assert window.model.rowCount() == 3


def test_clear_list_discard_clears_and_undo_brings_everything_back(qtbot, make_window, photos,
                                                                   monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    window.model.edit_caption(2, "my blue square")
    answer_unsaved(monkeypatch, DISCARD)
    window.clear_action.trigger()
    assert window.model.rowCount() == 0
    assert window.stack.currentWidget() is window.empty_state

    window.undo_action.trigger()
    assert [item.caption for item in window.model.items()] == [
        "a photo called a", "a photo called b", "my blue square"]
    assert statuses(window) == {"a.jpg": "done", "b.png": "done", "c.jpg": "edited"}
    window.undo_action.trigger()  # the edit before the clear is still in the history
    assert window.model.item(2).caption == "a photo called c"
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert window.model.rowCount() == 0


def test_clear_list_save_exports_first(qtbot, make_window, photos, tmp_path, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    _save_dialog(monkeypatch, tmp_path / "before-clear.csv")
    answer_unsaved(monkeypatch, SAVE)
    window.clear_action.trigger()
    assert window.model.rowCount() == 0
    assert len(_csv_captions(tmp_path / "before-clear.csv")) == 3


# --- Restore Last Session -------------------------------------------------------------------
def _window_with_a_previous_session(qtbot, make_window, photos):
    write_session([("/elsewhere/x.jpg", "x", None, "done", "", "model", False)], session_path())
    window = make_window()
    window.start([photos])
    wait_for_model(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3 and not window.adder.walker.busy)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy
                    and all(item.has_outcome for item in window.model.items()))
    return window


def test_restore_last_session_cancel_keeps_the_list(qtbot, make_window, photos, monkeypatch):
    window = _window_with_a_previous_session(qtbot, make_window, photos)
    asked = answer_unsaved(monkeypatch, CANCEL)
    window.restore_session_action.trigger()
    assert window.model.rowCount() == 3
    assert asked and "replacing the list with the last session" in asked[0]
    assert window.restore_session_action.isEnabled()


def test_restore_last_session_discard_replaces_the_list(qtbot, make_window, photos, monkeypatch):
    window = _window_with_a_previous_session(qtbot, make_window, photos)
    answer_unsaved(monkeypatch, DISCARD)
    window.restore_session_action.trigger()
    assert [item.path.name for item in window.model.items()] == ["x.jpg"]
