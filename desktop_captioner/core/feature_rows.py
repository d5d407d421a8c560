"""Read-only feature matrices whose rows stay where they are stored (memory-mapped shards).

Training and evaluation index features by row; ``FeatureRows`` answers that indexing by
gathering only the rows asked for from the arrays that hold them, so a dataset's features never
have to be in memory all at once. ``FeatureMap`` puts names (paths, image names) in front of it.
"""

from __future__ import annotations

from typing import Hashable, Iterator, Mapping, Sequence, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
K2 = TypeVar("K2", bound=Hashable)


class FeatureRows:
    """An ``n × dim`` float32 matrix: row ``i`` is row ``row[i]`` of ``blocks[block[i]]``.

    Indexing with an int, a slice or an index array returns an ndarray copy of just those rows;
    ``take`` returns another lazy view. ``np.asarray`` gathers everything (for small matrices).
    """

    def __init__(self, blocks: Sequence[np.ndarray], block: np.ndarray, row: np.ndarray,
                 dim: int) -> None:
        self.blocks = tuple(blocks)
        self._block = np.asarray(block, np.int32)
        self._row = np.asarray(row, np.int64)
        self.shape = (len(self._row), dim)

    dtype = np.dtype(np.float32)
    ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        blocks, rows = self._block[index], self._row[index]
        if np.ndim(rows) == 0:
            return np.array(self.blocks[blocks][rows], np.float32)
        out = np.empty((len(rows), self.shape[1]), np.float32)
        for block in np.unique(blocks):
            chosen = blocks == block
            out[chosen] = self.blocks[block][rows[chosen]]
        return out

    def take(self, index) -> FeatureRows:
        """The rows ``index`` selects, as another lazy view (nothing is read)."""
        return FeatureRows(self.blocks, self._block[index], self._row[index], self.shape[1])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self[:]
        return rows if dtype is None else rows.astype(dtype, copy=False)


class FeatureMap(Mapping[K, np.ndarray]):
    """A read-only mapping from keys to rows of a ``FeatureRows``; it holds no features."""

    def __init__(self, rows: FeatureRows, position: Mapping[K, int]) -> None:
        self._rows = rows
        self._position = dict(position)

    def __getitem__(self, key: K) -> np.ndarray:
        return self._rows[self._position[key]]

    def __iter__(self) -> Iterator[K]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)

    def rows(self, keys: Sequence[K]) -> FeatureRows:
        """The rows of ``keys``, in that order, as a lazy matrix (``KeyError`` for an unknown)."""
        return self._rows.take(np.array([self._position[key] for key in keys], np.int64))

    def renamed(self, names: Mapping[K, K2]) -> FeatureMap[K2]:
        """The same rows under other keys (``names`` maps each old key to its new one)."""
        return FeatureMap(self._rows, {names[key]: position
                                       for key, position in self._position.items()})
