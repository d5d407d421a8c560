"""Feature cache at COCO scale: 123,287 x 512 float32 features, mapped shards vs the old npz cache.

Both caches get the same synthetic features in batch-sized writes (a fake extractor: no VGG16,
no image files, synthetic image keys), each phase in its own Python process so its peak RSS
(``VmHWM``) is its own:
- write: every batch of ``BATCH`` stored the moment it is done, as ``cached_features`` does
  (ours: ``FeatureStore.add``, which merges full tiers as it goes; old: one ``.npz`` per batch,
  then the merge of everything into one file after the complete run);
- open (best of 3): what a fully cached run does before extracting (ours:
  ``FeatureStore.open``, ``has`` for every key, ``rows``; old: every shard loaded into a dict);
- read: one training-order pass, batches of 64 random rows gathered into an array.
The old cache is the ``.npz`` layout of ``feature_cache.py`` before the store, its three
functions reproduced below, so the baseline runs on the same data in the same run. Peak RSS of a
mapped read counts the file pages it touched (``RssFile``): the OS can drop them at will, unlike
the old cache's anonymous memory (``RssAnon``), so both are printed. The temp folder is removed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import benchkit
import numpy as np

from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.feature_store import FeatureStore

COCO_IMAGES, QUICK_IMAGES = 123_287, 20_000
DIM, BATCH, TRAIN_BATCH = 512, 16, 64
OPEN_RUNS = 3


def batch_features(batch: int, rows: int) -> np.ndarray:
    return np.random.default_rng(batch).random((rows, DIM), dtype=np.float32)


def all_keys(count: int) -> list[str]:
    return [f"{index:032x}" for index in range(count)]


def batches(count: int):
    keys = all_keys(count)
    for number, start in enumerate(range(0, count, BATCH)):
        chunk = keys[start:start + BATCH]
        yield chunk, batch_features(number, len(chunk))


def expected_row(index: int) -> np.ndarray:
    return batch_features(index // BATCH, BATCH)[index % BATCH]


# The old cache (feature_cache.py before the memory-mapped store), reduced to what it did.
def old_write_shard(folder: Path, entries: dict[str, np.ndarray]) -> Path:
    shard = folder / f"{uuid.uuid4().hex}.npz"
    with atomic_write(shard, "wb") as handle:
        np.savez(handle, keys=np.array(list(entries), dtype=str),
                 features=np.stack(list(entries.values())).astype(np.float32))
    return shard


def old_load_folder(folder: Path) -> tuple[dict[str, np.ndarray], list[Path]]:
    entries: dict[str, np.ndarray] = {}
    shards = []
    for shard in sorted(folder.glob("*.npz")):
        with np.load(shard, allow_pickle=False) as data:
            entries.update(zip(data["keys"].tolist(), data["features"]))
        shards.append(shard)
    return entries, shards


def old_compact(folder: Path, entries: dict[str, np.ndarray], shards: list[Path]) -> None:
    if len(shards) < 2:
        return
    old_write_shard(folder, entries)
    for shard in shards:
        shard.unlink(missing_ok=True)


def memory() -> dict:
    """This process's peak and current resident memory (MB) from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / 1024
    return {"peak_mb": fields["VmHWM"], "anon_mb": fields["RssAnon"],
            "file_mb": fields["RssFile"]}


def write(kind: str, folder: Path, count: int) -> dict:
    start = time.perf_counter()
    if kind == "ours":
        store = FeatureStore.open(folder, DIM)
        for keys, features in batches(count):
            store.add(keys, features)
    else:
        entries, shards = old_load_folder(folder)
        for keys, features in batches(count):
            pending = dict(zip(keys, features))
            shards.append(old_write_shard(folder, pending))
            entries.update(pending)
        old_compact(folder, entries, shards)
    seconds = time.perf_counter() - start
    files = list(folder.iterdir())
    return {"seconds": seconds, "files": len(files),
            "disk_mb": sum(path.stat().st_size for path in files) / 2**20, **memory()}


def open_cache(kind: str, folder: Path, keys: list[str]):
    """What a fully cached run does before it extracts anything; returns a row gatherer."""
    if kind == "ours":
        store = FeatureStore.open(folder, DIM)
        assert all(store.has(key) for key in keys)
        return store.rows(keys).__getitem__
    entries, _ = old_load_folder(folder)
    assert all(key in entries for key in keys)
    return lambda picked: np.stack([entries[keys[index]] for index in picked])


def read(kind: str, folder: Path, count: int) -> dict:
    keys = all_keys(count)
    opens = []
    for _ in range(OPEN_RUNS):  # the best of a few: the machine is shared and noisy
        gather = None  # the previous open's memory goes first, or the peak would count two
        start = time.perf_counter()
        gather = open_cache(kind, folder, keys)
        opens.append(time.perf_counter() - start)
    order = np.random.default_rng(0).permutation(count)
    checksum = 0.0
    start = time.perf_counter()
    for begin in range(0, count, TRAIN_BATCH):
        checksum += float(gather(order[begin:begin + TRAIN_BATCH])[:, 0].sum())
    seconds = time.perf_counter() - start
    for index in (0, count // 2, count - 1):
        np.testing.assert_array_equal(gather(np.array([index]))[0], expected_row(index))
    return {"open_s": min(opens), "read_s": seconds, "checksum": checksum, **memory()}


def main() -> None:
    def extra(parser):
        parser.add_argument("--phase", help="run one phase here: KIND:write|read:FOLDER:COUNT")
    args = benchkit.parse_args(__doc__.splitlines()[0], extra)
    if args.phase:
        kind, phase, folder, count = args.phase.split(":")
        benchkit.report_to_parent((write if phase == "write" else read)(kind, Path(folder),
                                                                        int(count)))
        return
    count = QUICK_IMAGES if args.quick else COCO_IMAGES
    benchkit.print_header(f"Feature cache, {count} x {DIM} float32 in batches of {BATCH}: "
                          f"memory-mapped shards vs the old npz cache", args.quick)
    script, results = Path(__file__), {}
    root = Path(tempfile.mkdtemp(prefix="bench_feature_cache_"))
    try:
        for kind in ("old", "ours"):
            folder = root / kind
            folder.mkdir()
            written = benchkit.run_child(script, ["--phase", f"{kind}:write:{folder}:{count}"])
            read_back = benchkit.run_child(script, ["--phase", f"{kind}:read:{folder}:{count}"])
            results[kind] = (written, read_back)
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    (old_w, old_r), (new_w, new_r) = results["old"], results["ours"]
    assert old_r["checksum"] == new_r["checksum"], "the two caches returned different rows"
    rows = []
    for name, (w, r) in (("old npz cache", (old_w, old_r)), ("mapped shards", (new_w, new_r))):
        rows.append([name, count / w["seconds"], w["peak_mb"], w["files"], w["disk_mb"],
                     r["open_s"], count / r["read_s"], r["peak_mb"], r["anon_mb"], r["file_mb"]])
    rows.append(["ratio ours/old", old_w["seconds"] / new_w["seconds"],
                 new_w["peak_mb"] / old_w["peak_mb"], "", new_w["disk_mb"] / old_w["disk_mb"],
                 new_r["open_s"] / old_r["open_s"], old_r["read_s"] / new_r["read_s"],
                 new_r["peak_mb"] / old_r["peak_mb"], new_r["anon_mb"] / old_r["anon_mb"], ""])
    benchkit.print_table(["cache", "write img/s", "write peak MB", "files", "disk MB", "open s",
                          "read img/s", "read peak MB", "read anon MB", "read file MB"], rows)
    print(f"   ratios: write speed x{rows[2][1]:.2f}, open time x{rows[2][5]:.2f}, training-order "
          f"read speed x{rows[2][6]:.2f}, read peak RSS x{rows[2][7]:.2f} "
          f"(anonymous memory x{rows[2][8]:.2f}), write peak RSS x{rows[2][2]:.2f}")


if __name__ == "__main__":
    main()
