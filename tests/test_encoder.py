"""VGG16 encoder: config/key rules, bf16 detection, shapes, batched extraction, cancel, progress."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from desktop_captioner.core import precision
from desktop_captioner.core.encoder import Encoder, EncoderConfig
from desktop_captioner.core.errors import Cancelled
from desktop_captioner.core.images import load_for_encoder
from desktop_captioner.core.progress import CancelToken

SIZE = 64  # 2x2 grid: small, yet the average really averages something


def write_images(folder: Path, count: int, size: int = 48) -> list[Path]:
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        path = folder / f"img{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def encoder(weights_file) -> Encoder:
    return Encoder(weights_file, EncoderConfig(image_size=SIZE))


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    return write_images(tmp_path_factory.mktemp("images"), 5)


def reference_features(encoder: Encoder, paths: list[Path]) -> np.ndarray:
    return encoder.encode_arrays(np.stack([load_for_encoder(p, SIZE) for p in paths]))


# --- config and precision -------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(image_size=31), dict(image_size=1025),
                                    dict(image_size=64.0), dict(precision="float16"),
                                    dict(features="grid")])
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        EncoderConfig(**kwargs)


def test_config_round_trips_and_key_tracks_everything_that_changes_features():
    config = EncoderConfig(image_size=100, precision="bfloat16")
    assert EncoderConfig.from_dict({**config.to_dict(), "future_field": 1}) == config
    key = config.key("abc")
    assert key == EncoderConfig(image_size=100, precision="bfloat16").key("abc")
    assert len({key, config.key("abd"), EncoderConfig(image_size=101, precision="bfloat16").key(
        "abc"), EncoderConfig(image_size=100, precision="float32").key("abc")}) == 4
    with pytest.raises(ValueError):
        EncoderConfig(precision="auto").key("abc")


def test_auto_precision_follows_cpu_detection(monkeypatch):
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: True)
    assert EncoderConfig(precision="auto").resolved().precision == "bfloat16"
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: False)
    assert precision.resolve_precision("auto") == "float32"
    assert precision.resolve_precision("bfloat16") == "bfloat16"
    with pytest.raises(ValueError):
        precision.resolve_precision("fp8")


def test_cpu_flags_are_read_from_every_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f\n\n"
                       "processor\t: 1\nflags\t\t: fpu amx_bf16\nbugs\t\t: spectre\n")
    assert precision._linux_cpu_flags(cpuinfo) == {"fpu", "sse2", "avx512f", "amx_bf16"}
    assert precision._linux_cpu_flags(tmp_path / "missing") == set()


def test_bf16_is_not_claimed_off_linux(monkeypatch):
    monkeypatch.setattr(precision.sys, "platform", "win32")
    precision.cpu_supports_bf16.cache_clear()
    try:
        assert precision.cpu_supports_bf16() is False
    finally:
        precision.cpu_supports_bf16.cache_clear()


# --- model --------------------------------------------------------------------------------

def test_shapes_dtypes_and_grid_average_consistency(encoder, images):
    batch = np.stack([load_for_encoder(p, SIZE) for p in images[:3]])
    grid = encoder.encode_grid(batch)
    avg = encoder.encode_arrays(batch)
    assert encoder.feature_dim == 512
    assert grid.shape == (3, 2, 2, 512) and grid.dtype == np.float32
    assert avg.shape == (3, 512) and avg.dtype == np.float32
    np.testing.assert_allclose(avg, grid.mean(axis=(1, 2)), rtol=1e-6)
    assert not np.allclose(avg[0], avg[1])
    with pytest.raises(ValueError):
        encoder.encode_arrays(batch[:, :32, :32])


def test_bfloat16_matches_float32_and_leaves_global_policy_alone(weights_file, encoder, images):
    bf16 = Encoder(weights_file, EncoderConfig(image_size=SIZE, precision="bfloat16"))
    assert keras.config.dtype_policy().name == "float32"
    assert bf16.config.precision == "bfloat16" and bf16.key != encoder.key
    batch = np.stack([load_for_encoder(p, SIZE) for p in images])
    low, full = bf16.encode_arrays(batch), encoder.encode_arrays(batch)
    assert low.dtype == np.float32
    cosine = (low * full).sum(1) / np.linalg.norm(low, axis=1) / np.linalg.norm(full, axis=1)
    assert cosine.min() >= 0.999
    assert not np.array_equal(low, full)  # it really ran in bf16


# --- extraction ---------------------------------------------------------------------------

def test_extract_keeps_order_and_reports_unreadable_images(encoder, images, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    paths = [images[0], images[1], broken, images[2], tmp_path / "gone.png", images[3]]
    results = list(encoder.extract(paths, batch_size=2))
    assert [r.path for r in results] == paths
    assert [r.error is None for r in results] == [True, True, False, True, False, True]
    assert "broken.jpg" in results[2].error and results[2].features is None
    good = [r.features for r in results if r.error is None]
    np.testing.assert_allclose(np.stack(good),
                               reference_features(encoder, [images[i] for i in (0, 1, 2, 3)]),
                               rtol=1e-4, atol=1e-5)


def test_extract_traces_once_for_all_batch_sizes(encoder, images):
    list(encoder.extract(images, batch_size=2))  # batches of 2, 2 and 1
    assert encoder._grid_fn.experimental_get_tracing_count() == 1


def test_progress_reports_every_batch(encoder, images):
    events = []
    list(encoder.extract(images, batch_size=2, progress=events.append))
    assert [(e.phase, e.done, e.total) for e in events] == [
        ("features", 0, 5), ("features", 2, 5), ("features", 4, 5), ("features", 5, 5)]
    assert events[-1].eta == 0 and events[-1].rate > 0


def test_cancel_stops_between_batches(encoder, images):
    token = CancelToken()
    yielded = []

    def cancel_after_first_batch(event):
        if event.done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        for result in encoder.extract(images, batch_size=2, progress=cancel_after_first_batch,
                                      cancel=token):
            yielded.append(result)
    assert [r.path for r in yielded] == images[:2]


def test_extract_of_nothing_yields_nothing(encoder):
    assert list(encoder.extract([])) == []
