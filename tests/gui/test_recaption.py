"""Caption All takes only rows without a caption; Re-caption All replaces every caption, asking
first when some were typed by hand, and one Undo brings all the old ones back."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QMessageBox

from desktop_captioner.core.results import SOURCE_IMPORTED, SOURCE_MODEL
from desktop_captioner.gui.models.image_list_model import (
    DONE,
    EDITED,
    ERROR,
    HAS_CAPTION,
    NEW,
    ImageItem,
)
from tests.gui.conftest import FakeCaptioner, statuses, wait_for_model, write_photo

ROWS = [  # name, caption, status, source
    ("new.jpg", "", NEW, SOURCE_MODEL),
    ("done.jpg", "an old model caption", DONE, SOURCE_MODEL),
    ("failed.jpg", "", ERROR, SOURCE_MODEL),
    ("edited.jpg", "typed by hand", EDITED, SOURCE_MODEL),
    ("had.jpg", "from the camera", HAS_CAPTION, SOURCE_IMPORTED),
]


def _window(qtbot, make_window, tmp_path, captioner=None, batch_size=16):
    window = make_window(captioner, batch_size=batch_size)
    wait_for_model(qtbot, window)
    window.model.add_items([
        ImageItem(write_photo(tmp_path / name), caption=caption, status=status, source=source,
                  error="it failed last time" if status == ERROR else "",
                  origin="had.txt" if status == HAS_CAPTION else "")
        for name, caption, status, source in ROWS])
    return window


def _states(window):
    return {item.path.name: item.state() for item in window.model.items()}


def test_caption_all_captions_only_rows_without_a_caption_and_retries_errors(
        qtbot, make_window, tmp_path):
    window = _window(qtbot, make_window, tmp_path)
    before = _states(window)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert statuses(window) == {"new.jpg": DONE, "done.jpg": DONE, "failed.jpg": DONE,
                                "edited.jpg": EDITED, "had.jpg": HAS_CAPTION}
    after = _states(window)
    for name in ("done.jpg", "edited.jpg", "had.jpg"):
        assert after[name] == before[name]
    window.caption_all_action.trigger()  # nothing left to do
    assert "already has a caption" in window.status.currentMessage()

    assert window.undo_stack.count() == 1  # the retried error can come back; nothing else
    window.undo_stack.undo()
    assert _states(window)["failed.jpg"] == before["failed.jpg"]
    assert statuses(window)["new.jpg"] == DONE


def test_recaption_all_asks_before_replacing_edited_captions(qtbot, make_window, tmp_path,
                                                             message_boxes):
    window = _window(qtbot, make_window, tmp_path)
    before = _states(window)
    window.recaption_all_action.trigger()  # the question is answered "No"
    assert message_boxes[-1][0] == "question" and "1 of these 5" in message_boxes[-1][2]
    assert not window.captioning.busy and _states(window) == before


def test_recaption_all_replaces_every_caption_and_one_undo_restores_them(
        qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window = _window(qtbot, make_window, tmp_path)
    before = _states(window)

    window.recaption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)

    assert set(statuses(window).values()) == {DONE}
    assert [item.caption for item in window.model.items()] == [
        f"a photo called {name[:-4]}" for name, *_ in ROWS]
    assert all(item.source == SOURCE_MODEL and not item.origin for item in window.model.items())
    replaced = _states(window)
    assert window.undo_stack.count() == 1
    assert window.undo_action.text() == "&Undo Caption 4 images again"

    window.undo_action.trigger()
    undone = _states(window)
    assert undone["new.jpg"] == replaced["new.jpg"]  # it had no caption to give back
    del undone["new.jpg"], before["new.jpg"]
    assert undone == before  # captions, statuses, sources, errors, origins
    window.redo_action.trigger()
    assert _states(window) == replaced


def test_a_stopped_recaption_undoes_only_what_it_replaced(qtbot, make_window, tmp_path,
                                                          monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    gate = threading.Semaphore(0)
    window = _window(qtbot, make_window, tmp_path, FakeCaptioner(gate), batch_size=2)
    before = _states(window)

    window.recaption_all_action.trigger()
    qtbot.waitUntil(lambda: statuses(window)["new.jpg"] == "captioning")
    window.stop_action.trigger()
    gate.release()  # the first batch (new.jpg, done.jpg) finishes; then the job stops
    qtbot.waitUntil(lambda: not window.captioning.busy)

    assert statuses(window) == {"new.jpg": DONE, "done.jpg": DONE, "failed.jpg": ERROR,
                                "edited.jpg": EDITED, "had.jpg": HAS_CAPTION}
    assert window.model.item(1).caption == "a photo called done"
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert _states(window)["done.jpg"] == before["done.jpg"]
    assert _states(window)["new.jpg"].status == DONE  # it had no caption: nothing was replaced
