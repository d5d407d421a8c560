"""File → Write to Photos' Metadata: XMP sidecars for all or selected rows, embedding only after
the user agreed once, written off the GUI thread, failures listed without stopping the rest."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop_captioner.core import metadata
from desktop_captioner.core.existing_captions import read_existing_caption
from desktop_captioner.core.sidecars import SidecarNames
from desktop_captioner.gui.dialogs.write_metadata_dialog import WriteMetadataDialog
from desktop_captioner.gui.models.image_list_model import DONE, EDITED, NEW, ImageItem
from desktop_captioner.gui.settings import settings_path
from tests.gui.conftest import select_rows, write_photo


@pytest.fixture
def window(make_window, tmp_path):
    window = make_window()
    window.model.add_items([
        ImageItem(write_photo(tmp_path / "a.jpg", "red"), caption="a red square", status=DONE),
        ImageItem(write_photo(tmp_path / "b.png", "green"), caption="my green one", status=EDITED),
        ImageItem(write_photo(tmp_path / "c.jpg", "blue")),  # no caption: nothing to write
    ])
    return window


def _answer(monkeypatch, mode: str, selected_only: bool = False) -> None:
    monkeypatch.setattr(WriteMetadataDialog, "ask", lambda *a, **k: (mode, selected_only))


def _write(qtbot, window) -> None:
    window.write_metadata_action.trigger()
    qtbot.waitUntil(lambda: not window.metadata_writer.busy)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _caption_in(path) -> str | None:
    found = read_existing_caption(path, SidecarNames(".none"))  # no .txt sidecar gets in the way
    return found and found.caption


def test_sidecars_for_every_captioned_row_written_off_the_gui_thread(qtbot, window, tmp_path,
                                                                     monkeypatch):
    threads = []
    write = metadata.write_caption_metadata

    def recording(image, caption, mode):
        threads.append(threading.current_thread())
        return write(image, caption, mode)

    monkeypatch.setattr(metadata, "write_caption_metadata", recording)
    _answer(monkeypatch, "xmp")
    before = _digest(tmp_path / "a.jpg")

    _write(qtbot, window)

    assert _caption_in(tmp_path / "a.jpg") == "a red square"
    assert _caption_in(tmp_path / "b.png") == "my green one"
    assert (tmp_path / "a.jpg.xmp").is_file() and not (tmp_path / "c.jpg.xmp").exists()
    assert _digest(tmp_path / "a.jpg") == before  # the photo itself is untouched
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert window.status.currentMessage() == "Wrote 2 captions to XMP sidecar files."


def test_only_the_selected_rows(qtbot, window, tmp_path, monkeypatch):
    _answer(monkeypatch, "xmp", selected_only=True)
    select_rows(window, 1)
    _write(qtbot, window)
    assert (tmp_path / "b.png.xmp").is_file() and not (tmp_path / "a.jpg.xmp").exists()


def test_embedding_asks_once_and_remembers(qtbot, window, tmp_path, monkeypatch, message_boxes):
    _answer(monkeypatch, "embed")
    before = _digest(tmp_path / "a.jpg")
    window.write_metadata_action.trigger()  # the question is answered "No"
    assert message_boxes[-1][:2] == ("question", "Write into the photo files?")
    assert not window.metadata_writer.busy and _digest(tmp_path / "a.jpg") == before
    assert window.settings.metadata_embed_confirmed is False

    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    _write(qtbot, window)
    assert len(asked) == 1
    assert _caption_in(tmp_path / "a.jpg") == "a red square"
    assert not (tmp_path / "a.jpg.xmp").exists()
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["metadata_embed_confirmed"] is True and saved["metadata_mode"] == "embed"

    window.model.edit_caption(0, "a red square, again")
    _write(qtbot, window)
    assert len(asked) == 1  # not asked a second time
    assert _caption_in(tmp_path / "a.jpg") == "a red square, again"


def test_a_failing_photo_is_reported_and_the_others_are_written(qtbot, window, tmp_path,
                                                                 monkeypatch, message_boxes):
    _answer(monkeypatch, "xmp")
    (tmp_path / "a.jpg").unlink()  # gone since it was added
    _write(qtbot, window)
    assert (tmp_path / "b.png.xmp").is_file()
    kind, title, text = message_boxes[-1]
    assert kind == "warning" and f"{tmp_path / 'a.jpg'} does not exist." in text
    assert "1 could not be written" in window.status.currentMessage()


def test_the_dialog_offers_sidecars_first_and_selected_rows_when_there_are_some(qtbot):
    dialog = WriteMetadataDialog(None, "xmp", "All images", 3, 0)
    qtbot.addWidget(dialog)
    assert dialog.sidecar.isChecked() and not dialog.scope_selected.isEnabled()
    assert dialog.choice() == ("xmp", False)
    dialog = WriteMetadataDialog(None, "embed", "Visible images", 5, 2)
    qtbot.addWidget(dialog)
    assert dialog.scope_all.text() == "Visible images (5)"
    assert dialog.choice() == ("embed", True)


def test_nothing_to_write_says_so(qtbot, window, monkeypatch):
    _answer(monkeypatch, "xmp", selected_only=True)
    select_rows(window, 2)
    window.write_metadata_action.trigger()
    assert not window.metadata_writer.busy
    assert "none of these images has a caption" in window.status.currentMessage()
    assert window.model.item(2).status == NEW
