"""Shared fixtures: hermetic app folders, offscreen Qt, and a seeded VGG16 weights file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.support.fake_vgg16 import write_fake_vgg16_weights
from tests.support.photos import make_photo


@pytest.fixture(autouse=True)
def app_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own app folders (cache, config, data, log): no test sees another's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DESKTOP_CAPTIONER_HOME", str(home))
    monkeypatch.delenv("DESKTOP_CAPTIONER_WEIGHTS", raising=False)
    return home


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory) -> Path:
    """A seeded random-init VGG16 notop file in the official legacy HDF5 layout."""
    return write_fake_vgg16_weights(tmp_path_factory.mktemp("weights") / "vgg16_notop.h5", seed=0)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, weights_file):
    """One ``train`` run on the generated 64-px shapes dataset
    (see tests/support/trained_model.py)."""
    from tests.support.trained_model import train_sample_model

    return train_sample_model(tmp_path_factory.mktemp("trained"), weights_file)


@pytest.fixture(scope="session")
def trained_model(trained_run) -> Path:
    """A trained ``.dcmodel`` (BLEU-4 >= 0.8 on its held-out scenes) made with ``weights_file``."""
    assert trained_run.exit_code == 0, trained_run.stderr[-2000:]
    return trained_run.model


@pytest.fixture
def album(tmp_path) -> Path:
    """Two small photos in a folder (test modules that need other photos define their own)."""
    folder = tmp_path / "album"
    folder.mkdir()
    for index, name in enumerate(("a.jpg", "b.png")):
        make_photo(folder / name, seed=index)
    return folder
