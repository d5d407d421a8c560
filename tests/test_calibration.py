"""The precision calibration's arithmetic and its storage (no TensorFlow needed)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from desktop_captioner.core.calibration import TIE_QUANTILE, PrecisionCalibration, tie_tolerance

RNG = np.random.default_rng(0)
BIAS, SCALE = RNG.normal(0, 0.05, 8), RNG.uniform(0.95, 1.05, 8)  # the same for every image


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features of 64 images "in float32", and the same images "in bf16": per-dimension
    rescaled and shifted, as a fixed rounding of the network's weights would."""
    fp32 = np.random.default_rng(seed).gamma(2.0, 1.0, size=(64, 8)).astype(np.float32)
    return fp32, (fp32 * SCALE + BIAS).astype(np.float32)


def test_a_bias_and_scale_the_same_for_every_image_is_undone_exactly():
    calibration = PrecisionCalibration.from_features(dict(zip(("float32", "bfloat16"),
                                                              _pair(seed=0))))
    fresh_fp32, fresh_bf16 = _pair(seed=1)  # images the calibration never saw
    mapped = calibration.adapt(fresh_bf16, "bfloat16", "float32")
    assert np.abs(fresh_bf16 - fresh_fp32).max() > 0.01  # there was something to undo
    assert np.abs(mapped - fresh_fp32).max() < 1e-4
    back = calibration.adapt(mapped, "float32", "bfloat16")
    assert np.abs(back - fresh_bf16).max() < 1e-4


def test_the_same_precision_passes_through_untouched():
    fp32, bf16 = _pair()
    calibration = PrecisionCalibration.from_features({"float32": fp32, "bfloat16": bf16})
    assert calibration.adapt(bf16, "bfloat16", "bfloat16") is bf16


def test_dead_and_nearly_dead_dimensions_are_not_blown_up():
    fp32 = np.zeros((4, 3), np.float32)
    fp32[:, 0] = [1, 2, 3, 4]
    fp32[0, 1] = 1e-3  # almost always zero: its spread ratio means nothing
    bf16 = fp32.copy()
    bf16[0, 1] = 1e-6
    calibration = PrecisionCalibration.from_features({"float32": fp32, "bfloat16": bf16})
    mapped = calibration.adapt(np.array([[5.0, 1.0, 0.0]], np.float32), "bfloat16", "float32")
    assert np.isfinite(mapped).all()
    assert mapped[0, 0] == pytest.approx(5.0)
    assert mapped[0, 1] < 2.5  # scale clipped to at most 2x, not the raw ratio of ~1000
    assert mapped[0, 2] == 0.0


def test_round_trip_through_bytes_without_pickle():
    fp32, bf16 = _pair()
    calibration = replace(PrecisionCalibration.from_features({"float32": fp32, "bfloat16": bf16}),
                          tie_tolerance=0.0125)
    again = PrecisionCalibration.from_bytes(calibration.to_bytes())
    assert again.images == 64 and again.tie_tolerance == 0.0125
    for precision in ("float32", "bfloat16"):
        assert np.array_equal(again.mean[precision], calibration.mean[precision])
        assert np.array_equal(again.std[precision], calibration.std[precision])


@pytest.mark.parametrize("data", [b"not an npz", b""])
def test_unreadable_bytes_are_a_clear_error(data):
    with pytest.raises(ValueError, match="precision calibration"):
        PrecisionCalibration.from_bytes(data)


def _saved(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_file_from_before_the_tie_tolerance_never_rechecks():
    fp32, bf16 = _pair()
    old = _saved(images=np.array(64), float32_mean=fp32.mean(0), bfloat16_mean=bf16.mean(0),
                 float32_std=fp32.std(0), bfloat16_std=bf16.std(0))
    assert PrecisionCalibration.from_bytes(old).tie_tolerance == 0.0


@pytest.mark.parametrize("value", [-0.1, np.nan, np.inf])
def test_a_tie_tolerance_that_is_not_a_small_number_is_refused(value):
    fp32, bf16 = _pair()
    bad = replace(PrecisionCalibration.from_features({"float32": fp32, "bfloat16": bf16}),
                  tie_tolerance=value)
    with pytest.raises(ValueError, match="tie tolerance"):
        PrecisionCalibration.from_bytes(bad.to_bytes())


def test_the_tie_tolerance_is_twice_a_high_quantile_of_the_score_shifts():
    trained = np.linspace(-1.0, -0.2, 100)
    shifts = np.linspace(0.0, 0.099, 100)[::-1]  # 0.000 .. 0.099, one per image
    mapped = trained + np.where(np.arange(100) % 2, shifts, -shifts)  # either direction
    assert tie_tolerance(trained, mapped) == pytest.approx(
        2 * np.percentile(shifts, TIE_QUANTILE))  # the best and the runner-up each move
    assert 0.18 < tie_tolerance(trained, mapped) < 0.198
    assert tie_tolerance(trained, trained) == 0.0
    assert tie_tolerance(np.array([]), np.array([])) == 0.0


def test_arrays_that_need_pickle_are_refused():
    buffer = io.BytesIO()
    np.savez(buffer, images=np.array(3), float32_mean=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="precision calibration"):
        PrecisionCalibration.from_bytes(buffer.getvalue())


@pytest.mark.parametrize("features", [
    {"float32": np.ones((4, 3))},
    {"float32": np.ones((4, 3)), "bfloat16": np.ones((4, 2))},
    {"float32": np.ones((1, 3)), "bfloat16": np.ones((1, 3))},
])
def test_features_that_cannot_calibrate_are_refused(features):
    with pytest.raises(ValueError, match="Calibration needs"):
        PrecisionCalibration.from_features(features)


def _terabyte_header(arrays: dict) -> bytes:
    """``arrays`` saved, with the float32 mean's header declaring 10^12 floats."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)})
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, header.getvalue() + b"\0" * 32 if name == "float32_mean.npy"
                            else source.read(name))
    return out.getvalue()


def _compressed(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("save, words", [
    (_terabyte_header, "declares more data than it holds"),
    (_compressed, "compressed or encrypted"),
    (lambda arrays: _saved(**{**arrays, "float32_std": -arrays["float32_std"] - 1}),
     "values no images can give"),
    (lambda arrays: _saved(**{**arrays, "images": np.array([64, 64])}), "cannot be read"),
])
def test_arrays_that_ask_for_unbounded_memory_or_make_no_sense_are_refused(save, words):
    """Nothing is allocated from a header before it is checked against the bytes present."""
    fp32, bf16 = _pair()
    arrays = {"images": np.array(64), "float32_mean": fp32.mean(0), "bfloat16_mean": bf16.mean(0),
              "float32_std": fp32.std(0), "bfloat16_std": bf16.std(0)}
    with pytest.raises(ValueError, match=words):
        PrecisionCalibration.from_bytes(save(arrays))
