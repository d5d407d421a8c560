"""The `gui` command (also the default with no subcommand) and the no-TensorFlow rule."""

from __future__ import annotations

import subprocess
import sys

from desktop_captioner import cli
from desktop_captioner.gui import app


def _capture_main(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(app, "main", lambda *args, **kwargs: calls.append((args, kwargs)) or 0)
    return calls


def test_gui_command_passes_paths_model_weights_and_dataset(monkeypatch):
    calls = _capture_main(monkeypatch)
    code = cli.main(["gui", "a.jpg", "photos", "--model", "m.dcmodel", "--weights", "w.h5",
                     "--train", "data", "--captions", "captions.csv"])
    assert code == 0
    assert calls == [((["a.jpg", "photos"],),
                      {"model": "m.dcmodel", "weights": "w.h5", "train_dir": "data",
                       "captions": "captions.csv"})]


def test_no_subcommand_opens_the_gui(monkeypatch):
    calls = _capture_main(monkeypatch)
    assert cli.main([]) == 0
    assert calls == [(([],), {"model": None, "weights": None, "train_dir": None,
                              "captions": None})]


def test_the_gui_imports_without_tensorflow():
    code = ("import sys; import desktop_captioner.gui.app, desktop_captioner.cli.gui_cmd; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_icon_is_found(qapp):
    assert not app.app_icon().isNull()
