"""Adding photos shows the captions they already have (sidecars, metadata), read in the walk's
background thread; such rows are "Has caption" / imported and Caption All leaves them alone."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from desktop_captioner.core import existing_captions
from desktop_captioner.core.metadata import write_caption_metadata
from desktop_captioner.core.results import SOURCE_IMPORTED
from desktop_captioner.gui.models.image_list_model import COL_STATUS, DONE, HAS_CAPTION, NEW
from tests.gui.conftest import add_and_wait, select_rows, statuses, wait_for_model, write_photo


@pytest.fixture
def captioned_folder(tmp_path):
    """txt.jpg + txt.txt, sidecar.jpg + sidecar.jpg.xmp, inside.jpg (embedded XMP), bare.jpg."""
    folder = tmp_path / "album"
    write_photo(folder / "txt.jpg", "red")
    (folder / "txt.txt").write_text("a red square from a text file\n", encoding="utf-8")
    write_caption_metadata(write_photo(folder / "sidecar.jpg", "green"), "green, in XMP", "xmp")
    write_caption_metadata(write_photo(folder / "inside.jpg", "blue"), "blue, embedded", "embed")
    write_photo(folder / "bare.jpg", "white")
    return folder


def test_existing_captions_show_as_has_caption_and_imported(qtbot, make_window,
                                                             captioned_folder):
    window = make_window()
    add_and_wait(qtbot, window, [captioned_folder], rows=4)

    items = {item.path.name: item for item in window.model.items()}
    assert statuses(window) == {"bare.jpg": NEW, "inside.jpg": HAS_CAPTION,
                                "sidecar.jpg": HAS_CAPTION, "txt.jpg": HAS_CAPTION}
    assert items["txt.jpg"].caption == "a red square from a text file"
    assert items["sidecar.jpg"].caption == "green, in XMP"
    assert items["inside.jpg"].caption == "blue, embedded"
    assert {items[n].source for n in ("txt.jpg", "sidecar.jpg", "inside.jpg")} == {SOURCE_IMPORTED}
    assert items["txt.jpg"].origin == "txt.txt" and items["sidecar.jpg"].origin == "XMP sidecar"
    row = window.model.row_of(captioned_folder / "txt.jpg")
    status = window.model.index(row, COL_STATUS)
    assert status.data() == "Has caption" and "txt.txt" in status.data(Qt.ItemDataRole.ToolTipRole)
    # the walk's summary arrives by a queued signal, after the walker stops being busy
    qtbot.waitUntil(lambda: "3 already had a caption" in window.status.currentMessage())
    select_rows(window, row)
    assert "Has caption, read from txt.txt" in window.preview.details.text()

    wait_for_model(qtbot, window)
    window.caption_all_action.trigger()  # only the photo without a caption
    qtbot.waitUntil(lambda: not window.captioning.busy and statuses(window)["bare.jpg"] == DONE)
    assert window.model.item(row).caption == "a red square from a text file"


def test_captions_are_read_in_the_walk_thread(qtbot, make_window, captioned_folder, monkeypatch):
    threads = []
    read = existing_captions.read_existing_caption

    def recording(image, sidecar_names):
        threads.append(threading.current_thread())
        return read(image, sidecar_names)

    monkeypatch.setattr(existing_captions, "read_existing_caption", recording)
    window = make_window()
    add_and_wait(qtbot, window, [captioned_folder], rows=4)
    assert len(threads) == 4
    assert threading.main_thread() not in threads
    assert statuses(window)["txt.jpg"] == HAS_CAPTION


def test_reading_can_be_turned_off(qtbot, make_window, captioned_folder, monkeypatch):
    window = make_window()
    window.read_captions_action.trigger()  # on by default: now off, and remembered
    assert window.settings.read_existing_captions is False
    monkeypatch.setattr(existing_captions, "read_existing_caption",
                        lambda *a: pytest.fail("captions were read although turned off"))
    add_and_wait(qtbot, window, [captioned_folder], rows=4)
    assert set(statuses(window).values()) == {NEW}
