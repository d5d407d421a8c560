"""First use without VGG16 weights: download with progress and Cancel, or choose a file."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog

from desktop_captioner.core import weights
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.core.progress import Progress
from desktop_captioner.gui import model_controller as main_window
from desktop_captioner.gui.dialogs.weights_dialog import WeightsDialog


def test_download_shows_progress_and_accepts_with_the_file(qtbot, monkeypatch, tmp_path):
    seen_threads = []

    def fake_download(dest=None, *, progress=None, cancel=None, **kwargs):
        seen_threads.append(threading.current_thread())
        target = weights.cache_weights_path()
        for done in (0, 50, 100):
            progress(Progress("download", done, 100))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"weights")
        return target

    monkeypatch.setattr(weights, "download_weights", fake_download)
    dialog = WeightsDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.accepted):
        dialog.download_button.click()
    assert dialog.weights_path == weights.cache_weights_path()
    assert seen_threads and seen_threads[0] is not threading.main_thread()
    assert dialog.progress_bar.value() == 1000
    assert not dialog.download.thread.isRunning()


def test_failed_download_says_where_to_put_the_file_and_offers_choose(qtbot, monkeypatch,
                                                                     tmp_path, weights_file):
    def offline(dest=None, **kwargs):
        raise WeightsError("Could not download the VGG16 weights (no network).")

    monkeypatch.setattr(weights, "download_weights", offline)
    dialog = WeightsDialog()
    qtbot.addWidget(dialog)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "no network" in dialog.message.text())
    assert str(weights.cache_weights_path().parent) in dialog.message.text()
    assert dialog.choose_button.isEnabled()

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(weights_file), ""))
    dialog.choose_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.weights_path == weights_file


def test_cancel_stops_a_running_download(qtbot, monkeypatch):
    started = threading.Event()

    def slow(dest=None, *, progress=None, cancel=None, **kwargs):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            threading.Event().wait(0.01)

    monkeypatch.setattr(weights, "download_weights", slow)
    dialog = WeightsDialog()
    qtbot.addWidget(dialog)
    dialog.download_button.click()
    assert started.wait(5)
    dialog.cancel_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.download.thread.isRunning()


def test_the_window_asks_for_weights_once_and_remembers_the_choice(qtbot, make_window,
                                                                  monkeypatch, tmp_path):
    chosen = tmp_path / "my-weights.h5"
    shutil.copyfile(__file__, chosen)  # any file: the fake captioner never reads it

    class ChosenFile:
        def __init__(self, parent):
            self.weights_path = chosen

        def exec(self):
            return QDialog.DialogCode.Accepted

    monkeypatch.setattr(main_window, "WeightsDialog", ChosenFile)
    window = make_window()
    window.weights_override = None  # as on a first run: no weights anywhere
    window.load_model(Path("m.dcmodel"))
    qtbot.waitUntil(lambda: window.captioning.model_info is not None)
    assert window.settings.weights_path == str(chosen)
