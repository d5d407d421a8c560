"""On-disk cache of dataset features, so VGG16 runs over each image once, not once per training.

Layout: ``<cache>/features/<encoder key>/*.npz``. The encoder key covers the encoder config and
the weights checksum; inside, each entry is keyed by the image's absolute path, byte size and
modification time, so an edited or replaced photo is recomputed. Every batch is written as its
own small shard the moment it is done: an interrupted run (cancel, crash, power cut) keeps what
it finished and resumes there. A shard that cannot be read is logged, deleted, and its images
simply count as not cached. After a complete run the shards are merged into one, so the next
start opens one file instead of hundreds.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from desktop_captioner.core import paths as app_paths
from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.encoder import Encoder, FeatureResult
from desktop_captioner.core.progress import CancelToken, ProgressCallback

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".npz"


@dataclass
class FeatureSet:
    """Features of the readable images; unreadable ones are listed, not cached (retried later)."""

    features: dict[Path, np.ndarray] = field(default_factory=dict)
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


def _read_shard(shard: Path, feature_dim: int) -> dict[str, np.ndarray]:
    with np.load(shard, allow_pickle=False) as data:
        keys, features = data["keys"], data["features"]
    if (keys.ndim != 1 or keys.dtype.kind != "U" or features.dtype != np.float32
            or features.shape != (len(keys), feature_dim)):
        raise ValueError(f"unexpected arrays keys{keys.shape} features{features.shape}")
    return dict(zip(keys.tolist(), features))


def _load_folder(folder: Path, feature_dim: int) -> tuple[dict[str, np.ndarray], list[Path]]:
    """All readable entries, plus the shard files they came from; bad shards are removed."""
    entries: dict[str, np.ndarray] = {}
    shards: list[Path] = []
    for shard in sorted(folder.glob(f"*{SHARD_SUFFIX}")):
        try:
            entries.update(_read_shard(shard, feature_dim))
            shards.append(shard)
        except FileNotFoundError:
            continue  # merged away by another run of the app since the listing
        except Exception as exc:  # noqa: BLE001 - any unreadable shard is rebuilt, never fatal
            log.warning("Feature cache shard %s is damaged (%s: %s); its images will be "
                        "recomputed.", shard, exc.__class__.__name__, exc)
            with contextlib.suppress(OSError):  # e.g. held open elsewhere on Windows
                shard.unlink()
    return entries, shards


def _write_shard(folder: Path, entries: dict[str, np.ndarray]) -> Path:
    shard = folder / f"{uuid.uuid4().hex}{SHARD_SUFFIX}"
    with atomic_write(shard, "wb") as handle:
        np.savez(handle, keys=np.array(list(entries), dtype=str),
                 features=np.stack(list(entries.values())).astype(np.float32))
    return shard


def _compact(folder: Path, entries: dict[str, np.ndarray], shards: list[Path]) -> None:
    """Replace many shards by one. A crash midway leaves duplicates, which load harmlessly."""
    if len(shards) < 2:
        return
    _write_shard(folder, entries)
    for shard in shards:
        shard.unlink(missing_ok=True)


def cached_features(encoder: Encoder, paths: Sequence[Path], *, batch_size: int = 16,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                    cache_root: Path | None = None,
                    extract: Callable[..., Iterable[FeatureResult]] | None = None) -> FeatureSet:
    """Features for ``paths``, computing only what the cache lacks.

    ``progress`` reports the images being extracted (the cached ones cost nothing to report).
    ``extract`` computes the missing features instead of ``encoder.extract`` (same signature,
    e.g. a Ray cluster's ``ClusterExtractor``); ``encoder`` still names the cache folder.
    On ``Cancelled`` every finished batch is already on disk.
    """
    folder = cache_folder(encoder, cache_root)
    folder.mkdir(parents=True, exist_ok=True)
    entries, shards = _load_folder(folder, encoder.feature_dim)
    result = FeatureSet()
    keys = {Path(p): image_key(Path(p)) for p in paths}
    missing: list[Path] = []
    for path, key in keys.items():
        if key is not None and key in entries:
            result.features[path] = entries[key]
        else:
            missing.append(path)

    pending: dict[str, np.ndarray] = {}
    try:
        for seen, item in enumerate(
                (extract or encoder.extract)(missing, batch_size, progress=progress,
                                             cancel=cancel), 1):
            if item.error is not None:
                result.errors[item.path] = item.error
            else:
                result.features[item.path] = item.features
                result.extracted += 1
                if keys[item.path] is not None:
                    pending[keys[item.path]] = item.features
            # extract() yields whole batches; writing at batch ends keeps shards one per batch.
            if seen % batch_size == 0 and pending:
                shards.append(_write_shard(folder, pending))
                entries.update(pending)
                pending = {}
    finally:
        if pending:
            shards.append(_write_shard(folder, pending))
            entries.update(pending)
    _compact(folder, entries, shards)
    return result
