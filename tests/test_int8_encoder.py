"""The int8 encoder: features close to float32, a cached and verified quantised model, float32
when the runtime is missing, "auto"'s choice, and captions that agree with the trained
precision's on unseen scenes (64 px: conversions take seconds here)."""

from __future__ import annotations

import csv
import logging
import random
import sys
from dataclasses import replace

import numpy as np
import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import int8_encoder, precision
from desktop_captioner.core.captioner import Captioner
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.encoder import Encoder, EncoderConfig
from desktop_captioner.core.images import preprocess_vgg16
from desktop_captioner.core.modelfile import load_model_file
from desktop_captioner.core.sample_dataset import draw_scene, random_scene

SIZE = 64
#: Share of unseen scenes whose int8 caption must equal the float32-trained model's own. Measured
#: on the 60 held-out scenes of the session's 64-px model: 96.7% (28 of 60 re-made by the
#: near-tie re-check; 71.7% from mapped int8 features alone). The tiny 64-px model on random
#: VGG16 weights is far more sensitive to rounding than a 224-px one, and 60 scenes make one
#: caption 1.7%, so the floor sits below the issue's 95% (a 224-px target, measured by
#: benchmarks/bench_int8.py) yet well above what a broken mapping or re-check gives (~72%).
AGREEMENT_FLOOR = 0.90


def _scenes(count: int, seed: int = 7) -> np.ndarray:
    rng = random.Random(seed)
    return np.stack([preprocess_vgg16(np.asarray(draw_scene(random_scene(rng), SIZE, rng)))
                     for _ in range(count)])


@pytest.fixture(scope="module")
def int8_model(weights_file, tmp_path_factory) -> bytes:
    """The quantised 64-px model of ``weights_file``, converted once for this module."""
    from desktop_captioner.core.tf_runtime import keras

    model = keras.applications.VGG16(include_top=False, weights=str(weights_file),
                                     input_shape=(SIZE, SIZE, 3))
    return int8_encoder.convert_to_int8(model, SIZE)


@pytest.fixture
def cached_int8(int8_model, weights_file):
    """Put the module's converted model in this test's cache folder, as a first run would."""
    from desktop_captioner.core.weights import weights_md5

    path = int8_encoder.cached_model_path(weights_md5(weights_file), SIZE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(int8_encoder._with_trailer(int8_model))
    return path


@pytest.fixture
def conversions(monkeypatch) -> list[int]:
    """Counts calls of the converter (the real one still runs)."""
    calls: list[int] = []
    real = int8_encoder.convert_to_int8

    def counting(model, size):
        calls.append(size)
        return real(model, size)
    monkeypatch.setattr(int8_encoder, "convert_to_int8", counting)
    return calls


def test_int8_features_are_within_cosine_099_of_float32(weights_file, cached_int8):
    int8 = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    fp32 = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="float32"))
    assert int8.config.precision == "int8" and int8.feature_dim == 512
    scenes = _scenes(12)
    a, b = int8.encode_arrays(scenes), fp32.encode_arrays(scenes)
    assert a.shape == b.shape == (12, 512) and a.dtype == np.float32
    cosine = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() >= 0.99, cosine
    # the average is the grid's, as for the float encoder; batch sizes may change freely
    np.testing.assert_allclose(int8.encode_grid(scenes[:3]).mean(axis=(1, 2)), a[:3], rtol=1e-5)
    assert int8.key != fp32.key


def test_the_model_is_built_once_reused_and_rebuilt_when_damaged(weights_file, conversions,
                                                                 caplog):
    Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    [path] = list((int8_encoder.cached_model_path("x", SIZE).parent).glob("*.tflite"))
    assert conversions == [SIZE]
    first = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    assert conversions == [SIZE]  # reused, not converted again

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        rebuilt = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    assert conversions == [SIZE, SIZE]
    damaged = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert len(damaged) == 1 and str(path) in damaged[0].getMessage()
    assert rebuilt.config.precision == "int8"
    scenes = _scenes(2)
    np.testing.assert_array_equal(rebuilt.encode_arrays(scenes), first.encode_arrays(scenes))
    assert int8_encoder.read_cached_model(path) is not None  # intact again


def test_a_truncated_cache_file_is_rebuilt(weights_file, cached_int8, conversions):
    cached_int8.write_bytes(cached_int8.read_bytes()[:1000])
    assert Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8")) \
        .config.precision == "int8"
    assert conversions == [SIZE]


def test_a_missing_runtime_falls_back_to_float32_with_one_log_line(weights_file, monkeypatch,
                                                                   conversions, caplog):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with caplog.at_level(logging.WARNING):
        encoder = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    assert encoder.config.precision == "float32"
    assert conversions == []  # no minute of conversion for a runtime that is not there
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "int8 is not available" in warnings[0].getMessage()
    fp32 = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="float32"))
    scenes = _scenes(2)
    np.testing.assert_array_equal(encoder.encode_arrays(scenes), fp32.encode_arrays(scenes))


def test_a_model_the_runtime_refuses_falls_back_to_float32(weights_file, cached_int8, monkeypatch,
                                                           caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError("unsupported op")
    monkeypatch.setattr(int8_encoder, "interpreter_class", lambda: refuse)
    with caplog.at_level(logging.WARNING):
        encoder = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    assert encoder.config.precision == "float32"
    assert sum(r.levelno >= logging.WARNING for r in caplog.records) == 1


def test_a_failed_conversion_falls_back_to_float32(weights_file, monkeypatch, caplog):
    def fail(model, size):
        raise RuntimeError("converter crashed")
    monkeypatch.setattr(int8_encoder, "convert_to_int8", fail)
    with caplog.at_level(logging.WARNING):
        encoder = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="int8"))
    assert encoder.config.precision == "float32"
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "converter crashed" in warning.getMessage()
    assert not int8_encoder.cached_model_path("x", SIZE).parent.exists() or not any(
        int8_encoder.cached_model_path("x", SIZE).parent.iterdir())


@pytest.mark.parametrize("bf16, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_never_picks_int8_and_int8_is_chosen_by_name(monkeypatch, bf16, expected):
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: bf16)
    assert precision.resolve_precision("auto") == expected
    assert EncoderConfig(precision="auto").resolved().precision == expected
    assert precision.resolve_precision("int8") == "int8"
    # the decoder has no int8 form
    assert precision.resolve_precision("auto", allow_int8=False) == expected
    assert precision.resolve_precision("int8", allow_int8=False) == "float32"


def test_calibration_round_trips_int8_and_reads_files_without_it():
    from desktop_captioner.core.calibration import PrecisionCalibration

    rng = np.random.default_rng(0)
    rows = {p: rng.normal(size=(8, 5)).astype(np.float32) for p in ("float32", "bfloat16", "int8")}
    calibration = replace(PrecisionCalibration.from_features(rows), tie_tolerance=0.01,
                          int8_tie_tolerance=0.03)
    again = PrecisionCalibration.from_bytes(calibration.to_bytes())
    assert again.covers("int8") and again.int8_tie_tolerance == 0.03
    np.testing.assert_array_equal(again.mean["int8"], calibration.mean["int8"])
    assert again.tolerance("int8", "float32") == again.tolerance("bfloat16", "int8") == 0.03
    assert again.tolerance("bfloat16", "float32") == 0.01

    old = PrecisionCalibration.from_bytes(PrecisionCalibration.from_features(
        {p: rows[p] for p in ("float32", "bfloat16")}).to_bytes())
    assert not old.covers("int8") and old.covers("bfloat16") and old.int8_tie_tolerance == 0.0
    with pytest.raises(ValueError, match="Calibration needs"):
        PrecisionCalibration.from_features({p: rows[p] for p in ("float32", "int8")})


@pytest.fixture(scope="module")
def held_out(trained_run) -> list:
    dataset = load_dataset(trained_run.dataset)
    return [dataset.image_path(name)
            for split in ("val", "test") for name in dataset.splits[split]]


def test_int8_captions_agree_with_the_trained_precisions(trained_model, weights_file, held_out,
                                                         cached_int8):
    calibration = load_model_file(trained_model).calibration
    assert calibration.covers("int8") and calibration.covers("bfloat16")
    assert 0.0 < calibration.int8_tie_tolerance < 0.5
    trained = Captioner.load(trained_model, weights=weights_file, precision="float32")
    int8 = Captioner.load(trained_model, weights=weights_file, precision="int8")
    assert int8.precision == "int8"
    reference = [r.caption for r in trained.caption(held_out, batch_size=32)]
    found = [r.caption for r in int8.caption(held_out, batch_size=32)]
    agree = np.mean([a == b for a, b in zip(reference, found)])

    int8.model.calibration = replace(calibration, int8_tie_tolerance=0.0)  # mapping only
    mapped_only = np.mean([a == b.caption for a, b in zip(
        reference, int8.caption(held_out, batch_size=32))])
    print(f"int8/float32 identical captions: {agree:.1%} of {len(held_out)} "
          f"({int8.rechecked} re-checked); {mapped_only:.1%} without the re-check")
    assert agree >= AGREEMENT_FLOOR and agree >= mapped_only


def test_models_without_int8_statistics_caption_in_int8_unmapped(trained_model, weights_file,
                                                                 cached_int8, tmp_path, caplog,
                                                                 monkeypatch):
    from desktop_captioner.core import captioner as captioner_module

    model = load_model_file(trained_model)
    old = replace(model.calibration, mean={p: model.calibration.mean[p]
                                           for p in ("float32", "bfloat16")},
                  std={p: model.calibration.std[p] for p in ("float32", "bfloat16")})
    monkeypatch.setattr(captioner_module, "load_model_file",
                        lambda path: replace(model, calibration=old))
    with caplog.at_level(logging.WARNING):
        captioner = Captioner.load(trained_model, weights=weights_file, precision="int8")
    assert captioner.precision == "int8"
    assert any("no int8 precision calibration" in r.getMessage() for r in caplog.records)
    assert all(r.ok for r in captioner.caption(_paths_of(tmp_path, 2), batch_size=2))



def _paths_of(folder, count: int) -> list:
    rng = random.Random(3)
    paths = []
    for index in range(count):
        path = folder / f"scene{index}.jpg"
        draw_scene(random_scene(rng), SIZE, rng).save(path)
        paths.append(path)
    return paths


def test_cli_caption_in_int8_end_to_end(trained_model, weights_file, cached_int8, tmp_path):
    folder = tmp_path / "album"
    folder.mkdir()
    _paths_of(folder, 3)
    out_csv = tmp_path / "out.csv"
    assert main(["caption", str(folder), "--model", str(trained_model), "--weights",
                 str(weights_file), "--precision", "int8", "--csv", str(out_csv)]) == 0
    with out_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and all(row["status"] == "ok" and row["caption"] for row in rows)
