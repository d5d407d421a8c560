"""Settings: a JSON file in the config folder, written atomically, restored on start-up; a
damaged file gives defaults and a warning instead of a crash."""

from __future__ import annotations

import json

from desktop_captioner.gui.settings import Settings, load_settings, save_settings, settings_path
from tests.gui.conftest import wait_for_model


def test_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings(splitter_sizes=[700, 300], weights_path="/w.h5", beam_width=5,
                        caption_precision="bfloat16", last_image_folder="/photos",
                        last_export_folder="/out")
    settings.remember_model("/m/a.dcmodel")
    settings.remember_model("/m/b.dcmodel")
    settings.remember_model("/m/a.dcmodel")
    save_settings(settings, path)
    loaded, warning = load_settings(path)
    assert warning == "" and loaded == settings
    assert loaded.last_model == "/m/a.dcmodel"
    assert loaded.recent_models == ["/m/a.dcmodel", "/m/b.dcmodel"]


def test_missing_file_gives_defaults_silently(tmp_path):
    assert load_settings(tmp_path / "none.json") == (Settings(), "")


def test_damaged_files_give_defaults_with_a_warning_and_are_kept_aside(tmp_path, caplog):
    path = tmp_path / "settings.json"
    for text in ("{not json", "[1, 2]"):
        path.write_text(text)
        settings, warning = load_settings(path)
        assert settings == Settings()
        assert warning.startswith(f"{path} is damaged, so default settings are used (")
        kept = tmp_path / warning.rsplit("it was kept as ", 1)[1].rstrip(".")
        assert kept.read_text() == text and not path.exists()
        assert kept.name in caplog.text


def test_a_wrongly_typed_setting_falls_back_alone_with_a_log_line(tmp_path, caplog):
    """Since issue 18 one bad value no longer costs the user every other setting."""
    path = tmp_path / "settings.json"
    for name, bad in (("beam_width", "five"), ("recent_models", "a.dcmodel"),
                      ("metadata_embed_confirmed", "yes"), ("read_existing_captions", 1)):
        caplog.clear()
        path.write_text(json.dumps({name: bad, "last_image_folder": "/photos"}))
        settings, warning = load_settings(path)
        assert settings == Settings(last_image_folder="/photos") and warning == ""
        assert [r.getMessage() for r in caplog.records] == [
            f"{path}: setting {name!r} is not valid ({_reason(name)}); its default is used"]


def _reason(name: str) -> str:
    return {"beam_width": "it is not a whole number from 1 to 10",
            "recent_models": "it is text, not a list",
            "metadata_embed_confirmed": "it is text, not true or false",
            "read_existing_captions": "it is a number, not true or false"}[name]


def test_an_unknown_precision_falls_back_to_automatic_alone(tmp_path):
    """A hand-edited typo should not cost the user every other setting."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"caption_precision": "fp16", "beam_width": 5}))
    settings, warning = load_settings(path)
    assert (settings.caption_precision, settings.beam_width, warning) == ("", 5, "")


def test_an_unknown_metadata_mode_falls_back_to_sidecars_alone(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"metadata_mode": "inside", "metadata_embed_confirmed": True,
                                "read_existing_captions": False}))
    settings, warning = load_settings(path)
    assert (settings.metadata_mode, settings.metadata_embed_confirmed,
            settings.read_existing_captions, warning) == ("xmp", True, False, "")


def test_the_window_restores_what_it_saved(qtbot, make_window):
    window = make_window()
    window.resize(760, 560)  # within the offscreen 800x600 screen
    window.splitter.setSizes([500, 260])
    wait_for_model(qtbot, window, "/models/scenes.dcmodel")
    window.settings.beam_width = 4
    sizes = window.splitter.sizes()
    window.close()

    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["last_model"] == "/models/scenes.dcmodel" and saved["beam_width"] == 4
    again = make_window()
    assert (again.size().width(), again.size().height()) == (760, 560)
    assert again.splitter.sizes() == sizes
    assert [a.text() for a in again.recent_menu.actions()] == ["scenes.dcmodel"]
    again.start()  # loads the last model, as at start-up
    qtbot.waitUntil(lambda: again.captioning.model_info is not None)
    assert str(again.captioning.model_info.path) == "/models/scenes.dcmodel"


def test_a_damaged_settings_file_is_reported_in_the_status_bar(qtbot, make_window):
    settings_path().write_text("{oops", encoding="utf-8")
    window = make_window()
    assert "is damaged, so default settings are used" in window.status.currentMessage()
    assert window.settings == Settings()
