"""VGG16 weights: lookup order, validation of the HDF5 layout, md5 memo, and the `weights`
command."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from desktop_captioner.cli import main, weights_cmd
from desktop_captioner.core import bundled, weights
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.weights import (
    WEIGHTS_ENV,
    WEIGHTS_FILENAME,
    WeightsLocation,
    cache_weights_path,
    find_weights,
    resolve_weights,
    validate_weights_file,
    weights_md5,
)
from tests.support.fake_vgg16 import vgg16_layers

REAL_RESOURCES_ROOT = bundled.resources_root


@pytest.fixture(autouse=True)
def no_shipped_weights(tmp_path, monkeypatch) -> Path:
    """Point the shipped-resources folder at an empty place: a real bundle must not leak in."""
    root = tmp_path / "shipped_resources"
    monkeypatch.setattr(bundled, "resources_root", lambda: root)
    return root


def write_layout(path: Path, shapes: dict[str, tuple] | None = None,
                 extra_layers: dict[str, tuple] | None = None) -> Path:
    """A legacy-layout weights file with the given kernel shapes (datasets left unallocated, so
    the file stays tiny however big the shapes)."""
    shapes = shapes if shapes is not None else {
        name: (3, 3, cin, cout) for name, cin, cout in vgg16_layers()}
    layers = {**shapes, **(extra_layers or {})}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([name.encode() for name in ["input_1", *layers]])
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for name, kernel in layers.items():
            group = f.create_group(name)
            group.attrs["weight_names"] = np.array([f"{name}_W_1:0".encode(),
                                                    f"{name}_b_1:0".encode()])
            group.create_dataset(f"{name}_W_1:0", shape=kernel, dtype="f4")
            group.create_dataset(f"{name}_b_1:0", shape=kernel[-1:], dtype="f4")
    return path


def test_official_file_constants():
    assert weights.WEIGHTS_URL.endswith("/keras-applications/vgg16/" + WEIGHTS_FILENAME)
    assert weights.WEIGHTS_FILENAME == "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert weights.WEIGHTS_MD5 == "6d6bbae143d832006294945121d1f1fc"
    assert weights.WEIGHTS_SIZE == 58_889_256
    assert WEIGHTS_ENV == "DESKTOP_CAPTIONER_WEIGHTS"


# --- validation --------------------------------------------------------------------------------

def test_fixture_and_exact_layout_pass_validation(weights_file, tmp_path):
    validate_weights_file(weights_file)
    validate_weights_file(write_layout(tmp_path / "layout.h5"))


def assert_not_vgg16(path: Path, phrase: str) -> None:
    with pytest.raises(WeightsError) as info:
        validate_weights_file(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a VGG16 'notop' weights file: ")
    assert phrase in message and "\n" not in message


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_text("not weights at all\n")
    assert_not_vgg16(path, "not an HDF5 file")


def test_random_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("dense/kernel", data=np.random.default_rng(0).normal(size=(8, 4)))
    assert_not_vgg16(path, "no 'layer_names'")


def test_missing_layer_is_refused(tmp_path):
    shapes = {name: (3, 3, cin, cout) for name, cin, cout in vgg16_layers()}
    del shapes["block4_conv3"]
    assert_not_vgg16(write_layout(tmp_path / "short.h5", shapes), "block4_conv3")


def test_wrong_kernel_shape_is_refused(tmp_path):
    shapes = {name: (3, 3, cin, cout) for name, cin, cout in vgg16_layers()}
    shapes["block2_conv1"] = (3, 3, 64, 96)
    assert_not_vgg16(write_layout(tmp_path / "wide.h5", shapes), "block2_conv1")


def test_file_with_the_classifier_top_is_refused(tmp_path):
    path = write_layout(tmp_path / "full.h5", extra_layers={"fc1": (25088, 4096)})
    assert_not_vgg16(path, "fc1")


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        validate_weights_file(tmp_path / "nothing.h5")
    with pytest.raises(WeightsError, match="folder"):
        validate_weights_file(tmp_path)


# --- lookup ------------------------------------------------------------------------------------

def copy_to(source: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest


def test_lookup_order(weights_file, tmp_path, monkeypatch, no_shipped_weights):
    assert find_weights() is None
    cached = copy_to(weights_file, cache_weights_path())
    assert find_weights() == WeightsLocation(cached, "cache")
    shipped = copy_to(weights_file, no_shipped_weights / bundled.WEIGHTS_RESOURCE)
    assert find_weights() == WeightsLocation(shipped, "bundled")
    monkeypatch.setenv(WEIGHTS_ENV, str(weights_file))
    assert find_weights() == WeightsLocation(weights_file, "env")
    explicit = copy_to(weights_file, tmp_path / "mine.h5")
    assert find_weights(explicit) == WeightsLocation(explicit, "explicit")
    assert find_weights(str(explicit)).path == explicit


def test_frozen_app_finds_weights_in_its_bundle(weights_file, tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "resources_root", REAL_RESOURCES_ROOT)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert find_weights() is None
    shipped = copy_to(weights_file, tmp_path / "_internal" / "resources" / "weights"
                      / WEIGHTS_FILENAME)
    assert find_weights() == WeightsLocation(shipped, "bundled")


def test_named_paths_that_do_not_exist_are_errors_not_fallbacks(weights_file, tmp_path,
                                                                 monkeypatch):
    copy_to(weights_file, cache_weights_path())
    with pytest.raises(WeightsError, match="does not exist: .*typo.h5"):
        find_weights(tmp_path / "typo.h5")
    with pytest.raises(WeightsError, match="folder"):
        find_weights(tmp_path)
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "moved.h5"))
    with pytest.raises(WeightsError, match=f"named by {WEIGHTS_ENV} does not exist"):
        find_weights()


def test_resolve_without_download_says_where_to_put_the_file():
    with pytest.raises(WeightsError) as info:
        resolve_weights(download=False)
    message = str(info.value)
    assert str(cache_weights_path()) in message
    assert "--weights FILE" in message and WEIGHTS_ENV in message and weights.WEIGHTS_URL in message


def test_resolve_downloads_into_the_cache_when_nothing_is_found(weights_file, monkeypatch):
    calls = []

    def fake_download(dest=None, *, progress=None, cancel=None, **_):
        calls.append((progress, cancel))
        return copy_to(weights_file, cache_weights_path())

    monkeypatch.setattr(weights, "download_weights", fake_download)
    token, report = CancelToken(), print
    assert resolve_weights(progress=report, cancel=token) == cache_weights_path()
    assert calls == [(report, token)]
    assert resolve_weights() == cache_weights_path()  # found in the cache: no second download
    assert len(calls) == 1


def test_resolve_validates_the_file_it_found(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(WeightsError, match="is not a VGG16 'notop' weights file"):
        resolve_weights(bad)


# --- md5 ---------------------------------------------------------------------------------------

def test_weights_md5_is_memoised_until_the_file_changes(tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(b"first version")
    first = weights_md5(path)
    assert first == hashlib.md5(b"first version").hexdigest()
    hits = weights._md5_of.cache_info().hits
    assert weights_md5(tmp_path / "." / "w.h5") == first
    assert weights._md5_of.cache_info().hits == hits + 1
    path.write_bytes(b"second version, longer")
    os.utime(path, ns=(1, 1))
    assert weights_md5(path) == hashlib.md5(b"second version, longer").hexdigest()
    with pytest.raises(WeightsError, match="cannot be read"):
        weights_md5(tmp_path / "missing.h5")


# --- the `weights` command ---------------------------------------------------------------------

def test_command_shows_the_explicit_file(weights_file, capsys):
    assert main(["weights", "--weights", str(weights_file)]) == 0
    out = capsys.readouterr().out
    assert str(weights_file) in out and "explicit" in out
    assert weights_md5(weights_file) in out and "not the official" in out


def test_command_shows_the_env_file(weights_file, capsys, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(weights_file))
    assert main(["weights"]) == 0
    assert f"named by {WEIGHTS_ENV}" in capsys.readouterr().out


def test_command_without_weights_explains_and_exits_2(capsys):
    assert main(["weights"]) == 2
    err = capsys.readouterr().err
    assert "No VGG16 weights file was found" in err and "--download" in err
    assert str(cache_weights_path()) in err and len(err.strip().splitlines()) == 1


def test_command_refuses_a_file_that_is_not_vgg16(tmp_path, capsys):
    path = tmp_path / "notes.h5"
    path.write_text("hello")
    assert main(["weights", "--weights", str(path)]) == 2
    assert "is not a VGG16 'notop' weights file" in capsys.readouterr().err


def test_command_download_fetches_into_the_cache_with_progress(weights_file, capsys, monkeypatch):
    def fake_download(*, progress, **_):
        from desktop_captioner.core.progress import Progress
        progress(Progress("download", 50_000_000, 58_889_256, 1e6, 9.0))
        progress(Progress("download", 58_889_256, 58_889_256, 1e6, 0.0))
        return copy_to(weights_file, cache_weights_path())

    monkeypatch.setattr(weights_cmd, "download_weights", fake_download)
    assert main(["weights", "--download"]) == 0
    captured = capsys.readouterr()
    assert str(cache_weights_path()) in captured.out and "cache" in captured.out
    assert "58889/58889" in captured.err  # progress bar in kilobytes on stderr
