"""File → Write Caption Sidecars: the extension is chosen (as the CLI's --sidecar-ext), photos
that share a stem in a folder get full-name files, and the status bar says so."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from tests.gui.conftest import add_and_wait, wait_for_model, write_photo


def _captioned(qtbot, make_window, folder, rows):
    window = make_window()
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [folder], rows=rows)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    return window


def _choose(monkeypatch, answer: str | None) -> list[list[str]]:
    offered: list[list[str]] = []

    def get_item(_parent, _title, _label, items, *_args, **_kwargs):
        offered.append(list(items))
        return (answer or "", answer is not None)
    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    return offered


def test_the_caption_extension_is_offered_and_remembered(qtbot, make_window, photos, monkeypatch):
    window = _captioned(qtbot, make_window, photos, rows=3)
    offered = _choose(monkeypatch, "caption")
    window.sidecars_action.trigger()

    assert offered == [[".txt", ".caption"]]
    assert (photos / "a.caption").read_text() == "a photo called a\n"
    assert not (photos / "a.txt").exists()
    assert window.settings.sidecar_ext == ".caption"
    assert "Wrote 3 .caption caption files" in window.status.currentMessage()
    assert window.model.unsaved_count() == 0  # the captions are in files now

    offered = _choose(monkeypatch, None)
    window.sidecars_action.trigger()
    assert offered == [[".caption", ".txt"]]  # the last choice comes first


def test_cancelling_the_choice_writes_nothing(qtbot, make_window, photos, monkeypatch):
    window = _captioned(qtbot, make_window, photos, rows=3)
    _choose(monkeypatch, None)
    window.sidecars_action.trigger()
    assert sorted(p.name for p in photos.rglob("*.txt")) == ["notes.txt"]


def test_a_bad_extension_is_refused(qtbot, make_window, photos, monkeypatch, message_boxes):
    window = _captioned(qtbot, make_window, photos, rows=3)
    _choose(monkeypatch, "../x")
    window.sidecars_action.trigger()
    assert message_boxes[-1][0] == "warning" and "is not a file extension" in message_boxes[-1][2]
    assert window.settings.sidecar_ext == ".txt"


def test_photos_sharing_a_stem_get_full_names_and_are_reported(qtbot, make_window, tmp_path,
                                                               monkeypatch):
    folder = tmp_path / "pair"
    write_photo(folder / "x.jpg", "red")
    write_photo(folder / "x.png", "blue")
    write_photo(folder / "y.jpg", "green")
    window = _captioned(qtbot, make_window, folder, rows=3)
    _choose(monkeypatch, ".txt")
    window.sidecars_action.trigger()

    assert sorted(p.name for p in folder.glob("*.txt")) == ["x.jpg.txt", "x.png.txt", "y.txt"]
    assert "2 named in full, as photos share a name (x.jpg.txt)" in window.status.currentMessage()
