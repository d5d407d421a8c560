"""Feature cache: reuse, resume after cancel, invalidation on edits, and self-repair."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_captioner.core import paths as app_paths
from desktop_captioner.core.encoder import Encoder, EncoderConfig
from desktop_captioner.core.errors import Cancelled
from desktop_captioner.core.feature_cache import cache_folder, cached_features
from desktop_captioner.core.progress import CancelToken

SIZE = 32


@pytest.fixture(scope="module")
def encoder(weights_file) -> Encoder:
    return Encoder(weights_file, EncoderConfig(image_size=SIZE))


@pytest.fixture
def images(tmp_path) -> list[Path]:
    rng = np.random.default_rng(3)
    paths = []
    for i in range(6):
        path = tmp_path / f"photo{i}.png"
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def shards(encoder: Encoder) -> list[Path]:
    return sorted(cache_folder(encoder).glob("*.npz"))


def test_second_run_extracts_nothing_and_returns_the_same_features(encoder, images):
    first = cached_features(encoder, images, batch_size=4)
    assert first.extracted == 6 and not first.errors
    second = cached_features(encoder, images, batch_size=4)
    assert second.extracted == 0
    assert second.features.keys() == set(images)
    for path in images:
        np.testing.assert_array_equal(second.features[path], first.features[path])
        assert second.features[path].dtype == np.float32 and second.features[path].shape == (512,)
    assert cache_folder(encoder).parent == app_paths.cache_dir() / "features"
    assert len(shards(encoder)) == 1  # batch shards merged after the complete run


def test_cancelled_run_resumes_where_it_stopped(encoder, images):
    token = CancelToken()

    def cancel_after_first_batch(event):
        if event.done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        cached_features(encoder, images, batch_size=2, progress=cancel_after_first_batch,
                        cancel=token)
    assert len(shards(encoder)) == 1
    resumed = cached_features(encoder, images, batch_size=2)
    assert resumed.extracted == 4
    assert cached_features(encoder, images, batch_size=2).extracted == 0


def test_edited_image_is_recomputed(encoder, images):
    before = cached_features(encoder, images).features[images[2]]
    Image.new("RGB", (40, 40), (200, 30, 30)).save(images[2])
    stat = images[2].stat()
    os.utime(images[2], ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    after = cached_features(encoder, images)
    assert after.extracted == 1
    assert not np.allclose(after.features[images[2]], before)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_arrays"])
def test_damaged_shard_is_logged_and_rebuilt(encoder, images, caplog, damage):
    cached_features(encoder, images[:3], batch_size=2)  # shard A: images 0-2
    (shard_a,) = shards(encoder)
    cached_features(encoder, images, batch_size=8)  # shard B: images 3-5, then merged
    (merged,) = shards(encoder)
    assert merged != shard_a
    data = merged.read_bytes()
    if damage == "garbage":
        merged.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated":
        merged.write_bytes(data[: len(data) // 2])
    else:
        with merged.open("wb") as handle:
            np.savez(handle, keys=np.array(["x"]), features=np.zeros((1, 3), np.float32))
    with caplog.at_level(logging.WARNING, logger="desktop_captioner.core.feature_cache"):
        rebuilt = cached_features(encoder, images)
    assert rebuilt.extracted == 6
    assert any("damaged" in record.getMessage() for record in caplog.records)
    assert cached_features(encoder, images).extracted == 0


def test_only_the_damaged_shards_entries_are_recomputed(encoder, images):
    token = CancelToken()

    def cancel_after_two_batches(event):
        if event.done >= 4:
            token.cancel()

    with pytest.raises(Cancelled):  # two batch shards on disk, not merged
        cached_features(encoder, images, batch_size=2, progress=cancel_after_two_batches,
                        cancel=token)
    first, second = shards(encoder)
    first.write_bytes(b"garbage")
    assert cached_features(encoder, images, batch_size=2).extracted == 4  # 2 damaged + 2 new


def test_unreadable_images_are_reported_not_cached(encoder, images, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    run = cached_features(encoder, [*images[:2], broken])
    assert run.extracted == 2 and set(run.errors) == {broken}
    again = cached_features(encoder, [*images[:2], broken])
    assert again.extracted == 0 and set(again.errors) == {broken}
    Image.new("RGB", (40, 40), (0, 90, 0)).save(broken)  # fixed by the user: picked up
    assert cached_features(encoder, [*images[:2], broken]).extracted == 1


def test_other_encoder_settings_use_their_own_cache(weights_file, encoder, images, tmp_path):
    cached_features(encoder, images, cache_root=tmp_path / "cache")
    bigger = Encoder(weights_file, EncoderConfig(image_size=48))
    assert cache_folder(bigger, tmp_path / "cache") != cache_folder(encoder, tmp_path / "cache")
    assert cached_features(bigger, images, cache_root=tmp_path / "cache").extracted == 6
    assert cached_features(encoder, images, cache_root=tmp_path / "cache").extracted == 0
    assert EncoderConfig(image_size=SIZE, precision="bfloat16").key(encoder.weights_md5) \
        != encoder.key
