"""The `gui` command (also the default with no subcommand) and the no-TensorFlow rule."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_captioner import cli
from desktop_captioner.cli.display_check import missing_display
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
                       "restore": True, "captions": "captions.csv"})]


def test_no_subcommand_opens_the_gui(monkeypatch):
    calls = _capture_main(monkeypatch)
    assert cli.main([]) == 0
    assert calls == [(([],), {"model": None, "weights": None, "train_dir": None,
                              "restore": True, "captions": None})]


def test_the_gui_imports_without_tensorflow():
    code = ("import sys; import desktop_captioner.gui.app, desktop_captioner.cli.gui_cmd; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_slow_is_imported_before_the_window_shows(tmp_path):
    """`desktop-captioner gui` up to ``window.show()``: the command line parsed, the app and
    window modules imported. Pillow, numpy, h5py and exiv2 load when first used, not here."""
    code = ("import sys; from pathlib import Path; import desktop_captioner.cli as cli; "
            "cli.build_parser(Path('log')).parse_args(['gui']); "
            "import desktop_captioner.gui.app, desktop_captioner.gui.main_window; "
            "bad = sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('PIL', 'numpy', 'h5py', 'exiv2')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120,
                            env={**os.environ, "DESKTOP_CAPTIONER_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_icon_is_found(qapp):
    assert not app.app_icon().isNull()


def _env_without_display(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return {**env, **extra}


def test_no_display_is_one_line_and_exit_2_not_a_qt_abort(tmp_path):
    env = _env_without_display(DESKTOP_CAPTIONER_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "desktop_captioner"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert "no display" in line and "QT_QPA_PLATFORM=offscreen" in line


@pytest.mark.parametrize("environ, platform, opens", [
    ({}, "linux", False),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", True),
    ({}, "darwin", True),
    ({}, "win32", True),
])
def test_which_environments_have_a_display(environ, platform, opens):
    assert (missing_display(environ, platform) is None) is opens


def test_qt_messages_go_to_the_log_file_not_the_terminal(tmp_path):
    """Offscreen Qt remarks "This plugin does not support propagateSizeHints()" when a window
    shows; --self-test promises one line, so nothing of Qt's may reach the terminal."""
    code = ("from desktop_captioner.core.applog import setup_logging; setup_logging(); "
            "from desktop_captioner.gui.app import create_application; "
            "from desktop_captioner.gui.main_window import MainWindow; "
            "from PySide6.QtCore import qWarning; "
            "app = create_application(); w = MainWindow(); w.show(); app.processEvents(); "
            "qWarning('a Qt warning for the log'); w.close()")
    env = _env_without_display(QT_QPA_PLATFORM="offscreen", DESKTOP_CAPTIONER_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    log_text = "".join(p.read_text() for p in (tmp_path / "log").glob("*.log"))
    assert "a Qt warning for the log" in log_text
