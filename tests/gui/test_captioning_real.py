"""Captioning through the real worker thread with a real (tiny, trained) model and the seeded
VGG16 weights: TensorFlow is imported and run only in the worker thread."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.sample_dataset import draw_scene, random_scene
from tests.gui.conftest import add_and_wait, answer_unsaved, statuses, wait_for_model

MODEL_LOAD_TIMEOUT = 180_000  # ms: TensorFlow's first import on a busy 2-core machine
CAPTION_TIMEOUT = 120_000


def _scenes(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """Unseen scenes like the ones the model was trained on (64 px)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"scene_{n:03d}.png"
        draw_scene(random_scene(rng), 64, rng).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def real_window(qtbot, make_window, trained_model, weights_file):
    def make(batch_size: int):
        window = make_window(load_captioner=None, weights=weights_file, batch_size=batch_size)
        wait_for_model(qtbot, window, trained_model, timeout=MODEL_LOAD_TIMEOUT)
        return window
    return make


def test_captions_appear_and_a_corrupt_image_gets_its_error(qtbot, real_window, tmp_path):
    window = real_window(batch_size=2)
    assert window.captioning.model_info.vocab_size > 5
    good = _scenes(tmp_path / "photos", 5)
    broken = tmp_path / "photos" / "scene_002_broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    add_and_wait(qtbot, window, [tmp_path / "photos"], rows=6)
    seen: dict[str, list[str]] = {}
    window.model.item_changed.connect(lambda row: seen.setdefault(
        window.model.item(row).path.name, []).append(window.model.item(row).status))

    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy, timeout=CAPTION_TIMEOUT)

    assert statuses(window) == {**{p.name: "done" for p in good}, broken.name: "error"}
    for item in window.model.items():
        if item.path != broken:
            assert len(item.caption.split()) >= 3 and item.score is not None
    error = window.model.item(window.model.row_of(broken)).error
    assert broken.name in error
    assert seen[good[-1].name][:1] == ["queued"] and "captioning" in seen[good[-1].name]
    assert seen[good[-1].name][-1] == "done"
    assert "Captioned 5 images; 1 could not be read" in window.status.currentMessage()


def test_stop_mid_batch_keeps_finished_items_and_requeues_nothing(qtbot, real_window, tmp_path):
    window = real_window(batch_size=2)
    add_and_wait(qtbot, window, _scenes(tmp_path / "many", 60), rows=60)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: "done" in statuses(window).values(), timeout=CAPTION_TIMEOUT)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy, timeout=CAPTION_TIMEOUT)

    counts = {s: list(statuses(window).values()).count(s) for s in ("done", "new")}
    assert counts["done"] + counts["new"] == 60  # nothing left queued or captioning
    assert 0 < counts["done"] < 60
    assert all(item.caption for item in window.model.items() if item.status == "done")
    assert "Stopped:" in window.status.currentMessage()


def test_closing_during_a_batch_joins_the_worker_thread(qtbot, real_window, tmp_path,
                                                       monkeypatch):
    window = real_window(batch_size=2)
    add_and_wait(qtbot, window, _scenes(tmp_path / "many", 40), rows=40)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: "captioning" in statuses(window).values(), timeout=CAPTION_TIMEOUT)
    answer_unsaved(monkeypatch, QMessageBox.StandardButton.Discard)  # if a batch finished
    assert window.close()
    assert not window.captioning.service.thread.isRunning()


def test_the_precision_menu_reloads_the_real_model_in_that_precision(qtbot, real_window,
                                                                    tmp_path):
    window = real_window(batch_size=2)
    first = window.captioning.model_info.precision
    assert first in PRECISIONS
    other = next(p for p in PRECISIONS if p != first)
    [action] = [a for a in window.precision_menu.actions() if a.data() == other]
    action.trigger()
    qtbot.waitUntil(lambda: getattr(window.captioning.model_info, "precision", "") == other,
                    timeout=MODEL_LOAD_TIMEOUT)
    add_and_wait(qtbot, window, _scenes(tmp_path / "photos", 3), rows=3)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy, timeout=CAPTION_TIMEOUT)
    assert set(statuses(window).values()) == {"done"}
