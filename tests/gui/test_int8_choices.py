"""int8 in the GUI: Caption → Precision offers it, picking it reloads the model in it and is
remembered; the training dialog offers it; the worker says so while the int8 model is built."""

from __future__ import annotations

import json

from desktop_captioner.core.progress import Progress
from desktop_captioner.gui.settings import settings_path
from desktop_captioner.gui.training.settings_form import TrainingSettingsForm
from desktop_captioner.gui.workers.caption_worker import CaptionWorker
from tests.gui.conftest import FakeCaptioner, wait_for_model


def test_caption_precision_lists_int8_and_choosing_it_reloads_the_model(qtbot, make_window):
    fake = FakeCaptioner()
    window = make_window(captioner=fake)
    values = [action.data() for action in window.precision_menu.actions()]
    assert values == ["", "float32", "bfloat16", "int8"]
    wait_for_model(qtbot, window, "/models/scenes.dcmodel")

    [int8] = [a for a in window.precision_menu.actions() if a.data() == "int8"]
    assert int8.toolTip()
    int8.trigger()
    qtbot.waitUntil(lambda: getattr(window.captioning.model_info, "precision", "") == "int8")
    assert fake.requested_precisions == [None, "int8"]
    assert window.status.model_label.text().endswith(", int8")
    assert json.loads(settings_path().read_text(encoding="utf-8"))["caption_precision"] == "int8"


def test_the_training_dialog_offers_int8(qtbot):
    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    choices = [form.precision.itemText(i) for i in range(form.precision.count())]
    assert choices == ["auto", "float32", "bfloat16", "int8"]


def test_the_worker_reports_the_int8_build_while_loading(qtbot):
    worker = CaptionWorker(load_captioner=None)
    worker._loading = "/models/scenes.dcmodel"
    with qtbot.waitSignal(worker.model_step, timeout=1000) as step:
        worker._on_load_progress(Progress("int8 model", 0, 1))
    assert "int8" in step.args[0] and step.args[1] == "/models/scenes.dcmodel"
    with qtbot.assertNotEmitted(worker.model_step):
        worker._on_load_progress(Progress("int8 model", 1, 1))
        worker._on_load_progress(Progress("download", 0, 5))
