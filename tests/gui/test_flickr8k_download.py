"""The training dialog's "Download Flickr8k…" button against a local server with tiny zips."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop_captioner.gui.training import TrainingDialog
from desktop_captioner.gui.training.flickr8k_download import FOLDER_NAME
from tests.support.flickr8k_zips import IMAGES, flickr8k_zips, serving_flickr8k

IMAGES_PATH = "/Flickr8k_Dataset.zip"


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return flickr8k_zips(tmp_path_factory.mktemp("zips"))


@pytest.fixture
def server(zips, monkeypatch):
    with serving_flickr8k(zips, monkeypatch) as server:
        yield server


@pytest.fixture
def dialog(qtbot, tmp_path, monkeypatch):
    """The dialog, with the folder question answered by ``tmp_path``; at teardown no download
    thread may be left running."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *args, **kwargs: str(tmp_path)))
    widget = TrainingDialog()
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    row = widget.dataset_panel.flickr8k
    if row.download.busy:
        row.stop()
        pytest.fail("the test left a download thread running")
    widget.dataset_panel.wait()


def test_download_fills_the_dataset_folder_in(qtbot, dialog, server, tmp_path):
    row = dialog.dataset_panel.flickr8k
    with qtbot.waitSignal(dialog.dataset_panel.inspected, timeout=20_000):
        qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    folder = tmp_path / FOLDER_NAME
    assert dialog.folder_edit.text() == str(folder)
    assert dialog.dataset_panel.headline.text().startswith(f"<b>Ready:</b> {IMAGES} images")
    assert dialog.start_button.isEnabled()
    assert not row.download.busy and row.button.isEnabled() and row.progress_bar.isHidden()
    assert (folder / "Flicker8k_Dataset").is_dir() and (folder / "Flickr8k_text").is_dir()


def test_cancel_stops_the_download_and_keeps_its_bytes(qtbot, dialog, server, tmp_path):
    row = dialog.dataset_panel.flickr8k
    server.held[IMAGES_PATH] = release = threading.Event()
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Downloading" in row.progress_bar.format()
                    and "Flickr8k_Dataset.zip" in row.status.text(), timeout=10_000)
    assert row.cancel_button.isVisible() and not row.button.isEnabled()
    with qtbot.waitSignal(row.download.failed, timeout=10_000) as failed:
        qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
    assert failed.args == [""]
    assert "cancelled" in row.status.text() and row.button.isEnabled()
    assert not row.download.busy
    folder = tmp_path / FOLDER_NAME
    assert (folder / "Flickr8k_Dataset.zip.part").is_file()
    assert not (folder / "Flicker8k_Dataset").exists()
    assert dialog.folder_edit.text() == ""


def test_closing_the_dialog_stops_a_running_download(qtbot, dialog, server):
    row = dialog.dataset_panel.flickr8k
    server.held[IMAGES_PATH] = release = threading.Event()
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Flickr8k_Dataset.zip" in row.status.text(), timeout=10_000)
    assert row.download.busy
    releaser = threading.Timer(0.2, release.set)  # the server sends the rest a moment later
    releaser.start()
    dialog.close()
    releaser.join()
    assert not row.download.busy  # cancelled and joined while the dialog closed
