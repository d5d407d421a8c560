"""The window keeps its session: saved as the list changes, restored at the next start (or offered
when the app starts with photos), damaged files set aside; the session file format itself."""

from __future__ import annotations

import json
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox

from desktop_captioner import cli
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.session_file import (
    SessionFileError,
    previous_session_path,
    read_session,
    session_path,
    write_session,
)
from desktop_captioner.gui import app
from desktop_captioner.gui import session as session_module
from desktop_captioner.gui.models.image_list_model import COL_SOURCE, COL_STATUS, ImageListModel
from desktop_captioner.gui.session import SessionKeeper
from desktop_captioner.gui.settings import Settings, load_settings, settings_path
from desktop_captioner.gui.workers.thumbnails import ThumbnailLoader
from tests.gui.conftest import add_and_wait, answer_unsaved, statuses, wait_for_model

ROWS = [("/p/a.jpg", "a red square", -0.5, "done", "", "model", True),
        ("/p/b.png", "my words, “quoted”\nand a new line", None, "edited", "", "edited", False),
        ("/p/c.jpg", "", None, "error", "c.jpg is not an image", "model", False),
        ("/p/d.jpg", "", None, "new", "", "model", False)]


def _captioned_window(qtbot, make_window, photos, start=True):
    window = make_window()
    if start:
        window.start()
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    return window


def _saved(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session.idle)


# --- the file -------------------------------------------------------------------------------
def test_session_file_round_trip(tmp_path):
    path = tmp_path / "session.json"
    write_session(ROWS, path)
    assert [tuple(vars(row).values()) for row in read_session(path)] == ROWS
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1


@pytest.mark.parametrize("text, problem", [
    ("{not json", "is damaged"),
    ('{"rows": []}', "is not a Desktop Captioner session file"),
    ('{"format": "desktop-captioner-session", "version": 99, "rows": []}', "another version"),
])
def test_damaged_or_foreign_session_files_are_refused(tmp_path, text, problem):
    path = tmp_path / "session.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SessionFileError, match=problem) as caught:
        read_session(path)
    assert str(path) in str(caught.value)


def test_a_bad_row_is_refused_naming_it(tmp_path):
    path = tmp_path / "session.json"
    write_session([ROWS[0], ("/p/x.jpg", "x", "high", "done", "", "model", True)], path)
    with pytest.raises(SessionFileError, match="row 2 is not a valid image row"):
        read_session(path)


# --- saving and restoring -------------------------------------------------------------------
def test_an_edit_survives_a_window_dropped_without_closing(qtbot, make_window, photos):
    window = _captioned_window(qtbot, make_window, photos)
    window.model.edit_caption(1, "a green square, by hand")
    _saved(qtbot, window)
    window.hide()  # no closeEvent: nothing is flushed, as when the app is killed
    del window  # the fixture still holds it, to join its threads at teardown

    again = make_window()
    again.start()

    assert [item.caption for item in again.model.items()] == [
        "a photo called a", "a green square, by hand", "a photo called c"]
    edited = again.model.item(1)
    assert (edited.status, edited.source, edited.unsaved) == ("edited", "edited", True)
    assert again.model.item(0).source == "model"
    assert again.model.item(0).score == -0.5
    assert again.undo_stack.count() == 0  # the edited flag does not depend on the undo history
    assert again.model.item(1).to_result().source == "edited"
    assert again.status.currentMessage() == "Restored last session: 3 photos."


def test_rows_cut_short_by_a_crash_come_back_as_not_captioned(qtbot, make_window):
    write_session([("/p/a.jpg", "", None, "queued", "", "model", False),
                   ("/p/b.jpg", "", None, "captioning", "", "model", False),
                   ("/p/c.jpg", "an old caption", -1.0, "captioning", "", "model", True),
                   ("/p/d.jpg", "my caption", None, "queued", "", "edited", True),
                   ("/p/e.jpg", "", None, "a-status-from-a-newer-app", "", "model", False)],
                  session_path())
    window = make_window()
    window.start()
    assert statuses(window) == {"a.jpg": "new", "b.jpg": "new", "c.jpg": "done",
                                "d.jpg": "edited", "e.jpg": "new"}


def test_a_corrupt_session_is_moved_aside_and_the_app_starts_empty(qtbot, make_window, caplog):
    session_path().write_text('{"format": "desktop-captioner-session", "rows": [', "utf-8")
    window = make_window()
    window.start()

    assert window.model.rowCount() == 0
    kept = list(session_path().parent.glob("session.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text("utf-8").endswith('"rows": [')
    assert kept[0].name in caplog.text
    assert kept[0].name in window.status.currentMessage()
    assert "starts with an empty list" in window.status.currentMessage()


def test_starting_with_photos_offers_the_last_session(qtbot, make_window, photos):
    write_session(ROWS, session_path())
    window = make_window()
    window.start([photos / "a.jpg"])
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and not window.adder.walker.busy)

    assert window.restore_session_action.isEnabled()
    assert window.restore_session_action.text() == "&Restore Last Session (4 photos)"
    assert window.restore_session_button.isVisible()
    assert previous_session_path().is_file()
    window.restore_session_action.trigger()  # the list has no captions: nothing to ask

    assert [str(item.path) for item in window.model.items()] == [row[0] for row in ROWS]
    assert window.status.currentMessage() == "Restored last session: 4 photos."
    assert not previous_session_path().exists()
    assert not window.restore_session_action.isEnabled()
    assert len(read_session(session_path())) == 4  # the restored list is the session now


def test_no_restore_flag_and_setting_keep_the_session_for_later(qtbot, make_window):
    write_session(ROWS, session_path())
    window = make_window()
    window.start(restore=False)
    assert window.model.rowCount() == 0
    assert "File → Restore Last Session" in window.status.currentMessage()
    assert window.restore_session_action.isEnabled()

    window.restore_at_start_action.trigger()  # on by default: this turns it off, and saves
    assert json.loads(settings_path().read_text("utf-8"))["restore_session"] is False
    second = make_window()
    assert not second.restore_at_start_action.isChecked()
    write_session(ROWS, session_path())
    second.start()
    assert second.model.rowCount() == 0 and second.restore_session_action.isEnabled()


def test_the_restore_setting_is_a_checked_bool(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"restore_session": False}))
    assert load_settings(path) == (Settings(restore_session=False), "")
    path.write_text(json.dumps({"restore_session": "no"}))
    assert load_settings(path)[0].restore_session is True


def test_gui_no_restore_flag_reaches_the_app(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "main", lambda *args, **kwargs: calls.append(kwargs) or 0)
    cli.main(["gui", "--no-restore"])
    cli.main(["gui"])
    assert [kwargs["restore"] for kwargs in calls] == [False, True]


def test_discard_at_quit_forgets_the_session_and_a_clean_quit_keeps_it(qtbot, make_window,
                                                                       photos, monkeypatch):
    window = _captioned_window(qtbot, make_window, photos)
    _saved(qtbot, window)
    answer_unsaved(monkeypatch, QMessageBox.StandardButton.Discard)
    assert window.close()
    assert not session_path().exists()

    clean = make_window()
    clean.start()
    add_and_wait(qtbot, clean, [photos], rows=3)  # photos without captions: nothing to lose
    assert clean.close()
    assert len(read_session(session_path())) == 3  # written at close, without waiting


def test_the_source_column_shows_where_each_caption_came_from(qtbot, make_window, photos):
    window = _captioned_window(qtbot, make_window, photos, start=False)
    model = window.model
    model.apply_result(CaptionResult(photos / "b.png", "from the photo", None, "ok",
                                     source="imported"))
    model.edit_caption(0, "mine")

    assert model.headerData(COL_SOURCE, Qt.Orientation.Horizontal) == "Source"
    assert model.headerData(COL_STATUS, Qt.Orientation.Horizontal) == "Status"
    assert COL_SOURCE == model.columnCount() - 1
    assert [model.index(row, COL_SOURCE).data() for row in range(3)] == [
        "edited", "imported", "model"]
    assert "by hand" in model.index(0, COL_SOURCE).data(Qt.ItemDataRole.ToolTipRole)
    assert not model.item(1).unsaved  # an imported caption is already stored elsewhere
    window.undo_action.trigger()
    assert model.index(0, COL_SOURCE).data() == "model"


# --- the keeper's writes --------------------------------------------------------------------
@pytest.fixture
def slow_writes(monkeypatch):
    """Make each session write wait for ``gate.set()``; ``calls`` counts the writes begun."""
    gate, calls = threading.Event(), []

    def write(rows, path):
        calls.append(len(rows))
        gate.wait(5)
        original(rows, path)
    original = session_module.write_session
    monkeypatch.setattr(session_module, "write_session", write)
    return gate, calls


def _keeper(qtbot, tmp_path):
    thumbnails = ThumbnailLoader(16, use_disk_cache=False)
    model = ImageListModel(thumbnails, QUndoStack())
    keeper = SessionKeeper(model, path=tmp_path / "s.json", previous_path=tmp_path / "p.json",
                           delay_ms=0)
    keeper.begin(restore=False)
    return model, keeper


def test_changes_during_a_write_are_coalesced_into_one_more(qtbot, tmp_path, slow_writes):
    gate, calls = slow_writes
    model, keeper = _keeper(qtbot, tmp_path)
    qtbot.waitUntil(lambda: len(calls) == 1)  # the first write is running (held at the gate)
    for index in range(5):
        model.add_paths([tmp_path / f"{index}.jpg"])
        qtbot.wait(20)
    gate.set()
    qtbot.waitUntil(lambda: keeper.idle)
    keeper.shutdown()
    assert calls == [0, 5]
    assert len(read_session(tmp_path / "s.json")) == 5


def test_a_flush_is_never_overwritten_by_an_older_queued_write(qtbot, tmp_path, slow_writes):
    gate, calls = slow_writes
    model, keeper = _keeper(qtbot, tmp_path)
    qtbot.waitUntil(lambda: len(calls) == 1)
    model.add_paths([tmp_path / "late.jpg"])
    gate.set()
    keeper.flush()  # waits for the write in progress, then writes the newest list
    qtbot.wait(50)
    keeper.shutdown()
    assert [row.path for row in read_session(tmp_path / "s.json")] == [str(tmp_path / "late.jpg")]


def test_an_older_snapshot_never_lands_over_a_newer_one(tmp_path):
    writer = session_module._SessionWriter(tmp_path / "s.json")
    writer.write(2, [ROWS[1]])
    writer.write(1, [ROWS[0]])  # a pool write that started before a flush, finishing after it
    assert [row.path for row in read_session(tmp_path / "s.json")] == [ROWS[1][0]]
