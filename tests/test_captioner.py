"""The Captioner on the session's trained model: order, batches, progress, errors, cancel."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from desktop_captioner.core import modelfile
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.errors import Cancelled, ModelFileError, WeightsError
from desktop_captioner.core.progress import CancelToken
from tests.support.model_files import rewritten_model


@pytest.fixture(scope="module")
def captioner(trained_model, weights_file):
    from desktop_captioner.core.captioner import Captioner

    return Captioner.load(trained_model, weights=weights_file)


@pytest.fixture(scope="module")
def test_images(trained_run) -> list[Path]:
    dataset = load_dataset(trained_run.dataset)
    return [dataset.image_path(name) for name in dataset.splits["test"]]


def test_attributes_for_the_gui(captioner, trained_model):
    assert captioner.name == trained_model.stem
    assert captioner.model_info == modelfile.read_manifest(trained_model)
    assert captioner.vocab_size == captioner.model.vocab.size > 4


def test_results_in_input_order_with_errors_in_place(captioner, test_images, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(test_images[0].read_bytes()[:100])
    missing = tmp_path / "missing.png"
    paths = [test_images[0], broken, *test_images[1:4], missing, test_images[4]]
    reports = []
    results = list(captioner.caption(paths, batch_size=3, progress=reports.append))

    assert [r.path for r in results] == paths
    assert [r.status for r in results] == ["ok", "error", "ok", "ok", "ok", "error", "ok"]
    assert all(r.caption and r.score is not None and r.score < 0 for r in results if r.ok)
    assert all(r.error and not r.caption and r.score is None for r in results if not r.ok)
    assert [(p.phase, p.done, p.total) for p in reports] == [
        ("caption", 0, 7), ("caption", 3, 7), ("caption", 6, 7), ("caption", 7, 7)]


def test_same_image_same_caption_regardless_of_batching(captioner, test_images):
    one_by_one = [r.caption for r in captioner.caption(test_images[:5], batch_size=1)]
    together = [r.caption for r in captioner.caption(test_images[:5], batch_size=5)]
    assert one_by_one == together


def test_cancel_stops_between_batches(captioner, test_images):
    cancel = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for result in captioner.caption(test_images[:6], batch_size=2, cancel=cancel):
            seen.append(result)
            cancel.cancel()
    assert [r.path for r in seen] == test_images[:2] and all(r.ok for r in seen)


def test_precision_override_gives_the_same_captions(captioner, trained_model, weights_file,
                                                   test_images):
    from desktop_captioner.core.captioner import Captioner

    bf16 = Captioner.load(trained_model, weights=weights_file, precision="bfloat16")
    assert bf16.encoder.config.precision == "bfloat16"
    images = test_images[:12]
    same = sum(a.caption == b.caption for a, b in
               zip(captioner.caption(images), bf16.caption(images)))
    assert same >= len(images) - 1


def test_other_vgg16_weights_are_refused(trained_model, tmp_path):
    from desktop_captioner.core.captioner import Captioner
    from tests.support.fake_vgg16 import write_fake_vgg16_weights

    other = write_fake_vgg16_weights(tmp_path / "other.h5", seed=1)
    with pytest.raises(WeightsError, match="was trained with"):
        Captioner.load(trained_model, weights=other)


def test_weights_that_do_not_fit_the_decoder_settings_are_refused(trained_model, tmp_path):
    bad = tmp_path / "bad.dcmodel"
    with zipfile.ZipFile(trained_model) as source, zipfile.ZipFile(bad, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == modelfile.MANIFEST_MEMBER:
                manifest = json.loads(data)
                manifest["decoder"]["hidden_dim"] += 8
                data = json.dumps(manifest).encode()
            target.writestr(name, data)
    with pytest.raises(ModelFileError, match="do not fit"):
        modelfile.load_model_file(bad)


def test_loaded_model_is_independent_of_the_file(trained_model, tmp_path):
    copy = tmp_path / "copy.dcmodel"
    shutil.copy(trained_model, copy)
    loaded = modelfile.load_model_file(copy)
    copy.unlink()
    assert loaded.vocab.size == loaded.decoder_config.vocab_size
    assert loaded.encoder_config.image_size == 64 and len(loaded.weights_md5) == 32


def _without_calibration(model: Path, out: Path) -> Path:
    """The same model as a file written before precision calibration existed."""
    return rewritten_model(model, out, lambda members: members.pop(modelfile.CALIBRATION_MEMBER))


def test_trained_models_carry_a_calibration_and_default_to_auto(captioner, trained_model):
    from desktop_captioner.core.calibration import CALIBRATION_IMAGES
    from desktop_captioner.core.precision import resolve_precision

    calibration = modelfile.load_model_file(trained_model).calibration
    assert calibration is not None and calibration.images == CALIBRATION_IMAGES
    assert captioner.encoder.config.precision == resolve_precision("auto")


def test_models_without_a_calibration_keep_their_trained_precision(trained_model, weights_file,
                                                                   tmp_path, caplog):
    from desktop_captioner.core.captioner import Captioner

    old = _without_calibration(trained_model, tmp_path / "old.dcmodel")
    trained = modelfile.read_manifest(old)["encoder"]["precision"]
    assert modelfile.load_model_file(old).calibration is None
    assert Captioner.load(old, weights=weights_file).encoder.config.precision == trained
    other = "bfloat16" if trained == "float32" else "float32"
    with caplog.at_level("WARNING"):
        forced = Captioner.load(old, weights=weights_file, precision=other)
    assert forced.encoder.config.precision == other
    assert "no precision calibration" in caplog.text


def test_a_calibration_that_does_not_fit_the_decoder_is_refused(trained_model, tmp_path):
    import numpy as np

    from desktop_captioner.core.calibration import PrecisionCalibration

    rows = np.arange(28, dtype=np.float32).reshape(4, 7)  # 7 features; the decoder takes 512
    wrong = PrecisionCalibration.from_features({"float32": rows, "bfloat16": rows})
    bad = rewritten_model(trained_model, tmp_path / "bad.dcmodel", lambda members: members.update(
        {modelfile.CALIBRATION_MEMBER: wrong.to_bytes()}))
    with pytest.raises(ModelFileError, match="calibration does not fit"):
        modelfile.load_model_file(bad)


def test_training_stores_a_tie_tolerance(trained_model):
    calibration = modelfile.load_model_file(trained_model).calibration
    assert 0.0 < calibration.tie_tolerance < 0.5


def test_near_ties_are_re_made_from_trained_precision_features(captioner, trained_model,
                                                               weights_file, test_images,
                                                               tmp_path):
    """With every caption counted as a near tie, the other precision's captions must be the
    trained precision's exactly; with none, nothing is re-made. An unreadable image is still
    its own error row."""
    from dataclasses import replace

    from desktop_captioner.core.captioner import Captioner

    trained = modelfile.read_manifest(trained_model)["encoder"]["precision"]
    other = "bfloat16" if trained == "float32" else "float32"
    native = Captioner.load(trained_model, weights=weights_file, precision=trained)
    mapped = Captioner.load(trained_model, weights=weights_file, precision=other)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    images = [*test_images[:20], broken]
    expected = [r.caption for r in native.caption(images, batch_size=8)]

    mapped.model.calibration = replace(mapped.model.calibration, tie_tolerance=float("inf"))
    assert [r.caption for r in mapped.caption(images, batch_size=8)] == expected
    assert mapped.rechecked == 20

    mapped.model.calibration = replace(mapped.model.calibration, tie_tolerance=0.0)
    mapped.rechecked = 0
    results = list(mapped.caption(images, batch_size=8))
    assert mapped.rechecked == 0 and not results[-1].ok and broken.name in results[-1].error

    native.model.calibration = replace(native.model.calibration, tie_tolerance=float("inf"))
    list(native.caption(images, batch_size=8))
    assert native.rechecked == 0  # already the trained precision: nothing to re-check
