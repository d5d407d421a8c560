"""Captioning through the real worker thread with a fake Captioner whose pace the test controls:
statuses, progress, Stop within one batch, closing mid-batch, model info."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_captioner.gui.dialogs.model_info import model_info_html
from tests.gui.conftest import (
    FakeCaptioner,
    add_and_wait,
    select_rows,
    statuses,
    wait_for_model,
    write_photo,
)


def _six_photos(tmp_path):
    colours = ["red", "green", "blue", "yellow", "purple", "orange"]
    return [write_photo(tmp_path / f"p{n}.jpg", c) for n, c in enumerate(colours)]


def test_caption_all_marks_statuses_and_fills_captions(qtbot, make_window, photos):
    window = make_window()
    wait_for_model(qtbot, window)
    assert window.status.model_label.text() == "Model: fake-model, 42 words, float32"
    add_and_wait(qtbot, window, [photos], rows=3)

    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: set(statuses(window).values()) == {"done"})

    assert [i.caption for i in window.model.items()] == [
        "a photo called a", "a photo called b", "a photo called c"]
    assert not window.captioning.busy and not window.stop_action.isEnabled()
    assert "Captioned 3 images" in window.status.currentMessage()


def test_a_corrupt_image_gets_its_error_and_the_others_complete(qtbot, make_window, photos):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not really a jpeg")
    window = make_window()
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=4)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert statuses(window) == {"a.jpg": "done", "b.png": "done", "broken.jpg": "error",
                                "c.jpg": "done"}
    row = window.model.row_of(photos / "broken.jpg")
    tooltip = window.model.index(row, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert "broken.jpg" in tooltip
    select_rows(window, row)
    details = window.preview.details.text()
    assert "broken.jpg" in details and "Error" in details


def test_stop_ends_the_job_after_the_current_batch(qtbot, make_window, tmp_path):
    gate = threading.Semaphore(0)
    window = make_window(FakeCaptioner(gate), batch_size=2)
    wait_for_model(qtbot, window)
    paths = _six_photos(tmp_path)
    add_and_wait(qtbot, window, paths, rows=6)

    QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Caption All
    qtbot.waitUntil(lambda: statuses(window)["p0.jpg"] == "captioning")
    assert statuses(window)["p2.jpg"] == "queued"
    gate.release()  # batch 1 finishes, batch 2 starts
    qtbot.waitUntil(lambda: statuses(window)["p2.jpg"] == "captioning")
    QTest.keyClick(window, Qt.Key.Key_Escape)  # Stop while batch 2 runs
    gate.release()  # batch 2 finishes; the worker then sees the cancel
    qtbot.waitUntil(lambda: not window.captioning.busy)

    assert list(statuses(window).values()) == ["done"] * 4 + ["new"] * 2
    assert "Stopped: 4 of 6 images captioned" in window.status.currentMessage()
    assert window.caption_all_action.isEnabled()


def test_closing_the_window_mid_batch_stops_the_thread(qtbot, make_window, tmp_path):
    gate = threading.Semaphore(0)
    window = make_window(FakeCaptioner(gate), batch_size=2)
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, _six_photos(tmp_path), rows=6)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: statuses(window)["p0.jpg"] == "captioning")

    window.close()  # the gate is never released: only the cancel lets the batch end

    assert not window.captioning.service.thread.isRunning()


def test_beam_width_setting_reaches_the_captioner(qtbot, make_window, photos):
    fake = FakeCaptioner()
    window = make_window(fake)
    window.settings.beam_width = 5
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos / "a.jpg"], rows=1)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert fake.beam_widths == [5]


def test_caption_without_a_model_explains_what_to_do(qtbot, make_window, photos, message_boxes):
    window = make_window()
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    assert message_boxes and "Open a caption model first" in message_boxes[-1][2]
    assert set(statuses(window).values()) == {"new"}


def test_a_model_that_fails_to_load_is_reported(qtbot, make_window, message_boxes):
    from desktop_captioner.core.errors import ModelFileError

    def refuse(model_file, weights, precision, cancel):
        raise ModelFileError(f"{model_file.name} is not a caption model file.")

    window = make_window(load_captioner=refuse)
    window.load_model(Path("x.dcmodel"))
    qtbot.waitUntil(lambda: bool(message_boxes))
    assert message_boxes[-1][1:] == ("Model not loaded", "x.dcmodel is not a caption model file.")
    assert window.status.model_label.text() == "No model loaded"
    assert window.empty_state.model_help.isVisibleTo(window.empty_state)


def test_model_info_shows_name_vocabulary_bleu_date_and_dataset(qtbot, make_window):
    window = make_window()
    wait_for_model(qtbot, window)
    html = model_info_html(window.captioning.model_info)
    for expected in ("fake-model", "42 words", "0.900", "0.500", "2026-01-01", "/data/scenes"):
        assert expected in html


def _python_thread_state_id() -> int:
    import ctypes

    get_state = ctypes.pythonapi.PyThreadState_Get
    get_state.restype = ctypes.c_void_p
    get_id = ctypes.pythonapi.PyThreadState_GetID
    get_id.argtypes, get_id.restype = [ctypes.c_void_p], ctypes.c_uint64
    return get_id(get_state())


def test_the_worker_keeps_one_python_thread_state_across_jobs(qtbot, make_window, photos):
    """TensorFlow's pybind11 layer deadlocks when a thread's Python state changes between calls
    (seen as a frozen app on the first Caption All after loading a model)."""
    states = []

    class RecordingCaptioner(FakeCaptioner):
        def caption(self, paths, **kwargs):
            states.append(_python_thread_state_id())
            yield from super().caption(paths, **kwargs)

    def load(model_file, weights, precision, cancel):
        states.append(_python_thread_state_id())
        return RecordingCaptioner()

    window = make_window(load_captioner=load)
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert len(states) == 2 and states[0] == states[1]


def test_caption_all_while_the_model_loads_starts_once_it_has_loaded(qtbot, make_window, photos):
    gate = threading.Event()

    def slow_load(model_file, weights, precision, cancel):
        gate.wait(5)
        return FakeCaptioner()

    window = make_window(load_captioner=slow_load)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.load_model(Path("m.dcmodel"))
    qtbot.waitUntil(lambda: bool(window.captioning.loading_model))
    window.caption_all_action.trigger()
    assert "as soon as the model has loaded" in window.status.currentMessage()
    gate.set()
    qtbot.waitUntil(lambda: set(statuses(window).values()) == {"done"})
