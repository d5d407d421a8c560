"""The app bundle's start-up pieces (bundled resources, missing streams) and ``--self-test``."""

from __future__ import annotations

import ast
import logging
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from desktop_captioner import cli, frozen, selftest
from desktop_captioner.core import bundled

REPO_RESOURCES = Path(__file__).resolve().parents[1] / "resources"


@pytest.fixture
def fake_bundle(tmp_path, monkeypatch) -> Path:
    """Pretend to run inside a PyInstaller bundle whose data folder is ``tmp_path``."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    return tmp_path


def test_bundled_files_are_found_inside_a_frozen_bundle(fake_bundle):
    weights = fake_bundle / "resources" / bundled.WEIGHTS_RESOURCE
    model = fake_bundle / "resources" / bundled.DEFAULT_MODEL_RESOURCE
    for path in (weights, model):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert bundled.resources_root() == fake_bundle / "resources"
    assert bundled.bundled_weights() == weights
    assert bundled.bundled_model() == model


def test_a_bundle_without_embedded_files_reports_none(fake_bundle):
    (fake_bundle / "resources" / "weights").mkdir(parents=True)  # a folder is not the file
    assert bundled.bundled_weights() is None
    assert bundled.bundled_model() is None
    assert bundled.bundled_resource("icons/missing.png") is None


def test_source_checkout_uses_the_repository_resources():
    assert not getattr(sys, "frozen", False)
    icon = bundled.bundled_resource("icons/desktop-captioner.png")
    assert icon.resolve() == REPO_RESOURCES / "icons" / "desktop-captioner.png"


def test_missing_streams_are_replaced_and_printing_survives(monkeypatch, caplog):
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(frozen, "_stdout_replaced", False)
    frozen.make_streams_safe()
    try:
        print("keras progress bar", flush=True)  # would raise AttributeError on None
        with caplog.at_level(logging.WARNING, logger="stderr"):
            sys.stderr.write("a warning from ")
            sys.stderr.write("tensorflow\nsecond line\n")
        logged = [r.getMessage() for r in caplog.records]
        assert logged == ["a warning from tensorflow", "second line"]
        assert not sys.stdout.isatty()
    finally:
        sys.stdout.close()


def test_present_streams_are_left_alone(monkeypatch):
    out, err = sys.stdout, sys.stderr
    frozen.make_streams_safe()
    assert (sys.stdout, sys.stderr) == (out, err)


def test_print_to_terminal_uses_fd_1_when_stdout_was_replaced(monkeypatch, capfd):
    monkeypatch.setattr(frozen, "_stdout_replaced", True)
    frozen.print_to_terminal("self-test ok: summary")
    assert capfd.readouterr().out == "self-test ok: summary\n"


def test_self_test_names_the_failing_step_and_exits_non_zero(tmp_path, capsys):
    missing = tmp_path / "nowhere.h5"
    assert cli.main(["--self-test", "--weights", str(missing)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["self-test FAILED at weights: "
                   f"The VGG16 weights file does not exist: {missing}."]


def test_self_test_never_downloads_missing_weights(capsys):
    assert selftest.main([]) == 1
    assert capsys.readouterr().out.startswith("self-test FAILED at weights: No VGG16 weights")


def test_a_broken_model_file_fails_at_the_model_step(weights_file, tmp_path, capsys):
    broken = tmp_path / "broken.dcmodel"
    broken.write_bytes(b"not a zip")
    assert selftest.main(["--weights", str(weights_file), "--model", str(broken)]) == 1
    assert capsys.readouterr().out.startswith("self-test FAILED at model: ")


SUMMARY = re.compile(r"self-test ok: weights\((?P<weights>\w+)\), qt\(offscreen\), "
                     r"encoder\((float32|bfloat16), 64px\), model\((?P<model>[\w ]+)\), "
                     r"3 captions, csv, xmp — \d+\.\d s")


def test_the_xmp_step_writes_and_reads_one_sidecar(tmp_path):
    photo = selftest.make_samples(tmp_path)[0]
    selftest.check_xmp(photo)
    assert photo.with_name(photo.name + ".xmp").is_file()


def test_the_xmp_step_fails_when_the_caption_does_not_come_back(tmp_path, monkeypatch):
    import desktop_captioner.core.existing_captions as existing

    monkeypatch.setattr(existing, "read_existing_caption", lambda image, names: None)
    with pytest.raises(RuntimeError, match=r"\.xmp does not hold the caption"):
        selftest.check_xmp(selftest.make_samples(tmp_path)[0])


def _files_written_under(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and p.parent.name != "log"]


def test_self_test_without_a_model_trains_one_and_leaves_no_trace(weights_file, app_home,
                                                                   capsys):
    assert selftest.main(["--weights", str(weights_file)]) == 0
    match = SUMMARY.fullmatch(capsys.readouterr().out.strip())
    assert match, "summary line malformed"
    assert (match["weights"], match["model"]) == ("explicit", "trained 1 epoch")
    assert _files_written_under(app_home) == []  # no settings, cache or model of the user's
    assert os.environ["DESKTOP_CAPTIONER_HOME"] == str(app_home)


def _embed(bundle: Path, weights: Path, model: Path) -> None:
    """Lay out the bundle's resources the way packaging/build.sh does."""
    resources = bundle / "resources"
    shutil.copytree(REPO_RESOURCES / "icons", resources / "icons")
    for source, relative in ((weights, bundled.WEIGHTS_RESOURCE),
                             (model, bundled.DEFAULT_MODEL_RESOURCE)):
        (resources / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, resources / relative)


def test_self_test_uses_weights_and_model_embedded_in_the_bundle(weights_file, tmp_path,
                                                                  fake_bundle, capsys):
    _embed(fake_bundle, weights_file, selftest.train_tiny_model(weights_file, tmp_path / "train"))
    assert selftest.main([]) == 0
    match = SUMMARY.fullmatch(capsys.readouterr().out.strip())
    assert match, "summary line malformed"
    assert (match["weights"], match["model"]) == ("bundled", "bundled")


def test_train_option_trains_even_when_a_model_is_bundled(weights_file, tmp_path, fake_bundle,
                                                          monkeypatch, capsys):
    model = tmp_path / "unused.dcmodel"
    model.write_bytes(b"never read: --train skips the bundled model")
    _embed(fake_bundle, weights_file, model)

    def training_reached(*_args):
        raise RuntimeError("training reached")

    monkeypatch.setattr(selftest, "train_tiny_model", training_reached)
    assert selftest.main(["--train"]) == 1
    assert capsys.readouterr().out.strip() == (
        "self-test FAILED at training: RuntimeError: training reached")


def test_the_bundle_does_not_exclude_a_qt_module_the_app_imports():
    spec = (REPO_RESOURCES.parent / "packaging" / "desktop_captioner.spec").read_text()
    assignment = next(node for node in ast.parse(spec).body if isinstance(node, ast.Assign)
                      and getattr(node.targets[0], "id", "") == "UNUSED_QT")
    excluded = set(ast.literal_eval(assignment.value))
    package = REPO_RESOURCES.parent / "desktop_captioner"
    used = {name for source in package.rglob("*.py")
            for name in re.findall(r"PySide6\.(Qt\w+)", source.read_text(encoding="utf-8"))}
    assert used & excluded == set()
    assert {"QtWidgets", "QtGui", "QtCore"} <= used and "QtWebEngineCore" in excluded


def test_unfrozen_resources_live_inside_the_package():
    # A pip-installed (non-editable) app has no repository around it: resources are looked up
    # inside the package, where the wheel puts desktop_captioner/resources.
    import desktop_captioner

    package_dir = Path(desktop_captioner.__file__).resolve().parent
    assert bundled.resources_root() == package_dir / "resources"


def test_the_bundle_collects_exiv2_and_ships_its_gpl_notice():
    spec = (REPO_RESOURCES.parent / "packaging" / "desktop_captioner.spec").read_text()
    for call in ('collect_submodules(\n    "exiv2"', 'collect_data_files("exiv2"',
                 'copy_metadata("exiv2")', 'collect_dynamic_libs("exiv2")'):
        assert call in spec
    notices = (REPO_RESOURCES / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    assert "python-exiv2" in notices and "GPL-3.0-or-later" in notices
