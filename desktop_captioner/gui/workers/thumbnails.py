"""Thumbnails decoded off the GUI thread, cached in memory (LRU) and on disk.

Only rows the view actually paints ask for a thumbnail, so adding 10,000 images decodes nothing
until the user scrolls to them; newer requests get a higher pool priority so the rows on screen
now are served before the ones scrolled past.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from desktop_captioner.core import paths
from desktop_captioner.core.atomic import atomic_write_bytes
from desktop_captioner.core.errors import describe_failure
from desktop_captioner.gui.workers.pool_job import run_in_pool

log = logging.getLogger(__name__)


def _disk_cache_file(path: Path, max_side: int) -> Path | None:
    """Cache file keyed by path, size, mtime and thumbnail size (None when the file is gone)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_side}"
    digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()
    return paths.cache_dir() / "thumbnails" / digest[:2] / f"{digest}.png"


def decode_thumbnail(path: Path, max_side: int, use_disk_cache: bool) -> QImage:
    """Decode (or read from the disk cache) one thumbnail; raises ImageLoadError."""
    cache_file = _disk_cache_file(path, max_side) if use_disk_cache else None
    if cache_file is not None and cache_file.is_file():
        image = QImage(str(cache_file))
        if not image.isNull():
            return image
    from desktop_captioner.core.images import load_thumbnail  # Pillow: after the window shows

    picture = load_thumbnail(path, max_side)
    data = picture.tobytes("raw", "RGB")
    image = QImage(data, picture.width, picture.height, 3 * picture.width,
                   QImage.Format.Format_RGB888).copy()  # copy: own the pixels, not `data`
    if cache_file is not None:
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
        try:
            atomic_write_bytes(cache_file, buffer.getvalue())
        except OSError as exc:  # a full or read-only cache never stops the thumbnail
            log.info("thumbnail cache write failed for %s: %s", cache_file, exc)
    return image


class ThumbnailLoader(QObject):
    """Hands out cached pixmaps and schedules decoding for the ones not cached yet."""

    thumbnail_ready = Signal(str)  # path; ask `pixmap(path)` again
    thumbnail_failed = Signal(str, str)  # path, reason

    def __init__(self, max_side: int, capacity: int = 2000, use_disk_cache: bool = True,
                 pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_side = max_side
        self.capacity = capacity
        self.use_disk_cache = use_disk_cache
        self.pool = pool or QThreadPool(self)
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: dict[str, str] = {}
        self._priority = itertools.count()

    def pixmap(self, path: str | Path) -> QPixmap | None:
        """The cached thumbnail, or None after scheduling it (ready later via thumbnail_ready)."""
        key = str(path)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            run_in_pool(self, decode_thumbnail, Path(key), self.max_side, self.use_disk_cache,
                        pool=self.pool, priority=min(next(self._priority), 2**30),
                        on_result=functools.partial(self._on_ready, key),
                        on_error=functools.partial(self._on_failed, key))
        return None

    def failure(self, path: str | Path) -> str:
        return self._failed.get(str(path), "")

    def shutdown(self) -> None:
        """Drop queued jobs and wait for running ones (called when the window closes)."""
        self.pool.clear()
        self.pool.waitForDone()

    def _on_ready(self, path: str, image: QImage) -> None:
        self._pending.discard(path)
        self._cache[path] = QPixmap.fromImage(image)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.thumbnail_ready.emit(path)

    def _on_failed(self, path: str, exc: Exception) -> None:
        self._pending.discard(path)
        reason = describe_failure(exc, f"The thumbnail of {Path(path).name} could not be made")
        self._failed[path] = reason
        self.thumbnail_failed.emit(path, reason)
