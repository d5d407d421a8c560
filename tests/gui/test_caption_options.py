"""Caption → Precision and Caption → Beam Width: a choice reaches the worker, is shown, and is
remembered; precision cannot change under a running job."""

from __future__ import annotations

import json
import threading

from desktop_captioner.gui.dialogs.model_info import model_info_html
from desktop_captioner.gui.settings import settings_path
from tests.gui.conftest import FakeCaptioner, add_and_wait, statuses, wait_for_model


def _choose(menu, value) -> None:
    [action] = [a for a in menu.actions() if a.data() == value]
    action.trigger()


def _checked(menu):
    return menu.group.checkedAction().data()


def test_choosing_a_precision_reloads_the_model_in_it_and_is_remembered(qtbot, make_window):
    fake = FakeCaptioner()
    window = make_window(captioner=fake)
    assert _checked(window.precision_menu) == ""  # automatic by default
    wait_for_model(qtbot, window, "/models/scenes.dcmodel")
    assert fake.requested_precisions == [None]

    _choose(window.precision_menu, "bfloat16")
    qtbot.waitUntil(lambda: getattr(window.captioning.model_info, "precision", "") == "bfloat16")
    assert fake.requested_precisions == [None, "bfloat16"]
    assert window.status.model_label.text() == "Model: fake-model, 42 words, bfloat16"
    assert "bfloat16 (trained on float32 features)" in model_info_html(window.captioning.model_info)
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["caption_precision"] == "bfloat16"
    window.close()

    again_fake = FakeCaptioner()
    again = make_window(captioner=again_fake)
    assert _checked(again.precision_menu) == "bfloat16"
    again.start()  # loads the last model, as at start-up, in the remembered precision
    qtbot.waitUntil(lambda: again.captioning.model_info is not None)
    assert again_fake.requested_precisions == ["bfloat16"]
    _choose(again.precision_menu, "")
    qtbot.waitUntil(lambda: again_fake.requested_precisions == ["bfloat16", None])


def test_choosing_a_precision_without_a_model_loads_nothing(qtbot, make_window):
    fake = FakeCaptioner()
    window = make_window(captioner=fake)
    _choose(window.precision_menu, "float32")
    qtbot.wait(50)
    assert fake.requested_precisions == [] and window.captioning.model_info is None
    assert window.settings.caption_precision == "float32"


def test_precision_cannot_change_while_captioning(qtbot, make_window, photos):
    gate = threading.Semaphore(0)
    fake = FakeCaptioner(gate)
    window = make_window(captioner=fake, batch_size=1)
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    window.caption_all_action.trigger()
    assert not window.precision_menu.isEnabled()
    assert window.beam_width_menu.isEnabled()  # only read when the next job starts
    for _ in range(3):
        gate.release()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert window.precision_menu.isEnabled()
    assert set(statuses(window).values()) == {"done"} and fake.requested_precisions == [None]


def test_the_chosen_beam_width_is_used_by_the_next_job(qtbot, make_window, photos):
    fake = FakeCaptioner()
    window = make_window(captioner=fake)
    assert _checked(window.beam_width_menu) == 3
    wait_for_model(qtbot, window)
    add_and_wait(qtbot, window, [photos], rows=3)
    _choose(window.beam_width_menu, 1)
    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert fake.beam_widths == [1]
    assert json.loads(settings_path().read_text(encoding="utf-8"))["beam_width"] == 1


def test_an_unusual_beam_width_from_the_settings_file_is_shown(qtbot, make_window):
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({"beam_width": 7}), encoding="utf-8")
    window = make_window()
    assert [a.data() for a in window.beam_width_menu.actions()] == [1, 3, 5, 7]
    assert _checked(window.beam_width_menu) == 7
