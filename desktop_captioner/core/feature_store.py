"""One encoder's feature cache folder: append-only shards read through memory maps.

A shard ``<uuid>.shard`` is two ``.npy`` arrays back to back: the image keys (``S32``, the hex
of ``feature_cache.image_key``), then the float32 ``rows × dim`` features. One atomic rename
publishes both, opening the cache reads only the key arrays, and feature rows are paged in by
the OS when they are read, so a cache of any size opens in little memory.

Shards are never modified. Every batch becomes a new shard; when ``FANOUT`` shards of the same
size tier (``floor(log_FANOUT(rows))``) are below ``TARGET_ROWS``, they are merged into one of a
higher tier, which is published before its inputs are deleted. A row is therefore rewritten at
most about ``log_FANOUT(TARGET_ROWS / batch size)`` times, shards of ``TARGET_ROWS`` rows or more
are never rewritten, and at most ``FANOUT - 1`` small shards per tier stay around. A crash midway
leaves duplicate rows, which read harmlessly (copies are dropped when they meet in a merge). Two
runs of the app may share the folder: names are unique, files appear by rename, a merge drops
only copies within its own inputs, and a shard that another run merged away
(``FileNotFoundError``) simply counts as not cached.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import uuid
from pathlib import Path
from typing import Sequence

import numpy as np

from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.feature_rows import FeatureRows

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".shard"
LEGACY_SUFFIX = ".npz"  # the cache format before shards were memory-mapped
KEY_DTYPE = np.dtype("S32")
FANOUT = 8
TARGET_ROWS = 8192  # 16 MB of 512-d features


class Shard:
    """One shard file: its keys in memory, its feature matrix mapped on first use."""

    def __init__(self, path: Path, keys: np.ndarray, offset: int, dim: int,
                 matrix: np.ndarray | None = None) -> None:
        self.path, self.keys, self._offset, self._dim = path, keys, offset, dim
        self._matrix = matrix

    @property
    def rows(self) -> int:
        return len(self.keys)

    @property
    def tier(self) -> int:
        return int(math.log(self.rows, FANOUT) + 1e-9)

    def matrix(self) -> np.ndarray:
        """The features, memory-mapped (``FileNotFoundError`` if another run merged it away)."""
        if self._matrix is None:
            self._matrix = np.memmap(self.path, np.float32, "r", offset=self._offset,
                                     shape=(self.rows, self._dim))
        return self._matrix


def read_shard(path: Path, dim: int) -> Shard:
    """A shard's keys and feature layout, checked against its size; ``ValueError`` if damaged."""
    with path.open("rb") as handle:
        keys = np.lib.format.read_array(handle, allow_pickle=False)
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(handle)
        offset = handle.tell()
        size = handle.seek(0, 2)
    if keys.dtype != KEY_DTYPE or keys.ndim != 1 or not len(keys):
        raise ValueError(f"unexpected keys {keys.dtype}{keys.shape}")
    if dtype != np.float32 or fortran_order or shape != (len(keys), dim):
        raise ValueError(f"unexpected features {dtype}{shape}")
    if size != offset + len(keys) * dim * 4:
        raise ValueError(f"{size} bytes where {offset + len(keys) * dim * 4} were expected")
    return Shard(path, keys, offset, dim)


def write_shard(folder: Path, keys: np.ndarray, features: np.ndarray) -> Shard:
    """Publish a new shard atomically and return it mapped (or in memory, in the rare case
    another run merged it away before it could be mapped)."""
    path = folder / f"{uuid.uuid4().hex}{SHARD_SUFFIX}"
    keys = np.asarray(keys, KEY_DTYPE)
    features = np.ascontiguousarray(features, np.float32)
    with atomic_write(path, "wb") as handle:
        np.lib.format.write_array(handle, keys, allow_pickle=False)
        np.lib.format.write_array(handle, features, allow_pickle=False)
    shard = Shard(path, keys, 0, features.shape[1], features)
    with contextlib.suppress(FileNotFoundError):
        shard = read_shard(path, features.shape[1])
        shard.matrix()
    return shard


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):  # gone already, or held open elsewhere on Windows
        path.unlink()


class FeatureStore:
    """The shards of one folder and where each key's row is; holds keys, never all features."""

    def __init__(self, folder: Path, dim: int) -> None:
        self.folder, self.dim = folder, dim
        self._shards: list[Shard] = []
        self._where: dict[bytes, tuple[Shard, int]] = {}

    @classmethod
    def open(cls, folder: Path, dim: int) -> FeatureStore:
        """Read every shard's keys; a damaged shard is logged and deleted, never fatal."""
        store = cls(folder, dim)
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob(f"*{SHARD_SUFFIX}")):
            try:
                store._index(read_shard(path, dim))
            except FileNotFoundError:
                continue  # merged away by another run of the app since the listing
            except Exception as exc:  # noqa: BLE001 - any unreadable shard is rebuilt
                store._discard(path, exc)
        for path in sorted(folder.glob(f"*{LEGACY_SUFFIX}")):
            store._convert_legacy(path)
        return store

    def __len__(self) -> int:
        return len(self._where)

    def _index(self, shard: Shard) -> None:
        """Add ``shard``; its rows win over copies of the same keys (equal, so either will do)."""
        self._shards.append(shard)
        self._where.update(zip(shard.keys.tolist(),
                               zip(itertools.repeat(shard), range(shard.rows))))

    def _discard(self, path: Path, exc: BaseException) -> None:
        log.warning("Feature cache shard %s is damaged (%s: %s); its images will be "
                    "recomputed.", path, exc.__class__.__name__, exc)
        _remove(path)

    def _convert_legacy(self, path: Path) -> None:
        """Rewrite a shard of the old ``.npz`` format as a new shard, once."""
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, features = data["keys"], data["features"]
            if keys.ndim != 1 or keys.dtype.kind != "U" or features.shape != (len(keys), self.dim):
                raise ValueError(f"unexpected arrays keys{keys.shape} features{features.shape}")
        except FileNotFoundError:
            return
        except Exception as exc:  # noqa: BLE001 - any unreadable shard is rebuilt
            self._discard(path, exc)
            return
        if len(keys):
            self.add(keys.astype(KEY_DTYPE), features)
        _remove(path)

    def _drop(self, shard: Shard) -> None:
        self._shards.remove(shard)
        for row, key in enumerate(shard.keys.tolist()):
            if self._where.get(key) == (shard, row):
                del self._where[key]

    def has(self, key: str) -> bool:
        """Whether ``key``'s row can be read now (its shard is mapped on the way)."""
        found = self._where.get(key.encode("ascii"))
        if found is None:
            return False
        try:
            found[0].matrix()
        except FileNotFoundError:  # merged away by another run: its rows count as missing
            self._drop(found[0])
            return False
        return True

    def rows(self, keys: Sequence[str]) -> FeatureRows:
        """The rows of ``keys`` (each one ``has``), in order, as a lazy memory-mapped matrix."""
        found = [self._where[key.encode("ascii")] for key in keys]
        number: dict[int, int] = {}
        blocks: list[np.ndarray] = []
        for shard, _ in found:
            if id(shard) not in number:
                number[id(shard)] = len(blocks)
                blocks.append(shard.matrix())
        return FeatureRows(blocks, np.array([number[id(shard)] for shard, _ in found], np.int32),
                           np.array([row for _, row in found], np.int64), self.dim)

    def add(self, keys: Sequence[str] | np.ndarray, features: np.ndarray) -> None:
        """Store one batch as a new shard (on disk when this returns), then merge its tier if
        it is full."""
        shard = write_shard(self.folder, np.asarray(keys, KEY_DTYPE), features)
        self._index(shard)
        self._compact(shard.tier)

    def _compact(self, tier: int) -> None:
        while True:
            group = [shard for shard in self._shards
                     if shard.rows < TARGET_ROWS and shard.tier == tier][:FANOUT]
            if len(group) < FANOUT:
                return
            merged = self._merge(group)
            if merged is None:
                return
            tier = merged.tier

    def _merge(self, group: Sequence[Shard]) -> Shard | None:
        """One shard holding every key of ``group`` once; the inputs are deleted only after it
        is published, so a row is never lost, whatever other runs do meanwhile."""
        keys: list[bytes] = []
        seen: set[bytes] = set()
        parts: list[np.ndarray] = []
        for shard in group:
            try:
                matrix = shard.matrix()
            except FileNotFoundError:
                continue  # merged away by another run, whose output holds these rows
            rows = []
            for row, key in enumerate(shard.keys.tolist()):
                if key not in seen:
                    seen.add(key)
                    keys.append(key)
                    rows.append(row)
            parts.append(matrix[rows])
        for shard in group:
            self._drop(shard)
        merged = write_shard(self.folder, np.array(keys, KEY_DTYPE),
                             np.concatenate(parts)) if keys else None
        if merged is not None:
            self._index(merged)
        for shard in group:
            _remove(shard.path)
        return merged
