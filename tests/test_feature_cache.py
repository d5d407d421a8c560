"""Feature cache: reuse, resume after cancel, invalidation on edits, self-repair, bounded
compaction, concurrent runs, the ``extract`` hook and memory-mapped results."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_captioner.core import feature_store
from desktop_captioner.core import paths as app_paths
from desktop_captioner.core.encoder import Encoder, EncoderConfig, FeatureResult
from desktop_captioner.core.errors import Cancelled
from desktop_captioner.core.feature_cache import cache_folder, cached_features, image_key
from desktop_captioner.core.feature_rows import FeatureRows
from desktop_captioner.core.feature_store import SHARD_SUFFIX
from desktop_captioner.core.progress import CancelToken, RateMeter

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


def shards(encoder: Encoder, cache_root: Path | None = None) -> list[Path]:
    return sorted(cache_folder(encoder, cache_root).glob(f"*{SHARD_SUFFIX}"))


def fake_features(path: Path) -> np.ndarray:
    """Stand-in features that depend on the path's name only (no VGG16)."""
    seed = zlib.crc32(path.name.encode())
    return np.random.default_rng(seed).normal(size=512).astype(np.float32)


class FakeExtract:
    """``Encoder.extract``'s contract (batches in order, progress, cancel between batches),
    counting the images it was asked for."""

    def __init__(self) -> None:
        self.asked: list[Path] = []

    def __call__(self, paths, batch_size=16, progress=None, cancel=None):
        paths = [Path(p) for p in paths]
        meter = RateMeter("features", len(paths))
        for start in range(0, len(paths), batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for path in paths[start:start + batch_size]:
                self.asked.append(path)
                yield (FeatureResult(path, fake_features(path)) if path.exists()
                       else FeatureResult(path, None, f"{path.name} is missing."))
            if progress is not None:
                progress(meter.progress(min(start + batch_size, len(paths))))


def many_files(folder: Path, count: int) -> list[Path]:
    """``count`` tiny files (the fake extractor never decodes them)."""
    folder.mkdir(exist_ok=True)
    paths = [folder / f"img{i:05d}.jpg" for i in range(count)]
    for path in paths:
        path.write_bytes(path.name.encode())
    return paths


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
    assert len(shards(encoder)) == 2  # one shard per batch (merged once a tier is full)


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


@pytest.mark.parametrize("damage", ["garbage", "truncated", "keys_only", "wrong_arrays"])
def test_damaged_shard_is_logged_and_rebuilt(encoder, images, caplog, damage):
    cached_features(encoder, images, batch_size=8)
    (shard,) = shards(encoder)
    data = shard.read_bytes()
    if damage == "garbage":
        shard.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated":
        shard.write_bytes(data[: len(data) - 100])
    elif damage == "keys_only":
        shard.write_bytes(data[:300])
    else:
        with shard.open("wb") as handle:
            np.lib.format.write_array(handle, np.array([b"x" * 32]))
            np.lib.format.write_array(handle, np.zeros((1, 3), np.float32))
    with caplog.at_level(logging.WARNING, logger="desktop_captioner.core.feature_store"):
        rebuilt = cached_features(encoder, images)
    assert rebuilt.extracted == 6
    assert any("damaged" in record.getMessage() for record in caplog.records)
    assert not shard.exists()
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


def test_results_are_memory_mapped_rows_of_the_cache(encoder, tmp_path):
    paths = many_files(tmp_path / "many", 40)
    for _run in (1, 2):  # computed, then read back
        found = cached_features(encoder, paths, batch_size=8, extract=FakeExtract())
        rows = found.features.rows(paths)
        assert isinstance(rows, FeatureRows) and rows.shape == (40, 512)
        folder = cache_folder(encoder)
        assert rows.blocks and all(isinstance(block, np.memmap)
                                   and Path(block.filename).parent == folder
                                   for block in rows.blocks)
        assert sum(len(block) for block in rows.blocks) == 40  # no copy of any row in memory
        np.testing.assert_array_equal(rows[[3, 39, 0]],
                                      np.stack([fake_features(paths[i]) for i in (3, 39, 0)]))
        np.testing.assert_array_equal(found.features[paths[7]], fake_features(paths[7]))


def test_extract_hook_fills_the_cache_the_encoder_then_reads(encoder, tmp_path):
    paths = many_files(tmp_path / "many", 10)
    extract, reports = FakeExtract(), []
    found = cached_features(encoder, [*paths, tmp_path / "gone.jpg"], batch_size=4,
                            extract=extract, progress=reports.append)
    assert extract.asked == [*paths, tmp_path / "gone.jpg"]
    assert found.extracted == 10 and set(found.errors) == {tmp_path / "gone.jpg"}
    assert reports[-1].done == reports[-1].total == 11
    assert sorted(len(np.load(path)) for path in shards(encoder)) == [2, 4, 4]  # one per batch
    again = cached_features(encoder, paths)  # the real encoder: nothing left to extract
    assert again.extracted == 0
    np.testing.assert_array_equal(again.features[paths[9]], fake_features(paths[9]))


def test_an_extractor_that_dies_keeps_the_finished_batches(encoder, tmp_path):
    paths = many_files(tmp_path / "many", 10)

    def dies_in_third_batch(paths_, batch_size, progress=None, cancel=None):
        for index, result in enumerate(FakeExtract()(paths_, batch_size, progress, cancel)):
            if index == 2 * batch_size:
                raise RuntimeError("power cut")
            yield result

    with pytest.raises(RuntimeError):
        cached_features(encoder, paths, batch_size=3, extract=dies_in_third_batch)
    resumed = FakeExtract()
    assert cached_features(encoder, paths, batch_size=3, extract=resumed).extracted == 4
    assert resumed.asked == paths[6:]


def test_stale_entry_is_not_returned_after_the_image_changes(encoder, tmp_path):
    paths = many_files(tmp_path / "many", 3)
    cached_features(encoder, paths, extract=FakeExtract())
    paths[1].write_bytes(b"new contents")
    os.utime(paths[1], ns=(1, 2_000_000_000))

    def changed(paths_, batch_size, progress=None, cancel=None):
        for path in paths_:
            yield FeatureResult(path, np.full(512, 7.0, np.float32))

    after = cached_features(encoder, paths, extract=changed)
    assert after.extracted == 1
    np.testing.assert_array_equal(after.features[paths[1]], np.full(512, 7.0, np.float32))
    np.testing.assert_array_equal(after.features[paths[0]], fake_features(paths[0]))


def test_compaction_is_bounded_and_never_rewrites_full_shards(encoder, tmp_path, monkeypatch):
    monkeypatch.setattr(feature_store, "FANOUT", 2)
    monkeypatch.setattr(feature_store, "TARGET_ROWS", 8)
    written = []
    real_write = feature_store.write_shard
    monkeypatch.setattr(feature_store, "write_shard",
                        lambda folder, keys, features: written.append(len(keys))
                        or real_write(folder, keys, features))
    paths = many_files(tmp_path / "many", 40)
    cached_features(encoder, paths[:30], batch_size=1, extract=FakeExtract())
    # Rows move up one tier per rewrite: 1 -> 2 -> 4 -> 8 rows, so each is written <= 4 times.
    assert sum(written) <= 4 * 30
    rows = sorted(len(np.load(path)) for path in shards(encoder))
    full = {path: path.stat().st_mtime_ns for path in shards(encoder) if len(np.load(path)) >= 8}
    assert rows == [2, 4, 8, 8, 8]  # 30 = 8 + 8 + 8 + 4 + 2: one small shard per tier
    found = cached_features(encoder, paths, batch_size=1, extract=FakeExtract())
    assert found.extracted == 10
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in full.items())
    np.testing.assert_array_equal(found.features.rows(paths)[:],
                                  np.stack([fake_features(path) for path in paths]))


def test_an_old_npz_cache_is_converted_once(encoder, images):
    folder = cache_folder(encoder)
    folder.mkdir(parents=True)
    first = cached_features(encoder, images, batch_size=8)
    (shard,) = shards(encoder)
    shard.unlink()
    with (folder / "old.npz").open("wb") as handle:
        np.savez(handle, keys=np.array([image_key(path) for path in images[:4]], dtype=str),
                 features=np.stack([first.features[path] for path in images[:4]]))
    converted = cached_features(encoder, images)
    assert converted.extracted == 2 and not list(folder.glob("*.npz"))
    np.testing.assert_array_equal(converted.features[images[0]], first.features[images[0]])


WRITER = """
import sys
import numpy as np
from pathlib import Path
from desktop_captioner.core import feature_store
feature_store.FANOUT, feature_store.TARGET_ROWS = 2, 32
folder, writer = Path(sys.argv[1]), int(sys.argv[2])
store = feature_store.FeatureStore.open(folder, 8)
for batch in range(60):
    if batch % 10 == 9:  # see the other run's shards, and merge them too
        store = feature_store.FeatureStore.open(folder, 8)
    mine = [f"w{writer}b{batch:03d}i{i}".ljust(32, "0") for i in range(3)]
    shared = f"sharedb{batch:03d}".ljust(32, "0")
    keys = [*mine, shared] if writer else [shared, *mine]
    store.add(keys, np.stack([np.full(8, sum(map(ord, key)), np.float32) for key in keys]))
"""


def test_two_runs_writing_at_once_lose_and_damage_nothing(tmp_path, caplog):
    folder = tmp_path / "shared_cache"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH",
                                                                                   "")])}
    runs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(writer)], env=env)
            for writer in (0, 1)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    with caplog.at_level(logging.WARNING, logger="desktop_captioner.core.feature_store"):
        store = feature_store.FeatureStore.open(folder, 8)
    assert not caplog.records and not list(folder.glob(".*.tmp"))
    keys = [f"w{writer}b{batch:03d}i{i}".ljust(32, "0")
            for writer in (0, 1) for batch in range(60) for i in range(3)]
    keys += [f"sharedb{batch:03d}".ljust(32, "0") for batch in range(60)]
    assert all(store.has(key) for key in keys)
    np.testing.assert_array_equal(
        store.rows(keys)[:], np.stack([np.full(8, sum(map(ord, key)), np.float32) for key in keys]))
