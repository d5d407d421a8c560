"""Import Captions: an export of this app comes back with its captions, statuses and sources."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QFileDialog

from desktop_captioner.core.results import SOURCE_EDITED, SOURCE_IMPORTED, SOURCE_MODEL
from desktop_captioner.gui.models.image_list_model import (
    DONE,
    EDITED,
    ERROR,
    HAS_CAPTION,
    NEW,
    ItemState,
)
from tests.gui.conftest import add_and_wait, statuses, wait_for_model


def _export_a_mixed_list(qtbot, window, photos, target, monkeypatch):
    """Caption the folder, edit b.png, mark c.jpg as a caption the photo had, export to target."""
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=4)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    window.model.edit_caption(window.model.row_of(photos / "b.png"), "=my green square")
    window.model.restore_state(photos / "sub" / "c.jpg",
                               ItemState("blue, from the camera", None, HAS_CAPTION, "",
                                         SOURCE_IMPORTED, "c.txt"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.export_action.trigger()
    assert target.exists()


def _snapshot(window):
    return {item.path.name: (item.caption, item.status, item.source, bool(item.error))
            for item in window.model.items()}


def test_an_exported_csv_round_trips_with_edited_and_imported_flags(
        qtbot, make_window, photos, tmp_path, monkeypatch):
    target = tmp_path / "captions.csv"
    first = make_window()
    _export_a_mixed_list(qtbot, first, photos, target, monkeypatch)
    expected = _snapshot(first)
    assert expected["b.png"][:3] == ("=my green square", EDITED, SOURCE_EDITED)

    window = make_window()
    add_and_wait(qtbot, window, [photos], rows=4)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    window.import_action.trigger()

    restored = _snapshot(window)
    assert {n: v[:2] for n, v in restored.items()} == {n: v[:2] for n, v in expected.items()}
    assert restored["b.png"][2] == SOURCE_EDITED and restored["c.jpg"][2] == SOURCE_IMPORTED
    assert restored["a.jpg"] == ("a photo called a", DONE, SOURCE_MODEL, False)
    assert restored["broken.jpg"][1] == ERROR and restored["broken.jpg"][3]
    assert window.model.item(window.model.row_of(photos / "broken.jpg")).error == \
        first.model.item(first.model.row_of(photos / "broken.jpg")).error
    assert "Imported 4 captions from captions.csv" in window.status.currentMessage()

    window.undo_action.trigger()  # the whole import is one step
    assert set(statuses(window).values()) == {NEW}
    window.redo_action.trigger()
    assert _snapshot(window) == restored


def test_photos_not_in_the_list_are_added_and_missing_ones_reported(
        qtbot, make_window, photos, tmp_path, message_boxes):
    export = tmp_path / "elsewhere" / "captions.jsonl"
    export.parent.mkdir()
    records = [
        {"path": str(photos / "a.jpg"), "filename": "a.jpg", "caption": "red", "status": "ok",
         "error": "", "source": "model", "score": "-0.1"},
        {"path": "../photos/b.png", "filename": "b.png", "caption": "green", "status": "ok",
         "error": "", "source": "imported", "score": ""},  # relative to the file's folder
        {"path": str(photos / "gone.jpg"), "filename": "gone.jpg", "caption": "x", "status": "ok",
         "error": "", "source": "model", "score": ""},
    ]
    export.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    window = make_window()
    add_and_wait(qtbot, window, [photos / "a.jpg"], rows=1)

    window.import_captions(export)

    assert statuses(window) == {"a.jpg": DONE, "b.png": HAS_CAPTION}
    assert window.model.item(1).path == photos / "b.png"
    assert window.model.item(1).origin == "captions.jsonl"
    kind, title, text = message_boxes[-1]
    assert kind == "warning" and "gone.jpg does not exist" in text
    assert "1 photos added" in window.status.currentMessage()
    window.undo_stack.undo()
    assert statuses(window) == {"a.jpg": NEW}  # the added row goes again


def test_a_foreign_file_is_refused_with_its_reason(qtbot, make_window, photos, tmp_path,
                                                   message_boxes):
    foreign = tmp_path / "captions.csv"
    foreign.write_text("image,caption\na.jpg,a dog\n", encoding="utf-8")
    window = make_window()
    add_and_wait(qtbot, window, [photos], rows=3)

    window.import_captions(foreign)

    assert message_boxes[-1][0] == "warning"
    assert str(foreign) in message_boxes[-1][2] and "not a captions CSV" in message_boxes[-1][2]
    assert set(statuses(window).values()) == {NEW}
    assert window.undo_stack.count() == 0


def test_gui_captions_imports_once_the_folder_is_listed(qtbot, make_window, photos, tmp_path,
                                                        monkeypatch):
    target = tmp_path / "captions.json"
    _export_a_mixed_list(qtbot, make_window(), photos, target, monkeypatch)
    records = json.loads(target.read_text(encoding="utf-8"))
    target.write_text(json.dumps(records[::-1]), encoding="utf-8")  # unlike the folder's order

    window = make_window()
    window.start([photos], captions=target)  # what `gui PHOTOS --captions FILE` runs

    qtbot.waitUntil(lambda: window.model.rowCount() == 4 and not window.adder.walker.busy)
    qtbot.waitUntil(lambda: statuses(window).get("b.png") == EDITED)
    assert [item.path.name for item in window.model.items()] == [
        "a.jpg", "b.png", "broken.jpg", "c.jpg"]  # the folder's order, not the file's
    assert statuses(window)["c.jpg"] == HAS_CAPTION
