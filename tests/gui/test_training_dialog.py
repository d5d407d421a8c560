"""The Train New Model dialog, driven like a user would: on a 40-image generated dataset at 32 px
with a tiny decoder, so a whole run (VGG16 features, training, BLEU, save) takes seconds."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_captioner.core.sample_dataset import make_sample_dataset
from desktop_captioner.gui.training import TrainingDialog
from desktop_captioner.gui.training import worker as worker_module
from desktop_captioner.gui.training.settings_form import TrainingSettingsForm
from desktop_captioner.gui.training.steps import STEP_KEYS

RUN_TIMEOUT = 90_000  # ms; a run takes a few seconds, this only guards against a hang


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    return make_sample_dataset(tmp_path_factory.mktemp("scenes") / "scenes", images=40, size=32)


def use_small_settings(widget: TrainingDialog) -> None:
    form = widget.settings
    form.epochs.setValue(2)
    form.batch_size.setValue(16)
    form.embedding_dim.setValue(16)
    form.hidden_dim.setValue(16)
    form.min_count.setValue(1)
    form.patience.setValue(5)
    form.image_size.setValue(32)
    form.precision.setCurrentText("float32")


@pytest.fixture
def dialog(qtbot, weights_file):
    """A dialog with small settings; at teardown no training thread may be left running."""
    widget = TrainingDialog(weights=weights_file)
    qtbot.addWidget(widget)
    use_small_settings(widget)
    widget.show()
    yield widget
    if widget.is_training():
        widget.stop_and_wait()
        pytest.fail("the test left a training thread running")
    widget.dataset_panel.wait()


def inspect(qtbot, dialog: TrainingDialog, folder: Path) -> None:
    with qtbot.waitSignal(dialog.dataset_panel.inspected, timeout=10_000):
        dialog.choose_folder(folder)


def wait_for_state(qtbot, dialog: TrainingDialog, state: str) -> None:
    qtbot.waitUntil(lambda: dialog.state == state and not dialog.is_training(),
                    timeout=RUN_TIMEOUT)


def test_full_run_saves_a_model_and_reports_bleu_steps_and_chart(qtbot, dialog, sample_dir):
    inspect(qtbot, dialog, sample_dir)
    assert dialog.dataset_panel.headline.text().startswith("<b>Ready:</b> 40 images")
    assert dialog.start_button.isEnabled()
    steps: list[int] = []
    dialog.run_view.steps.step_changed.connect(steps.append)
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.state == "running"
    wait_for_state(qtbot, dialog, "done")

    out_path = dialog.settings.choices().out_path
    assert out_path.is_file() and dialog.run_view.results.model_path == out_path
    assert steps == sorted(set(steps)) and steps[-1] == STEP_KEYS.index("save")
    assert {STEP_KEYS.index(k) for k in ("extract", "train", "evaluate")} <= set(steps)
    assert [p.x() for p in dialog.run_view.chart.epoch_points()] == [1.0, 2.0]
    assert len(dialog.run_view.chart.val_series.points()) == 2
    assert dialog.run_view.chart.batch_series.count() > 0
    bleu = [float(label.text()) for label in dialog.run_view.results.bleu_labels.values()]
    assert all(0.0 <= value <= 1.0 for value in bleu)
    assert dialog.run_view.results.interpretation.text()
    assert dialog.run_view.results.examples.count() > 0
    assert not dialog.run_view.results.examples.item(0).icon().isNull()
    assert dialog.run_view.tabs.currentWidget() is dialog.run_view.results

    with qtbot.waitSignal(dialog.use_model, timeout=1000) as used:
        dialog.run_view.results.use_button.click()
    assert used.args == [out_path]
    assert not dialog.isVisible()  # "Use this model" also closes the dialog


def test_cancel_keeps_the_checkpoint_and_resume_finishes(qtbot, dialog, sample_dir, monkeypatch):
    """The worker pauses after epoch 1 until the user has pressed Cancel, so the cancel lands at
    a known point: resuming must continue with epoch 2, not start over."""
    paused, cancel_pressed = threading.Event(), threading.Event()
    forward = worker_module.TrainingWorker._forward

    def pause_after_first_epoch(self, report):
        forward(self, report)
        if getattr(report, "phase", "") == "epoch_end" and report.epoch == 1 \
                and not self.job.resume:
            paused.set()
            cancel_pressed.wait(timeout=30)

    monkeypatch.setattr(worker_module.TrainingWorker, "_forward", pause_after_first_epoch)
    inspect(qtbot, dialog, sample_dir)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: len(dialog.run_view.chart.epoch_points()) == 1 and paused.is_set(),
                    timeout=RUN_TIMEOUT)
    dialog.cancel_button.click()
    assert dialog.state == "stopping" and not dialog.cancel_button.isEnabled()
    cancel_pressed.set()
    wait_for_state(qtbot, dialog, "cancelled")
    assert dialog.resume_button.isVisible() and not dialog.settings.choices().out_path.exists()

    dialog.resume_button.click()
    wait_for_state(qtbot, dialog, "done")
    assert "Resumed after epoch 1." in dialog.run_view.log_view.toPlainText()
    assert [p.x() for p in dialog.run_view.chart.epoch_points()] == [1.0, 2.0]
    assert dialog.settings.choices().out_path.is_file()


def test_closing_while_training_asks_then_stops_cleanly(qtbot, dialog, sample_dir, monkeypatch):
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []

    def question(*args, **kwargs):
        asked.append(args[1])
        return answers[len(asked) - 1]

    monkeypatch.setattr(QMessageBox, "question", question)
    inspect(qtbot, dialog, sample_dir)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: (dialog.run_view.steps.current or 0) >= STEP_KEYS.index("extract"),
                    timeout=RUN_TIMEOUT)

    dialog.close()  # answered No: keeps training
    assert dialog.isVisible() and dialog.is_training()
    dialog.close()  # answered Yes: cancels and joins the thread before hiding
    assert asked == ["Stop training?", "Stop training?"]
    assert not dialog.isVisible() and not dialog.is_training()
    assert not dialog.settings.choices().out_path.exists()


def _write_kaggle(root: Path, names: list[str]) -> Path:
    (root / "Images").mkdir(parents=True)
    for name in names:
        (root / "Images" / name).write_bytes(b"")
    lines = ["image,caption"] + [f"{name},a red circle" for name in names] + ["only one column"]
    (root / "captions.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("names, reason", [
    ([], "contains no image files"),
    (["a.jpg", "b.jpg"], "split"),
])
def test_unusable_folder_keeps_start_disabled_and_lists_problems(qtbot, dialog, tmp_path,
                                                                  names, reason):
    folder = _write_kaggle(tmp_path / "bad", names)
    with qtbot.waitSignal(dialog.dataset_panel.rejected, timeout=10_000) as rejected:
        dialog.choose_folder(folder)
    assert reason in rejected.args[0]
    assert not dialog.start_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.state == "setup" and not dialog.is_training()
    problems = dialog.dataset_panel.problems
    assert problems.isVisible()
    messages = [problems.topLevelItem(i).text(2) for i in range(problems.topLevelItemCount())]
    assert reason in messages[0]
    if names:  # the loadable folder also lists the file's own problem (the one-column line)
        assert len(messages) >= 2
    assert "cannot be used" in dialog.dataset_panel.headline.text()


def test_an_existing_model_is_replaced_only_after_asking(qtbot, dialog, sample_dir, monkeypatch):
    inspect(qtbot, dialog, sample_dir)
    out_path = dialog.settings.choices().out_path
    out_path.write_bytes(b"an earlier model")
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.No)
    dialog.start_button.click()
    assert dialog.state == "setup" and not dialog.is_training()
    assert out_path.read_bytes() == b"an earlier model"


def test_make_sample_dataset_writes_and_inspects_it(qtbot, dialog, tmp_path, monkeypatch):
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory",
                        lambda *args, **kwargs: str(tmp_path))
    with qtbot.waitSignal(dialog.dataset_panel.inspected, timeout=30_000) as inspected:
        dialog.sample_button.click()
    assert inspected.args[0].root == tmp_path / "captioner-sample"
    assert len(inspected.args[0].captions) == 200
    assert dialog.start_button.isEnabled()
    assert dialog.settings.model_name.text() == "captioner-sample-model"


def test_main_window_opens_the_dialog_and_asks_before_quitting_mid_training(
        qtbot, make_window, message_boxes, sample_dir, monkeypatch, weights_file):
    window = make_window(weights=weights_file)
    assert window.train_action.shortcut().toString() == "Ctrl+T"
    window.train_action.trigger()
    dialog = window.training_dialog
    assert dialog is not None and dialog.isVisible() and dialog.weights == weights_file
    with qtbot.waitSignal(dialog.dataset_panel.inspected, timeout=10_000):
        window.start(train_dir=sample_dir)  # what `desktop-captioner gui --train DIR` does
    assert dialog.folder_edit.text() == str(sample_dir)
    use_small_settings(dialog)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: (dialog.run_view.steps.current or 0) >= STEP_KEYS.index("extract")
                    or dialog.state != "running", timeout=RUN_TIMEOUT)
    assert dialog.state == "running", dialog.run_view.log_view.toPlainText()

    window.close()  # the recorded question is answered No: nothing stops
    assert ("question", "Stop training?") in [m[:2] for m in message_boxes]
    assert window.isVisible() and dialog.is_training()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    window.close()
    assert not window.isVisible() and not dialog.is_training()


def test_the_dialog_imports_without_tensorflow():
    """Opening the dialog must be instant: TensorFlow loads in the worker thread only."""
    code = ("import sys, desktop_captioner.gui.training; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_default_settings_are_the_cores_defaults(qtbot):
    from desktop_captioner.core.training import TrainingConfig

    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    defaults = TrainingConfig().to_dict()
    assert form.choices().config == {key: defaults[key] for key in form.choices().config}


def test_the_devices_choice_reaches_train_model(qtbot, dialog, sample_dir, monkeypatch):
    """The Devices combo (train --devices) travels with the job into ``train_model``."""
    import desktop_captioner.core.pipeline as pipeline
    from desktop_captioner.core.errors import CaptionerError

    seen: dict = {}

    def fake_train_model(*args, **kwargs):
        seen.update(kwargs)
        raise CaptionerError("stopped by the test after seeing its arguments")

    monkeypatch.setattr(pipeline, "train_model", fake_train_model)
    inspect(qtbot, dialog, sample_dir)
    assert dialog.settings.devices.currentText() == "one"  # the CLI's default
    dialog.settings.devices.setCurrentText("cpu")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.is_training() and bool(seen), timeout=RUN_TIMEOUT)
    assert seen["devices"] == "cpu"
