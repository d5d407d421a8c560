"""Issue 18, damaged app state: hostile settings.json and session.json files, each written by the
test into the app's folders, then a real window. The window must open, use defaults for what is
bad and keep the rest, name the file, keep a damaged file aside, and close with no worker left
running; a garbage window geometry must not abort the process."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_captioner.core.session_file import session_path, write_session
from desktop_captioner.gui.settings import Settings, load_settings, settings_path
from desktop_captioner.gui.settings_schema import MAX_RECENT_MODELS

REPO = Path(__file__).resolve().parents[2]
GOOD = {"last_image_folder": "/photos", "beam_width": 5, "metadata_mode": "embed",
        "restore_session": False, "recent_models": ["/m/a.dcmodel"]}
DEEP = 100_000  # far past json's recursion limit


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _unreadable(monkeypatch, target: Path) -> None:
    """PermissionError on opening ``target`` (chmod does not stop root, who runs the CI)."""
    real_open = pathlib.Path.open

    def open_(self, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", open_)


def _make_folder(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "inside.txt").write_text("mine")


def assert_closes_cleanly(window) -> None:
    window.close()
    assert not window.captioning.service.thread.isRunning()
    for pool in (window.thumbnails.pool, window.previews.pool, window.adder.walker.pool,
                 window.metadata_writer.pool, window.session._pool):
        assert pool.activeThreadCount() == 0


# --- a settings file the window cannot use at all -------------------------------------------

WHOLE_FILE_CASES = {
    "not UTF-8": (b'{"beam_width": 5, "last_model": "caf\xe9"}', "it is not UTF-8 text"),
    "binary garbage": (bytes(range(256)) * 8, "it is not UTF-8 text"),
    "nested thousands deep": (b'{"recent_models": ' + b"[" * DEEP + b"]" * DEEP + b"}",
                              "it is nested too deeply"),
    "a JSON list": (b'[{"beam_width": 5}]', "it does not hold a JSON object"),
    "a 5,000-digit integer": (b'{"beam_width": 1' + b"0" * 5000 + b"}", "it is not JSON"),
    "larger than a megabyte": (b"{" + b" " * 1_100_000 + b"}", "it is larger than 1,000,000"),
    "not JSON": (b"{oops", "it is not JSON"),
}


@pytest.mark.parametrize("content, problem", list(WHOLE_FILE_CASES.values()),
                         ids=list(WHOLE_FILE_CASES))
def test_an_unusable_settings_file_gives_defaults_and_is_kept_aside(make_window, caplog,
                                                                    content, problem):
    path = settings_path()
    _write(path, content)
    window = make_window()

    assert window.isVisible() and window.settings == Settings()
    message = window.status.currentMessage()
    assert message.startswith(f"{path} is damaged, so default settings are used ({problem}")
    kept = path.with_name(message.rsplit("it was kept as ", 1)[1].rstrip("."))
    assert kept.read_bytes() == content and kept.name in caplog.text
    assert_closes_cleanly(window)
    assert load_settings() == (window.settings, "")  # a fresh file was saved in its place


@pytest.mark.parametrize("make_bad, problem", [(_make_folder, "it is a folder, not a file"),
                                               (None, "Permission denied")],
                         ids=["a folder", "unreadable"])
def test_a_settings_file_that_cannot_be_read_gives_defaults(make_window, caplog, monkeypatch,
                                                           make_bad, problem):
    path = settings_path()
    if make_bad:
        make_bad(path)
    else:
        _write(path, json.dumps(GOOD).encode())
        _unreadable(monkeypatch, path)
    window = make_window()

    assert window.isVisible() and window.settings == Settings()
    message = window.status.currentMessage()
    assert message.startswith(f"{path} could not be read, so default settings are used "
                              f"({problem}); it was kept as settings.json.corrupt-")
    kept = path.with_name(message.rsplit("it was kept as ", 1)[1].rstrip("."))
    assert kept.exists() and str(path) in caplog.text and kept.name in caplog.text
    if make_bad:
        assert (kept / "inside.txt").read_text() == "mine"
    assert_closes_cleanly(window)


# --- one bad setting among good ones ---------------------------------------------------------

FIELD_CASES = {
    "geometry not base64": ("window_geometry", "garbage!!!"),
    "geometry huge": ("window_geometry", "A" * 100_000),
    "geometry a number": ("window_geometry", 42),
    "splitter negative": ("splitter_sizes", [-5, 10]),
    "splitter 10^12": ("splitter_sizes", [10**12, 1]),
    "splitter strings": ("splitter_sizes", ["wide", 1]),
    "splitter not a list": ("splitter_sizes", "wide"),
    "splitter three panes": ("splitter_sizes", [1, 2, 3]),
    "splitter booleans": ("splitter_sizes", [True, False]),
    "beam width 0": ("beam_width", 0),
    "beam width 10^12": ("beam_width", 10**12),
    "beam width a fraction": ("beam_width", 2.5),
    "beam width text": ("beam_width", "5"),
    "beam width boolean": ("beam_width", True),
    "precision unknown": ("caption_precision", "fp16"),
    "precision a number": ("caption_precision", 16),
    "recent models not a list": ("recent_models", {"a": 1}),
    "sidecar ext with a slash": ("sidecar_ext", "a/b"),
    "sidecar ext a newline": ("sidecar_ext", "\n"),
    "sidecar ext huge": ("sidecar_ext", "x" * 1000),
    "sidecar ext a number": ("sidecar_ext", 7),
    "metadata mode unknown": ("metadata_mode", "inside"),
    "metadata mode null": ("metadata_mode", None),
    "restore session text": ("restore_session", "no"),
    "read captions 1": ("read_existing_captions", 1),
    "embed confirmed text": ("metadata_embed_confirmed", "yes"),
    "last model with NUL": ("last_model", "a\0b.dcmodel"),
    "weights path a number": ("weights_path", 123),
    "export path too long": ("last_export_path", "/x" * 3000),
    "image folder a list": ("last_image_folder", ["/photos"]),
}


@pytest.mark.parametrize("name, bad", list(FIELD_CASES.values()), ids=list(FIELD_CASES))
def test_one_bad_setting_falls_back_alone_with_one_log_line(make_window, caplog, name, bad):
    path = settings_path()
    _write(path, json.dumps({**GOOD, name: bad}).encode())
    window = make_window()

    default = getattr(Settings(), name)
    assert window.settings == Settings(**{**GOOD, name: default})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("desktop_captioner")]
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: setting {name!r} is not valid (")
    assert lines[0].endswith("); its default is used")
    assert window.status.currentMessage() == ""
    assert window.beam_width_menu.checked_value() == window.settings.beam_width
    assert all(0 <= size for size in window.splitter.sizes())
    assert path.exists()  # nothing moved aside for one bad value
    assert_closes_cleanly(window)


def test_a_valid_base64_geometry_of_random_bytes_is_ignored(make_window, caplog):
    noise = base64.b64encode(bytes((i * 97 + 13) % 256 for i in range(66))).decode()
    _write(settings_path(), json.dumps({**GOOD, "window_geometry": noise}).encode())
    window = make_window()

    assert window.isVisible() and window.settings.beam_width == GOOD["beam_width"]
    assert "saved window geometry not used: Qt does not recognise it" in caplog.text
    assert_closes_cleanly(window)


@pytest.mark.parametrize("entries, kept", [
    ([1, None, "/m/a.dcmodel", "/m/a.dcmodel", "x\0y", "", "/m/b.dcmodel"],
     ["/m/a.dcmodel", "/m/b.dcmodel"]),
    ([f"/m/{n}.dcmodel" for n in range(10_000)],
     [f"/m/{n}.dcmodel" for n in range(MAX_RECENT_MODELS)]),
], ids=["non-strings and repeats", "10,000 entries"])
def test_recent_models_keep_their_valid_entries_up_to_the_cap(make_window, caplog, entries,
                                                             kept):
    path = settings_path()
    _write(path, json.dumps({**GOOD, "recent_models": entries}).encode())
    window = make_window()

    assert window.settings.recent_models == kept
    assert [a.text() for a in window.recent_menu.actions()] == [Path(k).name for k in kept]
    assert window.settings.last_image_folder == GOOD["last_image_folder"]
    assert caplog.messages == [
        f"{path}: setting 'recent_models' kept {len(kept)} of its {len(entries)} entries "
        "(the others were not valid, repeated or over the limit)"]
    assert_closes_cleanly(window)


# --- a damaged session file ------------------------------------------------------------------

ROW = ["/p/a.jpg", "a dog", -0.5, "done", "", "model", False]


def _session(rows) -> bytes:
    header = {"format": "desktop-captioner-session", "version": 1,
              "columns": ["path", "caption", "score", "status", "error", "source", "unsaved"]}
    return json.dumps({**header, "rows": rows}).encode()


SESSION_CASES = {
    "not UTF-8": _session([ROW]).replace(b"a dog", b"caf\xe9"),
    "binary garbage": bytes(range(256)) * 8,
    "nested thousands deep": _session([]).replace(b"[]", b"[" * DEEP + b"]" * DEEP),
    "a 5,000-digit score": _session([ROW]).replace(b"-0.5", b"1" + b"0" * 5000),
    "a 4,000-digit score": _session([ROW]).replace(b"-0.5", b"1" + b"0" * 4000),
    "an infinite score": _session([ROW]).replace(b"-0.5", b"-Infinity"),
    "a path with NUL": _session([["/p/a\0b.jpg", *ROW[1:]]]),
    "a JSON list": json.dumps([ROW]).encode(),
}


@pytest.mark.parametrize("content", list(SESSION_CASES.values()), ids=list(SESSION_CASES))
def test_a_damaged_session_is_moved_aside_and_the_list_starts_empty(make_window, caplog,
                                                                   content):
    _write(session_path(), content)
    window = make_window()
    window.start()

    assert window.model.rowCount() == 0
    kept = list(session_path().parent.glob("session.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert kept[0].name in caplog.text and kept[0].name in window.status.currentMessage()
    assert str(session_path()) in window.status.currentMessage()
    assert_closes_cleanly(window)


@pytest.mark.parametrize("make_bad, problem", [(_make_folder, "is a folder, not a session file."),
                                               (None, "could not be read (Permission denied).")],
                         ids=["a folder", "unreadable"])
def test_a_session_that_cannot_be_read_is_moved_aside(make_window, caplog, monkeypatch,
                                                      make_bad, problem):
    path = session_path()
    if make_bad:
        make_bad(path)
    else:
        write_session([tuple(ROW)], path)
        _unreadable(monkeypatch, path)
    window = make_window()
    window.start()

    assert window.model.rowCount() == 0
    kept = list(path.parent.glob("session.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].name in caplog.text
    assert window.status.currentMessage() == (
        f"{path} {problem} It was kept as {kept[0].name}; the app starts with an empty list.")
    assert_closes_cleanly(window)


# --- the abort itself, in a process of its own -----------------------------------------------

def test_a_garbage_geometry_does_not_abort_the_app(app_home, tmp_path):
    """Before issue 18 this process died with SIGABRT ("QThread: Destroyed while thread is still
    running") after an exception in MainWindow.__init__."""
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({"window_geometry": "garbage!!!",
                                           "splitter_sizes": [10**12, 1]}), encoding="utf-8")
    script = ("from desktop_captioner.gui.app import create_application\n"
              "from desktop_captioner.gui.main_window import MainWindow\n"
              "app = create_application()\n"
              "window = MainWindow()\n"
              "window.show()\n"
              "app.processEvents()\n"
              "window.close()\n"
              "print(window.isVisible(), window.settings.splitter_sizes)\n")
    env = {**os.environ, "DESKTOP_CAPTIONER_HOME": str(app_home), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "False []\n"
    assert "Traceback" not in done.stderr and "QThread" not in done.stderr
