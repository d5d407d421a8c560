"""GUI test helpers: small photo folders, a fake Captioner with a controllable pace, and a
window factory that always closes its windows (joining every worker thread)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QInputDialog, QMessageBox

from desktop_captioner.core.errors import ImageLoadError
from desktop_captioner.core.images import load_thumbnail
from desktop_captioner.core.progress import RateMeter
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.gui.main_window import MainWindow

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]


def write_photo(path: Path, colour: str = "red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), colour).save(path)
    return path


@pytest.fixture
def photos(tmp_path) -> Path:
    """photos/: a.jpg b.png notes.txt, sub/c.jpg, sub/readme.md"""
    root = tmp_path / "photos"
    write_photo(root / "a.jpg", "red")
    write_photo(root / "b.png", "green")
    write_photo(root / "sub" / "c.jpg", "blue")
    (root / "notes.txt").write_text("not a photo")
    (root / "sub" / "readme.md").write_text("not a photo either")
    return root


class FakeCaptioner:
    """Captioner's interface without TensorFlow. With ``gate`` set, each batch waits for one
    ``gate.release()`` (or for cancellation), so tests decide exactly when batches finish."""

    name = "fake-model"
    vocab_size = 42
    precision = "float32"
    model_info = {"metrics": {"bleu1": 0.9, "bleu4": 0.5},
                  "encoder": {"image_size": 64, "precision": "float32"},
                  "provenance": {"dataset_root": "/data/scenes", "layout": "flickr8k",
                                 "created": "2026-01-01T00:00:00+00:00"}}

    def __init__(self, gate: threading.Semaphore | None = None) -> None:
        self.gate = gate
        self.beam_widths: list[int] = []
        self.requested_precisions: list[str | None] = []  # one per load, None = automatic

    def caption(self, paths, batch_size=16, beam_width=3, progress=None, cancel=None):
        self.beam_widths.append(beam_width)
        meter = RateMeter("caption", len(paths))
        for start in range(0, len(paths), batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            while self.gate is not None and not self.gate.acquire(timeout=0.01):
                if cancel is not None and cancel.cancelled:
                    break  # a real batch would finish; this one finishes now
            for path in paths[start:start + batch_size]:
                try:
                    load_thumbnail(path, 8)
                except ImageLoadError as exc:
                    yield CaptionResult.failure(path, str(exc))
                else:
                    yield CaptionResult(Path(path), f"a photo called {Path(path).stem}", -0.5, "ok")
            if progress is not None:
                progress(meter.progress(min(start + batch_size, len(paths))))


@pytest.fixture
def message_boxes(monkeypatch) -> list[tuple[str, str, str]]:
    """Modal message boxes would block a test: record them instead ("No" to questions, OK on
    the offered item of a choice)."""
    shown: list[tuple[str, str, str]] = []

    def recorder(kind, answer):
        def show(_parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return answer
        return show

    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind, QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question",
                        recorder("question", QMessageBox.StandardButton.No))

    def choose_offered(_parent, title, label, items, current=0, *args, **kwargs):
        shown.append(("item", title, label))
        return items[current], True  # OK on the choice the dialog offers first

    monkeypatch.setattr(QInputDialog, "getItem", choose_offered)
    return shown


def answer_unsaved(monkeypatch, answer: QMessageBox.StandardButton) -> list[str]:
    """Answer the unsaved-captions question (Save / Discard / Cancel) with ``answer``; returns
    the list of questions asked. Other questions keep the ``message_boxes`` answer "No"."""
    asked: list[str] = []
    other = QMessageBox.question

    def question(parent, title, text, *args, **kwargs):
        if title != "Unsaved captions":
            return other(parent, title, text, *args, **kwargs)
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


@pytest.fixture
def make_window(qtbot, tmp_path, message_boxes, monkeypatch):
    """Factory: ``make_window(captioner=FakeCaptioner(), batch_size=16)``; closed at teardown
    (answering Discard if unexported captions are left). Pass ``load_captioner=None,
    weights=...`` for the real Captioner."""
    windows: list[MainWindow] = []
    stand_in_weights = tmp_path / "weights-stand-in.h5"  # the fake Captioner never reads it
    stand_in_weights.touch()

    def make(captioner=None, batch_size: int = 16, load_captioner=FakeCaptioner,
             weights: Path | None = None, show: bool = True):
        if load_captioner is FakeCaptioner:
            fake = captioner or FakeCaptioner()

            def load_captioner(model_file, weights, precision, cancel):
                fake.requested_precisions.append(precision)
                fake.precision = precision or "float32"
                return fake
        window = MainWindow(weights_override=weights or stand_in_weights,
                            load_captioner=load_captioner, batch_size=batch_size)
        qtbot.addWidget(window)
        windows.append(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    answer_unsaved(monkeypatch, QMessageBox.StandardButton.Discard)
    for window in windows:
        window.close()
        assert not window.captioning.service.thread.isRunning()


def wait_for_model(qtbot, window, model_path: Path | str = "fake.dcmodel", timeout: int = 5000):
    window.load_model(Path(model_path))
    qtbot.waitUntil(lambda: window.captioning.model_info is not None, timeout=timeout)


def add_and_wait(qtbot, window, paths, rows: int) -> None:
    window.add_paths(paths)
    qtbot.waitUntil(lambda: window.model.rowCount() == rows and not window.adder.walker.busy)


def statuses(window) -> dict[str, str]:
    return {item.path.name: item.status for item in window.model.items()}


def select_rows(window, *rows: int) -> None:
    """Select exactly ``rows``. (``QTableView.selectRow`` honours the application's keyboard
    modifiers, which QTest leaves at Ctrl after a Ctrl+key click, turning it into a toggle.)
    Rows are rows of the image list; they are mapped through the view's filter."""
    model, selection = window.model, window.view.selectionModel()
    proxy = window.filter_model
    selection.clearSelection()
    for row in rows:
        selection.select(proxy.mapFromSource(model.index(row, 0)), selection.SelectionFlag.Select
                         | selection.SelectionFlag.Rows)
    if rows:
        selection.setCurrentIndex(proxy.mapFromSource(model.index(rows[0], 0)),
                                  selection.SelectionFlag.NoUpdate)
