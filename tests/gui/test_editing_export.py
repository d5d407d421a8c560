"""Caption editing with undo/redo (in the list and in the preview pane) and exporting."""

from __future__ import annotations

import csv
import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from desktop_captioner.core.export import export_target
from desktop_captioner.gui.models.image_list_model import COL_CAPTION
from tests.gui.conftest import add_and_wait, select_rows, statuses, wait_for_model


def _captioned_window(qtbot, make_window, photos):
    window = make_window()
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    return window


def test_edit_in_the_list_then_undo_and_redo(qtbot, make_window, photos):
    window = _captioned_window(qtbot, make_window, photos)
    index = window.view.model().index(1, COL_CAPTION)  # no filter: view row 1 is list row 1
    window.view.setCurrentIndex(index)
    QTest.keyClick(window.view, Qt.Key.Key_F2)  # opens the editor, as a user would
    editor = window.view.indexWidget(index)
    editor.selectAll()
    QTest.keyClicks(editor, "a green square")
    QTest.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits in a queued call

    qtbot.waitUntil(lambda: window.model.item(1).caption == "a green square")
    assert statuses(window)["b.png"] == "edited"
    window.undo_action.trigger()
    assert window.model.item(1).caption == "a photo called b"
    assert statuses(window)["b.png"] == "done"
    window.redo_action.trigger()
    assert window.model.item(1).caption == "a green square"


def test_edit_in_the_preview_pane_is_undoable_too(qtbot, make_window, photos):
    window = _captioned_window(qtbot, make_window, photos)
    select_rows(window, 0)
    window.preview.caption.setFocus()
    window.preview.caption.selectAll()
    QTest.keyClicks(window.preview.caption, "my own words")
    QTest.keyClick(window.preview.caption, Qt.Key.Key_Return)
    assert window.model.item(0).caption == "my own words"
    window.preview.caption.clearFocus()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.model.item(0).caption == "a photo called a"
    assert window.preview.caption.toPlainText() == "a photo called a"


def test_undo_survives_the_removal_of_other_rows(qtbot, make_window, photos):
    window = _captioned_window(qtbot, make_window, photos)
    window.model.edit_caption(2, "blue")
    select_rows(window, 0)
    window.remove_action.trigger()
    window.undo_stack.undo()
    assert window.model.item(1).path.name == "c.jpg"
    assert window.model.item(1).caption == "a photo called c"


def test_export_writes_the_csv_the_cli_writes(qtbot, make_window, photos, tmp_path, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    window.model.edit_caption(0, "=SUM(A1) a red square")
    target = tmp_path / "out" / "captions"  # no extension typed: CSV is the default
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "CSV files (*.csv)"))

    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)

    written = target.with_suffix(".csv")
    with written.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["path", "filename", "caption", "status", "error", "source", "score"]
    assert rows[1:] == [
        [str(photos / "a.jpg"), "a.jpg", "'=SUM(A1) a red square", "ok", "", "edited", "-0.5000"],
        [str(photos / "b.png"), "b.png", "a photo called b", "ok", "", "model", "-0.5000"],
        [str(photos / "sub" / "c.jpg"), "c.jpg", "a photo called c", "ok", "", "model", "-0.5000"],
    ]
    assert str(written) in window.status.currentMessage()
    assert window.settings.last_export_folder == str(written.parent)


def test_export_selected_as_json(qtbot, make_window, photos, tmp_path, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    target = tmp_path / "sel.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    select_rows(window, 2)
    window.export_selected_action.trigger()
    assert json.loads(target.read_text(encoding="utf-8")) == [
        {"path": str(photos / "sub" / "c.jpg"), "filename": "c.jpg", "caption": "a photo called c",
         "status": "ok", "error": "", "source": "model", "score": "-0.5000"}]


def test_export_target_follows_the_extension(tmp_path):
    assert export_target(str(tmp_path / "a.JSON")).suffix == ".JSON"
    assert export_target(str(tmp_path / "a"), "JSON files (*.json)").name == "a.json"
    assert export_target(str(tmp_path / "a.txt")).name == "a.txt.csv"


def test_sidecars_keep_existing_files_unless_replacing(qtbot, make_window, photos, message_boxes,
                                                      monkeypatch):
    (photos / "a.txt").write_text("mine\n")
    window = _captioned_window(qtbot, make_window, photos)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (".txt", True))
    window.sidecars_action.trigger()  # the question is answered "No": keep existing
    assert message_boxes[-1][0] == "question"
    assert (photos / "a.txt").read_text() == "mine\n"
    assert (photos / "b.txt").read_text() == "a photo called b\n"
    assert "kept 1 existing" in window.status.currentMessage()
