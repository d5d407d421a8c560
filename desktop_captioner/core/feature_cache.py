"""On-disk cache of dataset features, so VGG16 runs over each image once, not once per training.

Layout: ``<cache>/features/<encoder key>/*.shard`` (``core/feature_store.py``). The encoder key
covers the encoder config and the weights checksum; inside, each entry is keyed by the image's
absolute path, byte size and modification time, so an edited or replaced photo is recomputed.
Every batch is written as its own shard the moment it is done: an interrupted run (cancel, crash,
power cut) keeps what it finished and resumes there. A shard that cannot be read is logged,
deleted, and its images simply count as not cached. Small shards are merged in bounded steps, so
the folder stays a few dozen files without the whole cache being rewritten. Features come back
memory-mapped: a 123k-image dataset is never in memory at once. Caches of the old ``.npz``
format are converted once, on first use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from desktop_captioner.core import paths as app_paths
from desktop_captioner.core.encoder import Encoder, FeatureResult
from desktop_captioner.core.feature_rows import FeatureMap
from desktop_captioner.core.feature_store import FeatureStore
from desktop_captioner.core.progress import CancelToken, ProgressCallback

Extract = Callable[..., Iterator[FeatureResult]]
"""``Encoder.extract``'s signature: ``(paths, batch_size, progress=, cancel=)`` yielding one
``FeatureResult`` per path, batch by batch."""


@dataclass
class FeatureSet:
    """Features of the readable images; unreadable ones are listed, not cached (retried later)."""

    features: FeatureMap[Path]  # path -> float32 row, read from the memory-mapped cache
    errors: dict[Path, str] = field(default_factory=dict)
    extracted: int = 0  # features computed by this call; 0 when all came from the cache


def cache_folder(encoder: Encoder, cache_root: Path | None = None) -> Path:
    """Where this encoder's features live (``cache_root`` defaults to the app's cache folder)."""
    root = cache_root if cache_root is not None else app_paths.cache_dir() / "features"
    return root / encoder.key


def image_key(path: Path) -> str | None:
    """Identity of one image file's current contents, or None when it cannot be stat'ed."""
    try:
        stat = path.stat()
    except OSError:
        return None
    identity = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def cached_features(encoder: Encoder, paths: Sequence[Path], *, batch_size: int = 16,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                    cache_root: Path | None = None, extract: Extract | None = None
                    ) -> FeatureSet:
    """Features for ``paths``, computing only what the cache lacks.

    ``extract`` computes the missing ones (default ``encoder.extract``; e.g. a cluster's
    extractor with the same signature fills the same cache). ``progress`` reports the images
    being extracted (the cached ones cost nothing to report). On ``Cancelled`` every finished
    batch is already on disk.
    """
    store = FeatureStore.open(cache_folder(encoder, cache_root), encoder.feature_dim)
    keys = {Path(p): image_key(Path(p)) for p in paths}
    missing = [path for path, key in keys.items() if key is None or not store.has(key)]
    errors: dict[Path, str] = {}
    extracted = 0
    pending: dict[str, np.ndarray] = {}

    def flush() -> None:
        if pending:
            store.add(list(pending), np.stack(list(pending.values())))
            pending.clear()

    try:
        for seen, item in enumerate((extract or encoder.extract)(
                missing, batch_size, progress=progress, cancel=cancel), 1):
            key = keys[item.path] or image_key(item.path)  # None: could not be stat'ed before
            if item.error is None and key is None:
                item = FeatureResult(item.path, None, f"{item.path} vanished while being read.")
            if item.error is not None:
                errors[item.path] = item.error
            else:
                pending[key] = item.features
                keys[item.path] = key
                extracted += 1
            # extract() yields whole batches; writing at batch ends keeps shards one per batch.
            if seen % batch_size == 0:
                flush()
    finally:
        flush()
    readable = [path for path in keys if path not in errors]
    rows = store.rows([keys[path] for path in readable])
    return FeatureSet(FeatureMap(rows, {path: row for row, path in enumerate(readable)}),
                      errors, extracted)
